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

Error output_over_limit(Instance& instance, std::uint32_t len, std::string_view producer) {
  return instance.state().error(ErrorKind::LimitExceeded,
                                std::string(producer) + " returned " + std::to_string(len) +
                                    " bytes; the output limit is " +
                                    std::to_string(instance.plugin().limits().max_output_bytes),
                                Phase::Read);
}

Error read_out_of_bounds(Instance& instance, const GuestMemory& memory, std::uint32_t ptr, std::uint32_t len,
                         std::string_view producer) {
  return instance.state().error(
      ErrorKind::AbiViolation,
      std::string(producer) + " returned an output " + memory.describe_out_of_bounds(ptr, len), Phase::Read);
}

Result<std::vector<std::uint8_t>> read_guest(Instance& instance, std::uint32_t ptr, std::uint32_t len,
                                             std::string_view producer) {
  std::vector<std::uint8_t> out;
  if (StepFailure failure; !read_guest_into(instance, ptr, len, producer, out, failure)) {
    return failure.take();
  }
  return out;
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
