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
[[nodiscard]] inline bool write_guest_into(Instance& instance, std::uint32_t ptr,
                                           std::span<const std::uint8_t> bytes, std::string_view allocator,
                                           StepFailure& failure) {
  GuestMemory memory = instance.memory_covering(ptr, bytes.size());
  auto dest = memory.slice(ptr, bytes.size());
  if (!dest) [[unlikely]] {
    failure = write_out_of_bounds(instance, memory, ptr, bytes.size(), allocator);
    return false;
  }
  if (!bytes.empty()) {
    std::memcpy(dest->data(), bytes.data(), bytes.size());
  }
  return true;
}

/// write_guest_into with a Result.
[[nodiscard]] inline Result<void> write_guest(Instance& instance, std::uint32_t ptr,
                                              std::span<const std::uint8_t> bytes, std::string_view allocator) {
  if (StepFailure failure; !write_guest_into(instance, ptr, bytes, allocator, failure)) [[unlikely]] {
    return failure.take();
  }
  return {};
}

/// read_guest's failures (LimitExceeded past the output limit, AbiViolation
/// outside memory; phase read), built out of line.
[[nodiscard]] Error read_out_of_bounds(Instance& instance, const GuestMemory& memory, std::uint32_t ptr,
                                       std::uint32_t len, std::string_view producer);
[[nodiscard]] Error output_over_limit(Instance& instance, std::uint32_t len, std::string_view producer);

/// Copies the output [ptr, ptr+len) that `producer` (an export name) returned
/// into `out`. LimitExceeded past Limits::max_output_bytes, AbiViolation
/// outside memory (both phase read), into `failure`; false then.
[[nodiscard]] inline bool read_guest_into(Instance& instance, std::uint32_t ptr, std::uint32_t len,
                                          std::string_view producer, std::vector<std::uint8_t>& out,
                                          StepFailure& failure) {
  if (len > instance.plugin().limits().max_output_bytes) [[unlikely]] {
    failure = output_over_limit(instance, len, producer);
    return false;
  }
  GuestMemory memory = instance.memory_covering(ptr, len);
  auto bytes = memory.slice(ptr, len);
  if (!bytes) [[unlikely]] {
    failure = read_out_of_bounds(instance, memory, ptr, len, producer);
    return false;
  }
  out.assign(bytes->begin(), bytes->end());
  return true;
}

/// read_guest_into with a Result.
[[nodiscard]] Result<std::vector<std::uint8_t>> read_guest(Instance& instance, std::uint32_t ptr, std::uint32_t len,
                                                           std::string_view producer);

/// A boolean hook's answer: 1 → Keep, 0 → Drop, anything else an
/// AbiViolation (phase call) naming `producer` and what 1 and 0 mean.
[[nodiscard]] Result<Output> verdict(Instance& instance, std::int32_t value, std::string_view producer,
                                     std::string_view meaning);

}  // namespace wasmplug::detail
