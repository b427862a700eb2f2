// Running the wasmplug CLI from a test: its exit status and what it printed.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace wasmplug::test {

struct Outcome {
  int status;  ///< exit status; -1 when killed by a signal
  std::string stdout_text;
  std::string stderr_text;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs `cli args` through the shell, its stdout and stderr captured in files under `dir`.
inline Outcome run_cli(const std::string& cli, const std::string& args, const std::filesystem::path& dir) {
  std::string cmd = cli + " " + args + " >" + (dir / "stdout").string() + " 2>" + (dir / "stderr").string();
  int raw = std::system(cmd.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(dir / "stdout"), slurp(dir / "stderr")};
}

}  // namespace wasmplug::test
