// Errors the pipeline makes itself (configuration, stage input), as opposed
// to the ones plugin calls return.
#pragma once

#include <string>
#include <utility>

#include "wasmplug/error.hpp"

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

}  // namespace wasmplug::pipeline
