#include "abi/cc_lb.hpp"

#include <string>

#include "abi/buffers.hpp"
#include "wasmplug/profiles.hpp"

namespace wasmplug::detail::cc_lb {

namespace {

using enum ValType;

std::size_t export_of(Hook hook) {
  switch (hook) {
    case Hook::Filter: return kFilter;
    case Hook::Transform: return kShape;
    case Hook::Observe: return kObserve;
  }
  return kFilter;
}

}  // namespace

const AbiSpec& spec() {
  static const AbiSpec kSpec{
      AbiProfile::CcLb,
      "",  // cc-lb modules carry no version marker
      1,
      {},  // no host imports: HostState is empty in the seed
      "memory",
      {
          {"cc_lb_alloc", {{I32, I32}, {I32}}, true, std::nullopt},
          {"cc_lb_free", {{I32, I32, I32}, {}}, true, std::nullopt},
          {"cc_lb_filter", {{I32, I32}, {I64}}, false, Hook::Filter},
          {"cc_lb_shape", {{I32, I32}, {I64}}, false, Hook::Transform},
          {"cc_lb_observe", {{I32, I32}, {I64}}, false, Hook::Observe},
          {"_initialize", {{}, {}}, false, std::nullopt},
      },
  };
  return kSpec;
}

Result<void> initialize(Instance& instance) {
  return run_reactor_initializer(instance, instance.func(kInitialize));
}

// alloc → write → hook → read, exactly as the seed's execute_call_inner: the
// guest frees the input, the output is not freed (the store is dropped or
// the guest reuses it), only observe may return (0, 0).
Result<Output> invoke(Instance& instance, Hook hook, std::span<const std::uint8_t> input) {
  const std::size_t index = export_of(hook);
  const std::string_view name = spec().exports[index].name;
  const wasmtime_func_t* entry = instance.func(index);
  CallState& state = instance.state();
  if (entry == nullptr) {
    return state.error(ErrorKind::InvalidArgument, "the plugin does not export " + std::string(name), Phase::Call);
  }
  const auto len = static_cast<std::uint32_t>(input.size());
  auto ptr = instance.call<std::uint32_t>(*instance.func(kAlloc), Phase::Alloc, len, kInputAlign);
  if (!ptr) {
    return std::move(ptr).error();
  }
  if (*ptr == 0) {
    // The seed treats a null allocation as a guest trap in phase cc_lb_alloc
    // (writing at 0 would corrupt the guest's data).
    Error e = state.error(ErrorKind::Trap,
                          "cc_lb_alloc: guest returned null pointer for " + std::to_string(len) + "-byte allocation",
                          Phase::Alloc);
    e.trap = TrapCode::Other;
    return e;
  }
  if (auto written = write_guest(instance, *ptr, input, "cc_lb_alloc"); !written) {
    return std::move(written).error();
  }
  auto packed = instance.call<std::uint64_t>(*entry, Phase::Call, *ptr, len);
  if (!packed) {
    return std::move(packed).error();
  }
  const auto out_ptr = static_cast<std::uint32_t>(*packed >> 32);
  const auto out_len = static_cast<std::uint32_t>(*packed & 0xFFFF'FFFFu);
  if (hook == Hook::Observe && out_ptr == 0 && out_len == 0) {
    return Output{Output::Kind::Done, {}};
  }
  if (out_ptr == 0 || out_len == 0) {
    return state.error(ErrorKind::AbiViolation,
                       std::string(name) + ": guest returned invalid (ptr=" + std::to_string(out_ptr) +
                           ", len=" + std::to_string(out_len) + "); only observe may return (0, 0)",
                       Phase::Read);
  }
  auto bytes = read_guest(instance, out_ptr, out_len, name);
  if (!bytes) {
    return std::move(bytes).error();
  }
  return Output{Output::Kind::Bytes, std::move(bytes).value()};
}

}  // namespace wasmplug::detail::cc_lb

namespace wasmplug {

std::string_view cc_lb_phase_label(const Error& error) noexcept {
  if (error.message.starts_with("canary probe failed")) {
    return "probe";
  }
  switch (error.kind) {
    case ErrorKind::Rejected:
    case ErrorKind::AbiViolation:  // the seed reports bad outputs as ModuleRejected
    case ErrorKind::LimitExceeded:
      return "reject";
    case ErrorKind::CompileFailed: return "compile";
    case ErrorKind::InstantiateFailed: return "instantiate";
    case ErrorKind::PoolSaturated: return "pool_saturated";
    case ErrorKind::InvalidArgument:
    case ErrorKind::Io:
      return error.phase == Phase::Config ? "engine_init" : "reject";
    default: break;
  }
  switch (error.phase) {
    case Phase::Alloc: return "cc_lb_alloc";
    case Phase::Write: return "memory.write";
    case Phase::Call:
    case Phase::Read:
      if (error.hook == "filter") return "cc_lb_filter";
      if (error.hook == "transform") return "cc_lb_shape";
      if (error.hook == "observe") return "cc_lb_observe";
      return "reject";
    case Phase::Config: return "engine_init";
    case Phase::Compile: return "compile";
    default: return "instantiate";
  }
}

}  // namespace wasmplug
