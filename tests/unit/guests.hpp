// Test helpers: paths and bytes of the guest plugins the build produced.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "wasmplug/runtime.hpp"

namespace wasmplug::test {

/// tests/guests/wat/<stem>.wat or c/<stem>.c, built to guest_<stem>.wasm.
inline std::string guest_path(std::string_view stem) {
  return std::string(WASMPLUG_GUEST_DIR) + "/guest_" + std::string(stem) + ".wasm";
}

inline std::string example_path(std::string_view name) {
  return std::string(WASMPLUG_EXAMPLE_DIR) + "/" + std::string(name) + ".wasm";
}

inline std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::vector<std::uint8_t> guest_bytes(std::string_view stem) { return read_file(guest_path(stem)); }

inline std::span<const std::uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

/// Collects guest log messages (thread-safe) for assertions.
class LogCapture {
 public:
  /// A RuntimeConfig whose log sink appends here; the capture must outlive it.
  RuntimeConfig config() {
    RuntimeConfig c;
    c.log_sink = [this](const LogRecord& r) {
      std::lock_guard lock(mutex_);
      messages_.emplace_back(r.message);
    };
    return c;
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

/// Resident set size of this process now (/proc/self/statm), in bytes.
/// Under AddressSanitizer it is 0: ASan keeps freed memory resident in its
/// quarantine, so RSS bounds only mean something in the plain build (which
/// runs every RSS test too).
inline std::size_t rss_bytes() {
#if defined(__SANITIZE_ADDRESS__)
  return 0;
#else
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
#endif
}

inline LoadOptions named(std::string name) {
  LoadOptions options;
  options.name = std::move(name);
  return options;
}

inline std::unique_ptr<Runtime> make_runtime(RuntimeConfig config = {}) {
  if (!config.log_sink) {
    config.log_sink = [](const LogRecord&) {};
  }
  auto rt = Runtime::create(std::move(config));
  EXPECT_TRUE(rt.ok()) << (rt.ok() ? "" : rt.error().to_string());
  return rt.ok() ? std::move(rt).value() : nullptr;
}

inline std::shared_ptr<const Plugin> load_guest(Runtime& rt, std::string_view stem, LoadOptions options = {}) {
  if (options.name == "plugin") {
    options.name = std::string(stem);
  }
  auto plugin = rt.load(guest_bytes(stem), options);
  EXPECT_TRUE(plugin.ok()) << (plugin.ok() ? "" : plugin.error().to_string());
  return plugin.ok() ? plugin.value() : nullptr;
}

/// Warm isolation with a pool of `max_instances`.
inline LoadOptions warm(std::uint32_t max_instances = 4) {
  LoadOptions options;
  options.isolation = Isolation::Warm;
  options.pool.max_instances = max_instances;
  return options;
}

/// The counter guest's answer (its instance's call count, 4 bytes little
/// endian); 0, and a test failure, when the call failed.
inline std::uint32_t count_of(const Result<Output>& out) {
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().to_string());
  if (!out.ok() || out->bytes.size() != 4) {
    return 0;
  }
  return out->bytes[0] | (out->bytes[1] << 8) | (out->bytes[2] << 16) | (out->bytes[3] << 24);
}

}  // namespace wasmplug::test
