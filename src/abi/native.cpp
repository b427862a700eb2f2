#include "abi/native.hpp"

#include "abi/buffers.hpp"

#include <string>

namespace wasmplug::detail::native {

namespace {

using enum ValType;

struct GuestBuffer {
  std::uint32_t ptr = 0;
  std::uint32_t len = 0;
};

std::string_view export_name(Hook hook) {
  switch (hook) {
    case Hook::Filter: return "wp_filter";
    case Hook::Transform: return "wp_transform";
    case Hook::Observe: return "wp_observe";
  }
  return "?";
}

// copy_in's failures, built out of line (the strings stay off the warm path).
[[gnu::cold, gnu::noinline]] Error alloc_returned_null(Instance& instance, std::uint32_t len) {
  if (instance.memory_at_limit()) {
    return instance.state().error(ErrorKind::MemoryLimit,
                                  "wp_alloc returned 0 for " + std::to_string(len) +
                                      " bytes with memory at its limit of " +
                                      std::to_string(instance.plugin().limits().memory_bytes) + " bytes",
                                  Phase::Alloc);
  }
  return instance.state().error(ErrorKind::AbiViolation,
                                "wp_alloc returned 0 (allocation failure) for " + std::to_string(len) + " bytes",
                                Phase::Alloc);
}

[[gnu::cold, gnu::noinline]] Error alloc_misaligned(Instance& instance, std::uint32_t ptr) {
  return instance.state().error(ErrorKind::AbiViolation,
                                "wp_alloc returned " + std::to_string(ptr) + ", not aligned to " +
                                    std::to_string(kInputAlign),
                                Phase::Alloc);
}

// alloc → alignment check → write. Ownership of the buffer passes to the
// guest with the call that receives it. An empty input is passed as (0, 0)
// without calling the allocator. False (and `failure` set) when a step
// failed: no Result per step on the warm path.
[[gnu::always_inline]] inline bool copy_in(Instance& instance, std::span<const std::uint8_t> bytes,
                                           GuestBuffer& buffer, StepFailure& failure) {
  if (bytes.empty()) {
    buffer = GuestBuffer{};
    return true;
  }
  const auto len = static_cast<std::uint32_t>(bytes.size());
  std::uint32_t ptr = 0;
  if (!instance.call_into(ptr, failure, *instance.func(kAlloc), Phase::Alloc, len, kInputAlign)) [[unlikely]] {
    return false;
  }
  if (ptr == 0) [[unlikely]] {
    failure = alloc_returned_null(instance, len);
    return false;
  }
  if (ptr % kInputAlign != 0) [[unlikely]] {
    failure = alloc_misaligned(instance, ptr);
    return false;
  }
  if (!write_guest_into(instance, ptr, bytes, "wp_alloc", failure)) [[unlikely]] {
    return false;
  }
  buffer = GuestBuffer{ptr, len};
  return true;
}

[[gnu::cold, gnu::noinline]] Error null_output(Instance& instance, std::uint32_t out_len) {
  return instance.state().error(ErrorKind::AbiViolation,
                                "wp_transform returned a null pointer with length " + std::to_string(out_len),
                                Phase::Read);
}

[[gnu::cold, gnu::noinline]] Error missing_hook(Instance& instance, Hook hook) {
  return instance.state().error(ErrorKind::InvalidArgument,
                                "the plugin does not export " + std::string(export_name(hook)), Phase::Call);
}

}  // namespace

const AbiSpec& spec() {
  static const AbiSpec kSpec{
      AbiProfile::Native,
      "wasmplug_abi_version_",
      1,
      {HostSet::Core},
      "memory",
      {
          {"wp_alloc", {{I32, I32}, {I32}}, true, std::nullopt},
          {"wp_free", {{I32, I32, I32}, {}}, true, std::nullopt},
          {"_initialize", {{}, {}}, false, std::nullopt},
          {"wp_init", {{I32, I32}, {I32}}, false, std::nullopt},
          {"wp_shutdown", {{}, {I32}}, false, std::nullopt},
          {"wp_filter", {{I32, I32}, {I32}}, false, Hook::Filter},
          {"wp_transform", {{I32, I32}, {I64}}, false, Hook::Transform},
          {"wp_observe", {{I32, I32}, {}}, false, Hook::Observe},
      },
  };
  return kSpec;
}

Result<void> initialize(Instance& instance) {
  if (auto ctors = run_reactor_initializer(instance, instance.func(kInitialize)); !ctors) {
    return ctors;
  }
  const wasmtime_func_t* init = instance.func(kInit);
  if (init == nullptr) {
    return {};
  }
  const auto& config = instance.plugin().config();
  GuestBuffer buffer;
  if (StepFailure failure; !copy_in(instance, config, buffer, failure)) {
    return failure.take();
  }
  auto status = instance.call<std::int32_t>(*init, Phase::Init, buffer.ptr, buffer.len);
  if (!status) {
    return std::move(status).error();
  }
  if (*status != 0) {
    return instance.state().error(ErrorKind::GuestError,
                                  "wp_init rejected its config (returned " + std::to_string(*status) + ")",
                                  Phase::Init);
  }
  return {};
}

// The output of transform is read straight into the Output that is
// returned; each step reports a failure through `failure` and the one
// Result is built at the end.
Result<Output> invoke(Instance& instance, Hook hook, std::span<const std::uint8_t> input) {
  const wasmtime_func_t* entry = instance.func(kFilter + static_cast<std::size_t>(hook));
  if (entry == nullptr) [[unlikely]] {
    return missing_hook(instance, hook);
  }
  StepFailure failure;
  GuestBuffer buffer;
  if (!copy_in(instance, input, buffer, failure)) [[unlikely]] {
    return failure.take();
  }
  switch (hook) {
    case Hook::Filter: {
      std::int32_t answer = 0;
      if (!instance.call_into(answer, failure, *entry, Phase::Call, buffer.ptr, buffer.len)) [[unlikely]] {
        return failure.take();
      }
      return verdict(instance, answer, "wp_filter", "1 (keep) or 0 (drop)");
    }
    case Hook::Transform: {
      std::uint64_t packed = 0;
      if (!instance.call_into(packed, failure, *entry, Phase::Call, buffer.ptr, buffer.len)) [[unlikely]] {
        return failure.take();
      }
      // The output buffer stays the guest's: it must stay valid until the
      // host has read it, and the guest may reuse or free it on its next call.
      const auto out_ptr = static_cast<std::uint32_t>(packed >> 32);
      const auto out_len = static_cast<std::uint32_t>(packed & 0xFFFF'FFFFu);
      if (out_ptr == 0) [[unlikely]] {
        if (out_len == 0) {
          return Output{Output::Kind::Drop, {}};
        }
        return null_output(instance, out_len);
      }
      Output out{Output::Kind::Bytes, {}};
      if (!read_guest_into(instance, out_ptr, out_len, "wp_transform", out.bytes, failure)) [[unlikely]] {
        return failure.take();
      }
      return out;
    }
    case Hook::Observe: {
      if (!instance.call_into(failure, *entry, Phase::Call, buffer.ptr, buffer.len)) [[unlikely]] {
        return failure.take();
      }
      return Output{Output::Kind::Done, {}};
    }
  }
  return Output{};
}

Result<void> shutdown(Instance& instance) {
  const wasmtime_func_t* fn = instance.func(kShutdown);
  if (fn == nullptr) {
    return {};
  }
  auto status = instance.call<std::int32_t>(*fn, Phase::Shutdown);
  if (!status) {
    return std::move(status).error();
  }
  if (*status != 0) {
    return instance.state().error(ErrorKind::GuestError,
                                  "wp_shutdown returned " + std::to_string(*status), Phase::Shutdown);
  }
  return {};
}

}  // namespace wasmplug::detail::native
