#include "abi/rustcdc.hpp"

#include <simdjson.h>

#include <string>

#include "abi/buffers.hpp"

namespace wasmplug::detail::rustcdc {

namespace {

using enum ValType;

// Events are canonical JSON in and out. A parser per check keeps adapters
// stateless; events are small and the seed's budget is 1 ms per event.
std::optional<std::string> json_problem(std::span<const std::uint8_t> bytes) {
  // simdjson copies from the pointer even for 0 bytes, and an empty vector's
  // data() is null (found by fuzz_guest under UBSan).
  if (bytes.empty()) {
    return std::string("empty input");
  }
  simdjson::dom::parser parser;
  auto error = parser.parse(reinterpret_cast<const char*>(bytes.data()), bytes.size(), true).error();
  if (error != simdjson::SUCCESS) {
    return std::string(simdjson::error_message(error));
  }
  return std::nullopt;
}

// alloc(len) → write. The guest owns the buffer afterwards (the seed has no free).
Result<std::uint32_t> copy_in(Instance& instance, std::span<const std::uint8_t> bytes) {
  const auto len = static_cast<std::uint32_t>(bytes.size());
  auto ptr = instance.call<std::uint32_t>(*instance.func(kAlloc), Phase::Alloc, len);
  if (!ptr) {
    return std::move(ptr).error();
  }
  if (*ptr == 0 && len > 0) {
    return instance.state().error(instance.memory_at_limit() ? ErrorKind::MemoryLimit : ErrorKind::AbiViolation,
                                  "alloc returned 0 for " + std::to_string(len) + " bytes", Phase::Alloc);
  }
  if (auto written = write_guest(instance, *ptr, bytes, "alloc"); !written) {
    return std::move(written).error();
  }
  return *ptr;
}

Result<void> status_call(Instance& instance, std::size_t index, Phase phase, std::string_view name,
                         std::optional<std::pair<std::uint32_t, std::uint32_t>> args) {
  const wasmtime_func_t* fn = instance.func(index);
  if (fn == nullptr) {
    return {};
  }
  auto status = args ? instance.call<std::int32_t>(*fn, phase, args->first, args->second)
                     : instance.call<std::int32_t>(*fn, phase);
  if (!status) {
    return std::move(status).error();
  }
  if (*status != 0) {
    return instance.state().error(ErrorKind::GuestError,
                                  std::string(name) + " returned " + std::to_string(*status), phase);
  }
  return {};
}

}  // namespace

const AbiSpec& spec() {
  static const AbiSpec kSpec{
      AbiProfile::Rustcdc,
      "",  // no version marker in the rustcdc contract
      1,
      {HostSet::Rustcdc},
      "memory",
      {
          {"alloc", {{I32}, {I32}}, true, std::nullopt},
          {"transform", {{I32, I32}, {I32}}, true, Hook::Transform},
          {"output_len", {{}, {I32}}, true, std::nullopt},
          {"init", {{I32, I32}, {I32}}, false, std::nullopt},
          {"shutdown", {{}, {I32}}, false, std::nullopt},
          {"_initialize", {{}, {}}, false, std::nullopt},  // WASI reactor initialiser of C/C++ guests
      },
  };
  return kSpec;
}

Result<void> initialize(Instance& instance) {
  if (auto ctors = run_reactor_initializer(instance, instance.func(kInitialize)); !ctors) {
    return ctors;
  }
  if (instance.func(kInit) == nullptr) {
    return {};
  }
  auto ptr = copy_in(instance, instance.plugin().config());
  if (!ptr) {
    return std::move(ptr).error();
  }
  return status_call(instance, kInit, Phase::Init, "init",
                     std::pair{*ptr, static_cast<std::uint32_t>(instance.plugin().config().size())});
}

Result<Output> invoke(Instance& instance, Hook hook, std::span<const std::uint8_t> input) {
  CallState& state = instance.state();
  if (hook != Hook::Transform) {
    return state.error(ErrorKind::InvalidArgument, "rustcdc plugins have only the transform hook", Phase::Call);
  }
  if (auto problem = json_problem(input)) {
    return state.error(ErrorKind::InvalidArgument, "the input event is not valid JSON: " + *problem, Phase::Write);
  }
  auto ptr = copy_in(instance, input);
  if (!ptr) {
    return std::move(ptr).error();
  }
  auto result = instance.call<std::int32_t>(*instance.func(kTransform), Phase::Call, *ptr,
                                            static_cast<std::uint32_t>(input.size()));
  if (!result) {
    return std::move(result).error();
  }
  if (*result == -1) {
    return Output{Output::Kind::Drop, {}};
  }
  if (*result < -1) {
    return state.error(ErrorKind::GuestError, "transform failed (returned " + std::to_string(*result) + ")",
                       Phase::Call);
  }
  auto len = instance.call<std::int32_t>(*instance.func(kOutputLen), Phase::Read);
  if (!len) {
    return std::move(len).error();
  }
  if (*len < 0) {
    return state.error(ErrorKind::AbiViolation, "output_len returned " + std::to_string(*len), Phase::Read);
  }
  auto bytes = read_guest(instance, static_cast<std::uint32_t>(*result), static_cast<std::uint32_t>(*len),
                          "transform");
  if (!bytes) {
    return std::move(bytes).error();
  }
  if (auto problem = json_problem(*bytes)) {
    return state.error(ErrorKind::GuestError, "the transform output is not a valid JSON event: " + *problem,
                       Phase::Read);
  }
  return Output{Output::Kind::Bytes, std::move(bytes).value()};
}

Result<void> shutdown(Instance& instance) {
  return status_call(instance, kShutdown, Phase::Shutdown, "shutdown", std::nullopt);
}

}  // namespace wasmplug::detail::rustcdc
