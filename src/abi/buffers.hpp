// Moving bytes across the guest boundary, shared by every ABI adapter: all go
// through Instance::memory_covering (GuestMemory), with the same checks and
// error wording.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "instance/instance.hpp"
#include "wasmplug/runtime.hpp"
#include "wasmplug/error.hpp"

namespace wasmplug::detail {

/// The AbiViolation (phase write) of write_guest for a buffer outside memory.
[[nodiscard]] Error write_out_of_bounds(Instance& instance, const GuestMemory& memory, std::uint32_t ptr,
                                        std::size_t len, std::string_view allocator);

/// Copies `bytes` into the buffer at `ptr` that `allocator` (an export name)
/// returned. AbiViolation (phase write) if the buffer is not inside memory.
/// Inline: the input's way into the guest on every call.
[[nodiscard]] inline Result<void> write_guest(Instance& instance, std::uint32_t ptr,
                                              std::span<const std::uint8_t> bytes, std::string_view allocator) {
  GuestMemory memory = instance.memory_covering(ptr, bytes.size());
  auto dest = memory.slice(ptr, bytes.size());
  if (!dest) [[unlikely]] {
    return write_out_of_bounds(instance, memory, ptr, bytes.size(), allocator);
  }
  if (!bytes.empty()) {
    std::memcpy(dest->data(), bytes.data(), bytes.size());
  }
  return {};
}

/// Copies the output [ptr, ptr+len) that `producer` (an export name) returned.
/// LimitExceeded past Limits::max_output_bytes, AbiViolation outside memory
/// (both phase read).
[[nodiscard]] Result<std::vector<std::uint8_t>> read_guest(Instance& instance, std::uint32_t ptr, std::uint32_t len,
                                                           std::string_view producer);

/// A boolean hook's answer: 1 → Keep, 0 → Drop, anything else an
/// AbiViolation (phase call) naming `producer` and what 1 and 0 mean.
[[nodiscard]] Result<Output> verdict(Instance& instance, std::int32_t value, std::string_view producer,
                                     std::string_view meaning);

}  // namespace wasmplug::detail
