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

// alloc → alignment check → write. Ownership of the buffer passes to the
// guest with the call that receives it. An empty input is passed as (0, 0)
// without calling the allocator.
Result<GuestBuffer> copy_in(Instance& instance, std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) {
    return GuestBuffer{};
  }
  const auto len = static_cast<std::uint32_t>(bytes.size());
  auto ptr = instance.call<std::uint32_t>(*instance.func(kAlloc), Phase::Alloc, len, kInputAlign);
  if (!ptr) {
    return std::move(ptr).error();
  }
  CallState& state = instance.state();
  if (*ptr == 0) {
    if (instance.memory_at_limit()) {
      return state.error(ErrorKind::MemoryLimit,
                         "wp_alloc returned 0 for " + std::to_string(len) +
                             " bytes with memory at its limit of " +
                             std::to_string(instance.plugin().limits().memory_bytes) + " bytes",
                         Phase::Alloc);
    }
    return state.error(ErrorKind::AbiViolation,
                       "wp_alloc returned 0 (allocation failure) for " + std::to_string(len) + " bytes",
                       Phase::Alloc);
  }
  if (*ptr % kInputAlign != 0) {
    return state.error(ErrorKind::AbiViolation,
                       "wp_alloc returned " + std::to_string(*ptr) + ", not aligned to " +
                           std::to_string(kInputAlign),
                       Phase::Alloc);
  }
  if (auto written = write_guest(instance, *ptr, bytes, "wp_alloc"); !written) {
    return std::move(written).error();
  }
  return GuestBuffer{*ptr, len};
}

// The output buffer stays the guest's: it must stay valid until the host has
// read it, and the guest may reuse or free it on its next call.
Result<Output> read_transform_output(Instance& instance, std::uint64_t packed) {
  const auto out_ptr = static_cast<std::uint32_t>(packed >> 32);
  const auto out_len = static_cast<std::uint32_t>(packed & 0xFFFF'FFFFu);
  if (out_ptr == 0 && out_len == 0) {
    return Output{Output::Kind::Drop, {}};
  }
  if (out_ptr == 0) {
    return instance.state().error(ErrorKind::AbiViolation,
                                  "wp_transform returned a null pointer with length " + std::to_string(out_len),
                                  Phase::Read);
  }
  auto bytes = read_guest(instance, out_ptr, out_len, "wp_transform");
  if (!bytes) {
    return std::move(bytes).error();
  }
  return Output{Output::Kind::Bytes, std::move(bytes).value()};
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
  auto buffer = copy_in(instance, config);
  if (!buffer) {
    return std::move(buffer).error();
  }
  auto status = instance.call<std::int32_t>(*init, Phase::Init, buffer->ptr, buffer->len);
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

Result<Output> invoke(Instance& instance, Hook hook, std::span<const std::uint8_t> input) {
  const wasmtime_func_t* entry = instance.func(kFilter + static_cast<std::size_t>(hook));
  if (entry == nullptr) {
    return instance.state().error(ErrorKind::InvalidArgument,
                                  "the plugin does not export " + std::string(export_name(hook)),
                                  Phase::Call);
  }
  auto buffer = copy_in(instance, input);
  if (!buffer) {
    return std::move(buffer).error();
  }
  switch (hook) {
    case Hook::Filter: {
      auto answer = instance.call<std::int32_t>(*entry, Phase::Call, buffer->ptr, buffer->len);
      if (!answer) {
        return std::move(answer).error();
      }
      return verdict(instance, *answer, "wp_filter", "1 (keep) or 0 (drop)");
    }
    case Hook::Transform: {
      auto packed = instance.call<std::uint64_t>(*entry, Phase::Call, buffer->ptr, buffer->len);
      if (!packed) {
        return std::move(packed).error();
      }
      return read_transform_output(instance, *packed);
    }
    case Hook::Observe: {
      auto done = instance.call<void>(*entry, Phase::Call, buffer->ptr, buffer->len);
      if (!done) {
        return std::move(done).error();
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
