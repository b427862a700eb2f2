// JSON string escaping lives in the library (src/pipeline/json_out.hpp).
#pragma once

#include "pipeline/json_out.hpp"

namespace wasmplug::cli {

using detail::json_string;

}  // namespace wasmplug::cli
