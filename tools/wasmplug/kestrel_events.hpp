// Kestrel events from JSON lines live in the library (src/pipeline/kestrel_events.hpp), shared with
// pipelines; these are their names in the CLI.
#pragma once

#include "pipeline/kestrel_events.hpp"

namespace wasmplug::cli {

using detail::load_schema;
using detail::to_event;

}  // namespace wasmplug::cli
