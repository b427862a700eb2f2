// Kestrel rules as pipeline processors (abi = "kestrel").
#pragma once

#include "wasmplug/pipeline.hpp"

namespace wasmplug::detail {

/// Loads `spec.path` as the rule `spec.name` with the schema `spec.schema`;
/// alerts go to `spec.alerts` ("-" = stderr). `threads` warm instances.
[[nodiscard]] Result<std::unique_ptr<pipeline::Processor>> make_kestrel_processor(Runtime& runtime, const pipeline::ProcessorSpec& spec,
                                                                        std::uint32_t threads);

}  // namespace wasmplug::detail
