// The CLI's subcommands. Each returns the process exit status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "loader.hpp"

namespace wasmplug::cli {

/// Exit statuses: 0 ok, 1 some record failed / module rejected, 2 usage or
/// setup error or any failed write; `run` stopped by a signal: 128 + signo
/// (130 SIGINT, 143 SIGTERM).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailures = 1;
inline constexpr int kExitSetup = 2;

struct RunOptions {
  PluginSetup setup;  ///< plugin, hook, config, isolation, limits
  std::string input = "-";
  std::string output = "-";
  std::string errors;  ///< empty: errors go to stderr
  std::string format = "jsonl";
};
int run(const RunOptions& options);

/// Most bytes of records `bench --input` holds in memory.
inline constexpr std::size_t kMaxBenchInputBytes = 64u << 20;

struct BenchOptions {
  PluginSetup setup;  ///< plugin, hook, config, isolation, limits
  std::string input;  ///< records, one per line; empty: one built-in 64-byte JSON record
  std::uint32_t threads = 1;
  double seconds = 2.0;
};
int bench(const BenchOptions& options);

struct InspectOptions {
  std::string plugin;
  bool json = false;
  bool wasi = false;
};
int inspect(const InspectOptions& options);

}  // namespace wasmplug::cli
