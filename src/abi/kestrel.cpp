#include "abi/kestrel.hpp"

#include <string>

#include "abi/buffers.hpp"

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
  return run_reactor_initializer(instance, instance.func(kInitialize));
}

Result<Output> invoke(Instance& instance, Hook hook) {
  if (hook != Hook::Filter) {
    return instance.state().error(ErrorKind::InvalidArgument, "Kestrel predicates have only pred_eval (Hook::Filter)",
                                  Phase::Call);
  }
  std::int32_t answer = 0;
  if (StepFailure failure;
      !instance.call_into(answer, failure, *instance.func(kPredEval), Phase::Call)) [[unlikely]] {
    return failure.take();
  }
  if (answer == 1 || answer == 0) [[likely]] {
    return Output{answer == 1 ? Output::Kind::Keep : Output::Kind::Drop, {}};
  }
  return verdict(instance, answer, "pred_eval", "1 (match) or 0");  // words the AbiViolation
}

}  // namespace wasmplug::detail::kestrel_abi
