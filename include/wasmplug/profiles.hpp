// wasmplug — helpers specific to the seed ABI profiles (docs/profiles/).
#pragma once

#include <string_view>

#include "wasmplug/error.hpp"

namespace wasmplug {

/// The `phase` label the cc-lb runtime puts on `cc_lb_plugin_trap_total` for
/// this error: reject, instantiate, compile, engine_init, probe,
/// pool_saturated, or the guest phase (cc_lb_alloc, memory.write,
/// cc_lb_filter, cc_lb_shape, cc_lb_observe). Bounded set; never empty.
[[nodiscard]] std::string_view cc_lb_phase_label(const Error& error) noexcept;

}  // namespace wasmplug
