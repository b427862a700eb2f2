#include "engine/types.hpp"

namespace wasmplug::detail {

ValType to_valtype(const wasm_valtype_t* type) noexcept {
  // Not wasm_valtype_kind(): it aborts the process on v128 and on any
  // reference type but funcref/externref. wasmtime_valtype_new represents
  // every type a module that validated under our engine config can contain.
  wasmtime_valtype_t full;
  wasmtime_valtype_new(type, &full);
  const wasmtime_valtype_kind_t kind = full.kind;
  wasmtime_valtype_delete(&full);
  switch (kind) {
    case WASMTIME_VALTYPE_KIND_I32: return ValType::I32;
    case WASMTIME_VALTYPE_KIND_I64: return ValType::I64;
    case WASMTIME_VALTYPE_KIND_F32: return ValType::F32;
    case WASMTIME_VALTYPE_KIND_F64: return ValType::F64;
    case WASMTIME_VALTYPE_KIND_V128: return ValType::V128;
    default: return ValType::Ref;
  }
}

namespace {

wasm_valkind_t to_kind(ValType type) {
  switch (type) {
    case ValType::I32: return WASM_I32;
    case ValType::I64: return WASM_I64;
    case ValType::F32: return WASM_F32;
    case ValType::F64: return WASM_F64;
    case ValType::V128: return WASMTIME_V128;
    case ValType::Ref: return WASM_FUNCREF;
  }
  return WASM_I32;
}

std::vector<ValType> from_vec(const wasm_valtype_vec_t* vec) {
  std::vector<ValType> out;
  out.reserve(vec->size);
  for (std::size_t i = 0; i < vec->size; ++i) {
    out.push_back(to_valtype(vec->data[i]));
  }
  return out;
}

void to_vec(const std::vector<ValType>& types, wasm_valtype_vec_t* out) {
  wasm_valtype_vec_new_uninitialized(out, types.size());
  for (std::size_t i = 0; i < types.size(); ++i) {
    out->data[i] = wasm_valtype_new(to_kind(types[i]));
  }
}

std::string join(const std::vector<ValType>& types) {
  std::string out = "(";
  for (std::size_t i = 0; i < types.size(); ++i) {
    out += (i == 0 ? "" : ", ");
    out += to_string(types[i]);
  }
  return out + ")";
}

}  // namespace

const char* to_string(ValType type) noexcept {
  switch (type) {
    case ValType::I32: return "i32";
    case ValType::I64: return "i64";
    case ValType::F32: return "f32";
    case ValType::F64: return "f64";
    case ValType::V128: return "v128";
    case ValType::Ref: return "ref";
  }
  return "?";
}

std::string FuncSig::to_string() const { return join(params) + " -> " + join(results); }

FuncSig to_sig(const wasm_functype_t* type) {
  return FuncSig{from_vec(wasm_functype_params(type)), from_vec(wasm_functype_results(type))};
}

FuncTypeHandle to_functype(const FuncSig& sig) {
  wasm_valtype_vec_t params;
  wasm_valtype_vec_t results;
  to_vec(sig.params, &params);
  to_vec(sig.results, &results);
  return FuncTypeHandle(wasm_functype_new(&params, &results));
}

}  // namespace wasmplug::detail
