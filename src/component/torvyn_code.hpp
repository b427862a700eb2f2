// The engine-specific part of a torvyn Component and the state of one
// Instance: handles from the Rust host (torvyn_ffi.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "component/torvyn_ffi.h"
#include "engine/engine.hpp"
#include "engine/handle.hpp"
#include "wasmplug/torvyn.hpp"

namespace wasmplug::detail {

using TvComponentHandle = Handle<wasmplug_tv_component, wasmplug_tv_component_free>;
using TvInstanceHandle = Handle<wasmplug_tv_instance, wasmplug_tv_instance_free>;

/// Rust-owned bytes, freed on destruction.
class TvBytes {
 public:
  TvBytes() = default;
  TvBytes(const TvBytes&) = delete;
  TvBytes& operator=(const TvBytes&) = delete;
  ~TvBytes() { wasmplug_tv_bytes_free(&bytes_); }
  [[nodiscard]] wasmplug_tv_bytes* out() noexcept { return &bytes_; }
  [[nodiscard]] std::string text() const {
    return bytes_.data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(bytes_.data), bytes_.len);
  }
  [[nodiscard]] std::span<const std::uint8_t> span() const noexcept { return {bytes_.data, bytes_.len}; }

 private:
  wasmplug_tv_bytes bytes_{nullptr, 0, 0};
};

struct ComponentCode {
  /// Keeps the engine (and its ticker) alive as long as the component.
  std::shared_ptr<const Engine> engine;
  TvComponentHandle component;  ///< admitted: typed instance-pre ready
};

struct TorvynInstanceState {
  const Engine* engine = nullptr;
  TvInstanceHandle instance;  ///< null after a trap until the next call re-creates it
  SlotLease slot;             ///< the engine's instance budget
  bool slot_held = false;
  wasmplug_tv_outcome out{};  ///< the last call's outcome (points into the instance)
  wasmplug_tv_limits limits{};
  torvyn::InstanceStats stats;
  std::optional<torvyn::ProcessErrorCase> last_case;
  std::uint32_t consecutive_unavailable = 0;
  std::chrono::steady_clock::time_point breaker_open_until{};
  /// Fuel the last guest instance had left when it was dropped (a trap).
  std::optional<std::uint64_t> fuel_left;
  bool fatal = false;        ///< fatal returned: torn down, takes nothing more
  bool torn_down = false;
};

/// Compiles (or deserializes) and admits: the Runtime's side of
/// load_component / inspect_component / deserialize_component.
[[nodiscard]] Result<std::shared_ptr<const torvyn::Component>> load_component(
    const std::shared_ptr<const Engine>& engine, ModuleCache& cache, std::span<const std::uint8_t> wasm,
    const torvyn::ComponentOptions& options);
[[nodiscard]] Result<torvyn::ComponentReport> inspect_component(const Engine& engine, ModuleCache& cache,
                                                                std::span<const std::uint8_t> wasm,
                                                                const torvyn::ComponentOptions& options);
[[nodiscard]] Result<std::shared_ptr<const torvyn::Component>> deserialize_component(
    const std::shared_ptr<const Engine>& engine, std::span<const std::uint8_t> serialized,
    const torvyn::ComponentOptions& options);

}  // namespace wasmplug::detail
