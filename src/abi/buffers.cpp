#include "abi/buffers.hpp"

#include <cstring>
#include <string>

namespace wasmplug::detail {

Error write_out_of_bounds(Instance& instance, const GuestMemory& memory, std::uint32_t ptr, std::size_t len,
                          std::string_view allocator) {
  return instance.state().error(ErrorKind::AbiViolation,
                                std::string(allocator) + " returned a buffer whose " +
                                    memory.describe_out_of_bounds(ptr, len),
                                Phase::Write);
}

Result<std::vector<std::uint8_t>> read_guest(Instance& instance, std::uint32_t ptr, std::uint32_t len,
                                             std::string_view producer) {
  const std::uint32_t limit = instance.plugin().limits().max_output_bytes;
  if (len > limit) {
    return instance.state().error(ErrorKind::LimitExceeded,
                                  std::string(producer) + " returned " + std::to_string(len) +
                                      " bytes; the output limit is " + std::to_string(limit),
                                  Phase::Read);
  }
  GuestMemory memory = instance.memory_covering(ptr, len);
  auto bytes = memory.slice(ptr, len);
  if (!bytes) {
    return instance.state().error(
        ErrorKind::AbiViolation,
        std::string(producer) + " returned an output " + memory.describe_out_of_bounds(ptr, len), Phase::Read);
  }
  return std::vector<std::uint8_t>(bytes->begin(), bytes->end());
}

Result<Output> verdict(Instance& instance, std::int32_t value, std::string_view producer, std::string_view meaning) {
  if (value == 1) {
    return Output{Output::Kind::Keep, {}};
  }
  if (value == 0) {
    return Output{Output::Kind::Drop, {}};
  }
  return instance.state().error(ErrorKind::AbiViolation,
                                std::string(producer) + " returned " + std::to_string(value) + "; expected " +
                                    std::string(meaning),
                                Phase::Call);
}

}  // namespace wasmplug::detail
