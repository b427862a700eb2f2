#include "admission/cost.hpp"

#include <string>

extern "C" {
// rust/src/cost.rs
struct WasmplugCodeCost {
  std::uint64_t functions;
  std::uint64_t code_bytes;
  std::uint64_t max_body_bytes;
  std::uint64_t max_body_function;
  std::uint64_t max_locals;
  std::uint64_t max_locals_function;
  std::uint64_t total_locals;
  std::uint64_t max_nesting;
  std::uint64_t max_nesting_function;
  std::uint64_t globals;
};
bool wasmplug_code_cost(const std::uint8_t* bytes, std::size_t len, WasmplugCodeCost* out);
}

namespace wasmplug::detail {

Result<void> check_compile_cost(std::span<const std::uint8_t> wasm, const CompileLimits& limits) {
  WasmplugCodeCost cost{};
  if (!wasmplug_code_cost(wasm.data(), wasm.size(), &cost)) {
    return {};
  }
  auto over = [](const std::string& what, std::uint64_t limit, const char* field) {
    return Error{ErrorKind::Rejected, Phase::Admit, {}, {},
                 "rejected: " + what + "; the limit is " + std::to_string(limit) + " (RuntimeConfig::compile." +
                     field + ")"};
  };
  auto n = [](std::uint64_t v) { return std::to_string(v); };
  if (cost.functions > limits.max_functions) {
    return over("the module defines " + n(cost.functions) + " functions", limits.max_functions, "max_functions");
  }
  if (cost.code_bytes > limits.max_code_bytes) {
    return over("the module's function bodies hold " + n(cost.code_bytes) + " bytes of code", limits.max_code_bytes,
                "max_code_bytes");
  }
  if (cost.max_body_bytes > limits.max_function_bytes) {
    return over("function " + n(cost.max_body_function) + " has a body of " + n(cost.max_body_bytes) + " bytes",
                limits.max_function_bytes, "max_function_bytes");
  }
  if (cost.max_locals > limits.max_locals) {
    return over("function " + n(cost.max_locals_function) + " declares " + n(cost.max_locals) + " locals",
                limits.max_locals, "max_locals");
  }
  if (cost.total_locals > limits.max_total_locals) {
    return over("the module's functions declare " + n(cost.total_locals) + " locals in all",
                limits.max_total_locals, "max_total_locals");
  }
  if (cost.max_nesting > limits.max_nesting) {
    return over("function " + n(cost.max_nesting_function) + " nests blocks " + n(cost.max_nesting) + " deep",
                limits.max_nesting, "max_nesting");
  }
  if (cost.globals > limits.max_globals) {
    return over("the module defines " + n(cost.globals) + " globals", limits.max_globals, "max_globals");
  }
  return {};
}

}  // namespace wasmplug::detail
