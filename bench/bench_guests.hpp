// Benchmark helpers shared by the suites: the test guests the build produced
// and a runtime whose guest logs go nowhere.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "wasmplug/runtime.hpp"

namespace wasmplug::bench {

/// Bytes of tests/guests/.../<stem>, built to guest_<stem>.wasm.
inline std::vector<std::uint8_t> read_guest(const std::string& stem) {
  std::ifstream in(std::string(WASMPLUG_GUEST_DIR) + "/guest_" + stem + ".wasm", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// One process-wide runtime (default config, log lines dropped).
inline Runtime& quiet_runtime() {
  static std::unique_ptr<Runtime> rt = [] {
    RuntimeConfig config;
    config.log_sink = [](const LogRecord&) {};
    return std::move(Runtime::create(config)).value();
  }();
  return *rt;
}

}  // namespace wasmplug::bench
