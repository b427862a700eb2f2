// Function signatures as plain values, convertible to and from Wasmtime types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <wasmtime.h>

#include "engine/handle.hpp"

namespace wasmplug::detail {

enum class ValType : std::uint8_t { I32, I64, F32, F64, V128, Ref };

struct FuncSig {
  std::vector<ValType> params;
  std::vector<ValType> results;
  friend bool operator==(const FuncSig&, const FuncSig&) = default;
  /// "(i32, i32) -> i64"; "() -> ()".
  [[nodiscard]] std::string to_string() const;
};

[[nodiscard]] const char* to_string(ValType type) noexcept;
/// Never aborts, whatever the type (unlike wasm_valtype_kind).
[[nodiscard]] ValType to_valtype(const wasm_valtype_t* type) noexcept;
[[nodiscard]] FuncSig to_sig(const wasm_functype_t* type);
/// A new wasm_functype_t for `sig` (the caller owns it).
[[nodiscard]] FuncTypeHandle to_functype(const FuncSig& sig);

}  // namespace wasmplug::detail
