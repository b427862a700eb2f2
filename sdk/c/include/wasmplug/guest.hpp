// wasmplug C++ guest layer — over the C SDK (plugin.h), for plugins written in
// C++20 with libc++ (no exceptions, no RTTI). Inputs are std::string_view,
// outputs are built with an Output stream, and the hook macros take ordinary
// C++ functions:
//
//   #include <wasmplug/guest.hpp>
//   namespace wg = wasmplug::guest;
//
//   static wg::Verdict shout(std::string_view in, wg::Output& out) {
//     for (char c : in) out << static_cast<char>(std::toupper(c));
//     return wg::Verdict::Emit;
//   }
//   WP_CPP_TRANSFORM(shout)
//
// Build with wasmplug_add_plugin(NAME SOURCES plugin.cpp): any C++ source
// switches the build to clang++ and links the SDK's C++ support (operator
// new/delete and libc++'s abort hook routed to wasmplug.fail, so no WASI
// imports are pulled in).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wasmplug/plugin.h"

namespace wasmplug::guest {

enum class Verdict { Emit, Drop };

[[nodiscard]] inline std::string_view view(const std::uint8_t* data, std::size_t len) noexcept {
  return {reinterpret_cast<const char*>(data), len};
}

inline void log(int level, std::string_view message) noexcept { wp_log(level, message.data(), message.size()); }

/// Fails the current call with `message` (GuestError on the host). Never returns.
[[noreturn]] inline void fail(std::string_view message) noexcept {
  wasmplug_host_fail(message.data(), message.size());
  __builtin_unreachable();
}

/// The output of a transform. Appends never throw; on allocation failure the
/// call fails with "out of memory while building the output".
class Output {
 public:
  explicit Output(wp_buf* buffer) noexcept : buffer_(buffer) {}
  Output& operator<<(std::string_view text) noexcept {
    wp_buf_append(buffer_, text.data(), text.size());
    return *this;
  }
  Output& operator<<(char c) noexcept {
    wp_buf_putc(buffer_, static_cast<std::uint8_t>(c));
    return *this;
  }
  void reserve(std::size_t extra) noexcept { wp_buf_reserve(buffer_, extra); }
  [[nodiscard]] std::size_t size() const noexcept { return buffer_->len; }

 private:
  wp_buf* buffer_;
};

}  // namespace wasmplug::guest

/* Verdict fn(std::string_view in, wasmplug::guest::Output& out) */
#define WP_CPP_TRANSFORM(fn)                                                                      \
  static wp_status wasmplug_cpp_transform_(const uint8_t* in, size_t len, wp_buf* out) {         \
    ::wasmplug::guest::Output wasmplug_output_(out);                                              \
    return fn(::wasmplug::guest::view(in, len), wasmplug_output_) == ::wasmplug::guest::Verdict::Emit \
               ? WP_EMIT                                                                          \
               : WP_DROP;                                                                         \
  }                                                                                               \
  WP_TRANSFORM(wasmplug_cpp_transform_)

/* bool fn(std::string_view in): true keeps */
#define WP_CPP_FILTER(fn)                                                   \
  static int wasmplug_cpp_filter_(const uint8_t* in, size_t len) {          \
    return fn(::wasmplug::guest::view(in, len)) ? 1 : 0;                    \
  }                                                                         \
  WP_FILTER(wasmplug_cpp_filter_)

/* void fn(std::string_view in) */
#define WP_CPP_OBSERVE(fn)                                                  \
  static void wasmplug_cpp_observe_(const uint8_t* in, size_t len) {        \
    fn(::wasmplug::guest::view(in, len));                                   \
  }                                                                         \
  WP_OBSERVE(wasmplug_cpp_observe_)

/* bool fn(std::string_view config): true accepts */
#define WP_CPP_INIT(fn)                                                     \
  static int32_t wasmplug_cpp_init_(const uint8_t* cfg, size_t len) {       \
    return fn(::wasmplug::guest::view(cfg, len)) ? 0 : 1;                   \
  }                                                                         \
  WP_INIT(wasmplug_cpp_init_)
