#include "engine/failure.hpp"

#include "engine/handle.hpp"

namespace wasmplug::detail {

namespace {
std::string to_string(wasm_byte_vec_t& vec) {
  std::string out(vec.data, vec.size);
  wasm_byte_vec_delete(&vec);
  // wasm_trap_message includes a trailing NUL in its length.
  while (!out.empty() && out.back() == '\0') {
    out.pop_back();
  }
  return out;
}
}  // namespace

std::string take_message(wasmtime_error_t* error) {
  ErrorHandle owned(error);
  wasm_byte_vec_t vec;
  wasmtime_error_message(owned.get(), &vec);
  return to_string(vec);
}

Failure take_failure(wasmtime_error_t* error, wasm_trap_t* trap) {
  Failure failure;
  if (trap != nullptr) {
    TrapHandle owned(trap);
    wasmtime_trap_code_t code = 0;
    if (wasmtime_trap_code(owned.get(), &code)) {
      failure.trap_code = code;
    }
    wasm_byte_vec_t vec;
    wasm_trap_message(owned.get(), &vec);
    failure.message = to_string(vec);
  }
  if (error != nullptr) {
    std::string message = take_message(error);
    failure.message = failure.message.empty() ? message : failure.message + ": " + message;
  }
  return failure;
}

}  // namespace wasmplug::detail
