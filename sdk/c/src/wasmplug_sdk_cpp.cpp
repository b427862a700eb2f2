// C++ support for wasm32 plugins: allocation and libc++'s abort hook without
// stdio, so a C++ plugin imports nothing but the wasmplug host functions.
#include <cstdlib>
#include <cstring>
#include <new>

#include "wasmplug/plugin.h"

namespace {
void* checked(void* p) {
  if (p == nullptr) {
    wp_fail("out of memory (operator new)");
  }
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return checked(std::malloc(n ? n : 1)); }
void* operator new[](std::size_t n) { return checked(std::malloc(n ? n : 1)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n ? n : 1); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n ? n : 1); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

// The aligned forms too: unoptimised (Debug) code calls them from
// std::allocator, and libc++'s own versions reach std::terminate, whose
// message goes through stdio and would import WASI.
namespace {
void* aligned(std::size_t n, std::align_val_t align) noexcept {
  std::size_t a = static_cast<std::size_t>(align);
  void* p = nullptr;
  if (posix_memalign(&p, a < sizeof(void*) ? sizeof(void*) : a, n ? n : 1) != 0) {
    return nullptr;
  }
  return p;
}
}  // namespace

void* operator new(std::size_t n, std::align_val_t a) { return checked(aligned(n, a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return checked(aligned(n, a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return aligned(n, a); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace std {
inline namespace _LIBCPP_ABI_NAMESPACE {
// libc++ calls this on a failed precondition (e.g. length_error without exceptions).
[[noreturn]] void __libcpp_verbose_abort(char const* format, ...) { wp_fail(format); }
}  // namespace _LIBCPP_ABI_NAMESPACE
}  // namespace std
