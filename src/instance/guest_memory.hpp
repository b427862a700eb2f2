// GuestMemory — the only way into guest linear memory.
//
// A view of the memory's bytes at one moment. It is invalidated by any call
// into wasm and by any memory.grow: take a fresh one after each guest call,
// and never keep a span from slice() across one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace wasmplug::detail {

class GuestMemory {
 public:
  GuestMemory(std::uint8_t* base, std::uint64_t size) noexcept : base_(base), size_(size) {}

  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

  /// The bytes [ptr, ptr + len), or nullopt when any of them lies outside the
  /// memory. Sums are done in 64 bits from 32-bit guest values widened first,
  /// so ptr + len cannot wrap.
  [[nodiscard]] std::optional<std::span<std::uint8_t>> slice(std::uint64_t ptr,
                                                             std::uint64_t len) const noexcept {
    if (ptr > size_ || len > size_ - ptr) {
      return std::nullopt;
    }
    return std::span<std::uint8_t>(base_ + ptr, static_cast<std::size_t>(len));
  }

  /// "[ptr, ptr+len) lies outside guest memory of N bytes" for error messages.
  [[nodiscard]] std::string describe_out_of_bounds(std::uint64_t ptr, std::uint64_t len) const {
    return "range [" + std::to_string(ptr) + ", " + std::to_string(ptr) + "+" +
           std::to_string(len) + ") lies outside guest memory of " + std::to_string(size_) +
           " bytes";
  }

 private:
  std::uint8_t* base_;
  std::uint64_t size_;
};

}  // namespace wasmplug::detail
