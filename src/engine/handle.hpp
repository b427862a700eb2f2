// One move-only RAII wrapper for every Wasmtime C object.
#pragma once

#include <utility>

#include <wasmtime.h>

namespace wasmplug::detail {

/// Owns a `T*` and releases it with `Deleter`. Move-only; empty after a move.
template <class T, auto Deleter>
class Handle {
 public:
  Handle() = default;
  explicit Handle(T* ptr) noexcept : ptr_(ptr) {}
  Handle(Handle&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset(std::exchange(other.ptr_, nullptr));
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  [[nodiscard]] T* get() const noexcept { return ptr_; }
  [[nodiscard]] T* release() noexcept { return std::exchange(ptr_, nullptr); }
  explicit operator bool() const noexcept { return ptr_ != nullptr; }
  void reset(T* ptr = nullptr) noexcept {
    if (ptr_ != nullptr) {
      Deleter(ptr_);
    }
    ptr_ = ptr;
  }

 private:
  T* ptr_ = nullptr;
};

using EngineHandle = Handle<wasm_engine_t, wasm_engine_delete>;
using ConfigHandle = Handle<wasm_config_t, wasm_config_delete>;
using ModuleHandle = Handle<wasmtime_module_t, wasmtime_module_delete>;
using LinkerHandle = Handle<wasmtime_linker_t, wasmtime_linker_delete>;
using InstancePreHandle = Handle<wasmtime_instance_pre_t, wasmtime_instance_pre_delete>;
using StoreHandle = Handle<wasmtime_store_t, wasmtime_store_delete>;
using ErrorHandle = Handle<wasmtime_error_t, wasmtime_error_delete>;
using TrapHandle = Handle<wasm_trap_t, wasm_trap_delete>;
using FuncTypeHandle = Handle<wasm_functype_t, wasm_functype_delete>;
using PoolingConfigHandle =
    Handle<wasmtime_pooling_allocation_config_t, wasmtime_pooling_allocation_config_delete>;

}  // namespace wasmplug::detail
