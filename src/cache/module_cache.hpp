// The on-disk compiled-code cache (README.md in this folder has the file
// format and the reasons behind it).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "engine/handle.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

class LogQueue;

/// Compiles modules through the on-disk cache when one is configured, and
/// counts what happened. Thread-safe; several processes may share a
/// directory. Never fails a compile because of the cache: every cache
/// problem is a miss, counted and logged (the first I/O problem in detail).
class ModuleCache {
 public:
  /// `engine_settings` names every engine setting that changes generated
  /// code (compile_settings() in engine.cpp); it is part of every key.
  ModuleCache(ModuleCacheConfig config, std::string engine_settings, LogQueue& logs);
  ModuleCache(const ModuleCache&) = delete;
  ModuleCache& operator=(const ModuleCache&) = delete;

  /// Like wasmtime_module_new, but first looks for a verified entry for
  /// `module_hash` (hex SHA-256 of `wasm`), and stores what it compiled.
  [[nodiscard]] wasmtime_error_t* compile(wasm_engine_t* engine, const std::string& module_hash,
                                          std::span<const std::uint8_t> wasm, wasmtime_module_t** out);

  /// The same for a torvyn component (whose code the Rust host makes):
  /// `deserialize` gets the bytes of a verified entry (false: incompatible,
  /// a miss), else `compile` runs (false: failed, nothing stored) and
  /// `serialize`'s bytes (empty: cannot) are stored. True when a component
  /// was made either way.
  [[nodiscard]] bool compile_component(const std::string& component_hash,
                                       const std::function<bool(std::span<const std::uint8_t>)>& deserialize,
                                       const std::function<bool()>& compile,
                                       const std::function<std::vector<std::uint8_t>()>& serialize);

  [[nodiscard]] ModuleCacheStats stats() const noexcept;

  /// The entry file for a module hash (for tests and docs; "" when off).
  [[nodiscard]] std::filesystem::path entry_path(const std::string& module_hash) const;
  /// The entry file for a component hash ("" when off).
  [[nodiscard]] std::filesystem::path component_entry_path(const std::string& component_hash) const;

 private:
  [[nodiscard]] bool open_directory();
  [[nodiscard]] ModuleHandle find(wasm_engine_t* engine, const std::array<std::uint8_t, 32>& key,
                                  const std::filesystem::path& path);
  /// Reads and verifies an entry and hands its code bytes to `use`; true
  /// when `use` took them. Counts a rejected entry.
  [[nodiscard]] bool read_entry(const std::array<std::uint8_t, 32>& key, const std::filesystem::path& path,
                                const std::function<bool(std::span<const std::uint8_t>)>& use);
  void store(const wasmtime_module_t* module, const std::array<std::uint8_t, 32>& key,
             const std::filesystem::path& path);
  void store_bytes(std::span<const std::uint8_t> serialized, const std::array<std::uint8_t, 32>& key,
                   const std::filesystem::path& path);
  void evict(const std::filesystem::path& keep);
  [[nodiscard]] std::array<std::uint8_t, 32> key_of(const std::string& module_hash) const;
  void problem(const std::string& message);

  ModuleCacheConfig config_;
  std::string engine_settings_;
  LogQueue& logs_;
  bool enabled_ = false;
  std::vector<std::uint8_t> secret_;  // the MAC key from <directory>/key
  std::atomic<bool> reported_{false};
  std::mutex evict_mutex_;  // one eviction scan at a time in this process
  std::atomic<std::uint64_t> hits_{0}, misses_{0}, rejected_{0}, stores_{0}, evictions_{0}, errors_{0},
      compiles_{0};
};

}  // namespace wasmplug::detail
