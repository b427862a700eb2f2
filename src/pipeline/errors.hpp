// Errors the pipeline makes itself (configuration, stage input), as opposed
// to the ones plugin calls return, and the record-level form of an error.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "wasmplug/error.hpp"
#include "wasmplug/pipeline.hpp"

namespace wasmplug::pipeline {

inline Error pipeline_error(ErrorKind kind, Phase phase, std::string message) {
  Error e;
  e.kind = kind;
  e.phase = phase;
  e.message = std::move(message);
  return e;
}

/// A bad option, key or value: InvalidArgument, phase Config.
inline Error config_error(std::string message) {
  return pipeline_error(ErrorKind::InvalidArgument, Phase::Config, std::move(message));
}

/// Why `stage` failed a record, as the record carries it to the dead-letter file.
inline RecordError record_error(std::string_view stage, const Error& e) {
  return RecordError{std::string(stage), std::string(to_string(e.kind)), std::string(to_string(e.phase)), e.message};
}

}  // namespace wasmplug::pipeline
