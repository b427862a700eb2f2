#include "abi/kestrel.hpp"

#include <string>

namespace wasmplug::detail::kestrel_abi {

namespace {
using enum ValType;
}  // namespace

const AbiSpec& spec() {
  static const AbiSpec kSpec{
      AbiProfile::Kestrel,
      "",  // no version marker in Kestrel modules
      1,
      {HostSet::Kestrel},
      "memory",
      {
          {"pred_eval", {{}, {I32}}, true, Hook::Filter},
          {"_initialize", {{}, {}}, false, std::nullopt},
      },
      "Kestrel field functions take (field_id) without an event handle, and string/pattern functions take "
      "(ptr, len) pairs; see docs/profiles/kestrel.md",
  };
  return kSpec;
}

Result<void> initialize(Instance& instance) {
  if (const wasmtime_func_t* ctors = instance.func(kInitialize)) {
    return instance.call<void>(*ctors, Phase::Init);
  }
  return {};
}

Result<Output> invoke(Instance& instance, Hook hook) {
  if (hook != Hook::Filter) {
    return instance.state().error(ErrorKind::InvalidArgument, "Kestrel predicates have only pred_eval (Hook::Filter)",
                                  Phase::Call);
  }
  auto verdict = instance.call<std::int32_t>(*instance.func(kPredEval), Phase::Call);
  if (!verdict) {
    return std::move(verdict).error();
  }
  if (*verdict == 1) {
    return Output{Output::Kind::Keep, {}};
  }
  if (*verdict == 0) {
    return Output{Output::Kind::Drop, {}};
  }
  return instance.state().error(ErrorKind::AbiViolation,
                                "pred_eval returned " + std::to_string(*verdict) + "; expected 1 (match) or 0",
                                Phase::Call);
}

}  // namespace wasmplug::detail::kestrel_abi
