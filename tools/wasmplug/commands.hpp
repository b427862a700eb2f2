// The CLI's subcommands. Each returns the process exit status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "error_sink.hpp"
#include "loader.hpp"

namespace wasmplug::cli {

/// Exit statuses: 0 ok, 1 some record or call failed / module rejected, 2
/// usage or setup error or any failed write; `run` stopped by a signal:
/// 128 + signo (130 SIGINT, 143 SIGTERM).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailures = 1;
inline constexpr int kExitSetup = 2;

/// Worker threads when --threads is not given: the hardware's, at least 1.
[[nodiscard]] std::uint32_t default_threads();

struct RunOptions {
  PluginSetup setup;  ///< plugin, profile, hook, config, isolation, limits
  std::string input = "-";
  std::string output = "-";
  std::string errors;  ///< empty: errors go to stderr
  std::string alerts;  ///< kestrel alerts as JSON lines; empty: stderr
  std::string format = "jsonl";
  std::uint32_t threads = default_threads();
  std::size_t max_error_record_bytes = kDefaultMaxErrorRecordBytes;
  std::string metrics_addr;  ///< --metrics-addr HOST:PORT; empty: no metrics endpoint
  bool json = false;  ///< the summary as one JSON object
};
int run(const RunOptions& options);

/// Most bytes of records `bench --input` holds in memory.
inline constexpr std::size_t kMaxBenchInputBytes = 64u << 20;

struct BenchOptions {
  PluginSetup setup;  ///< plugin, profile, hook, config, isolation, limits
  std::string input;  ///< records, one per line; empty: one built-in 64-byte JSON record
  std::uint32_t threads = 1;
  double seconds = 2.0;
  std::string metrics_addr;  ///< --metrics-addr HOST:PORT; empty: no metrics endpoint
  bool json = false;
};
int bench(const BenchOptions& options);

struct InspectOptions {
  std::string plugin;
  std::string abi;  ///< empty: guessed from the module's imports and exports
  bool json = false;
  bool wasi = false;
};
int inspect(const InspectOptions& options);

/// `wasmplug pipeline run|check FILE`.
struct PipelineCommandOptions {
  std::string file;
  bool dry_run = false;  ///< run: only check the file and load its plugins
  bool json = false;     ///< the summary as one JSON object
  std::string cache_dir;
  bool no_cache = false;
  std::string metrics_addr;  ///< run: --metrics-addr (empty: off)
};
/// Runs the pipeline; exit status as `run`: 0, 1 some record failed, 2 setup
/// or I/O error, 128 + signo when stopped by SIGINT/SIGTERM (after draining).
int pipeline_run(const PipelineCommandOptions& options);
/// Parses the file and loads its plugins; opens no source, sink or dead-letter file.
int pipeline_check(const PipelineCommandOptions& options);

}  // namespace wasmplug::cli
