#include "admission/admission.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "engine/types.hpp"

namespace wasmplug::detail {

namespace {

constexpr std::uint64_t kWasmPage = 64u << 10;

std::string name_of(const wasm_name_t* name) { return {name->data, name->size}; }

std::string limits_text(std::uint64_t min, std::optional<std::uint64_t> max) {
  return std::to_string(min) + ".." + (max ? std::to_string(*max) : std::string("unbounded"));
}

std::string describe(const wasm_externtype_t* type, std::string& kind) {
  switch (wasm_externtype_kind(type)) {
    case WASM_EXTERN_FUNC:
      kind = "func";
      return to_sig(wasm_externtype_as_functype_const(type)).to_string();
    case WASM_EXTERN_MEMORY: {
      kind = "memory";
      const wasm_memorytype_t* mt = wasm_externtype_as_memorytype_const(type);
      std::uint64_t max = 0;
      bool has_max = wasmtime_memorytype_maximum(mt, &max);
      return limits_text(wasmtime_memorytype_minimum(mt), has_max ? std::optional(max) : std::nullopt) +
             " pages" + (wasmtime_memorytype_isshared(mt) ? " shared" : "");
    }
    case WASM_EXTERN_TABLE: {
      kind = "table";
      const wasm_limits_t* l = wasm_tabletype_limits(wasm_externtype_as_tabletype_const(type));
      return limits_text(l->min, l->max == wasm_limits_max_default ? std::nullopt
                                                                   : std::optional<std::uint64_t>(l->max)) +
             " elements";
    }
    case WASM_EXTERN_GLOBAL: {
      kind = "global";
      const wasm_globaltype_t* gt = wasm_externtype_as_globaltype_const(type);
      std::string mut = wasm_globaltype_mutability(gt) == WASM_VAR ? "mut " : "";
      return mut + to_string(to_valtype(wasm_globaltype_content(gt)));
    }
    default: kind = "other"; return "";
  }
}

bool has_v128(const FuncSig& sig) {
  auto is_v128 = [](ValType t) { return t == ValType::V128; };
  return std::ranges::any_of(sig.params, is_v128) || std::ranges::any_of(sig.results, is_v128);
}

// Values that cannot cross the boundary between host and plugin: no host
// function or hook takes them, and some engines' C APIs cannot even describe
// them. An import or export that mentions one is refused by name.
void check_boundary_types(const std::string& what, const wasm_externtype_t* type, Admission& out) {
  bool v128 = false;
  if (wasm_externtype_kind(type) == WASM_EXTERN_FUNC) {
    v128 = has_v128(to_sig(wasm_externtype_as_functype_const(type)));
  } else if (wasm_externtype_kind(type) == WASM_EXTERN_GLOBAL) {
    v128 = to_valtype(wasm_globaltype_content(wasm_externtype_as_globaltype_const(type))) == ValType::V128;
  }
  if (v128) {
    out.report.problems.push_back(what + " has a v128 in its type; v128 values cannot cross the plugin boundary");
  }
}

std::string allowed_list(std::span<const HostFuncDef> allowed) {
  if (allowed.empty()) {
    return "none";
  }
  std::string out;
  for (const HostFuncDef& def : allowed) {
    out += (out.empty() ? "" : ", ");
    out += std::string(def.module) + "." + std::string(def.name);
  }
  return out;
}

std::string names_of(std::span<const HostFuncDef> defs) {
  std::string out;
  for (const HostFuncDef& def : defs) {
    out += (out.empty() ? "" : ", ") + std::string(def.name);
  }
  return out;
}

std::string profile_name(const AbiSpec& spec) { return std::string(to_string(spec.profile)); }

// An import of an embedder function: named as a capability the plugin lacks
// (not granted) or as the embedder's signature (mismatch), not as the profile's.
std::string embedder_import_problem(const std::string& full, const std::string& signature, const HostFuncDef& def,
                                    bool granted) {
  if (!granted) {
    return "import " + full + " is a host function of the embedder that this plugin was not granted "
           "(grant it in LoadOptions::host_functions)";
  }
  return "import " + full + " has type " + signature + "; the embedder registered " + full + " as " +
         def.sig.to_string();
}

const HostFuncDef* find(std::span<const HostFuncDef> defs, const std::string& module, const std::string& name) {
  for (const HostFuncDef& def : defs) {
    if (def.module == module && def.name == name) {
      return &def;
    }
  }
  return nullptr;
}

constexpr std::string_view kWasiModule = "wasi_snapshot_preview1";

void check_imports(const wasmtime_module_t* module, const AbiSpec& spec, const ImportPolicy& policy,
                   Admission& out) {
  wasm_importtype_vec_t imports;
  wasmtime_module_imports(module, &imports);
  std::string needs_wasi;  // imports of the WASI set while it is off
  for (std::size_t i = 0; i < imports.size; ++i) {
    const wasm_importtype_t* imp = imports.data[i];
    ExternInfo info;
    info.module = name_of(wasm_importtype_module(imp));
    info.name = name_of(wasm_importtype_name(imp));
    const wasm_externtype_t* type = wasm_importtype_type(imp);
    info.signature = describe(type, info.kind);
    const std::string full = info.module + "." + info.name;
    const bool wasi = info.module == kWasiModule;
    if (wasi && std::ranges::find(out.report.wasi_functions, info.name) == out.report.wasi_functions.end()) {
      out.report.wasi_functions.push_back(info.name);
    }
    check_boundary_types("import " + full, type, out);
    if (info.kind != "func") {
      out.report.problems.push_back("import " + full + " is a " + info.kind + " (" + info.signature +
                                    "); plugins may import only host functions of the " +
                                    profile_name(spec) + " profile");
    } else {
      const HostFuncDef* match = wasi ? find(policy.wasi, info.module, info.name)
                                      : find(policy.profile, info.module, info.name);
      FuncSig sig = to_sig(wasm_externtype_as_functype_const(type));
      const HostFuncDef* denied = wasi || match != nullptr ? nullptr : find(policy.not_granted, info.module, info.name);
      if (wasi && match == nullptr) {
        out.report.problems.push_back("import " + full + " " + info.signature +
                                      " is outside wasmplug's WASI capability set (no files, sockets or "
                                      "environment; allowed: " + names_of(policy.wasi) + ")");
      } else if (wasi && !policy.wasi_enabled) {
        if (needs_wasi.find(info.name) == std::string::npos) {  // Go imports fd_write twice
          needs_wasi += (needs_wasi.empty() ? "" : ", ") + info.name;
        }
      } else if (denied != nullptr) {
        out.report.problems.push_back(embedder_import_problem(full, info.signature, *denied, false));
      } else if (match != nullptr && match->embedder && !(match->sig == sig)) {
        out.report.problems.push_back(embedder_import_problem(full, info.signature, *match, true));
      } else if (match == nullptr) {
        out.report.problems.push_back("import " + full + " " + info.signature +
                                      " is not provided by the " + profile_name(spec) +
                                      " profile (allowed: " + allowed_list(policy.profile) + ")");
      } else if (!(match->sig == sig)) {
        out.report.problems.push_back("import " + full + " has type " + info.signature + "; the " +
                                      (wasi ? std::string("WASI capability set") : profile_name(spec) + " profile") +
                                      " provides " + match->sig.to_string() +
                                      (spec.import_mismatch_note.empty() || wasi
                                           ? std::string()
                                           : " (" + std::string(spec.import_mismatch_note) + ")"));
      }
    }
    out.report.imports.push_back(std::move(info));
  }
  wasm_importtype_vec_delete(&imports);
  if (!needs_wasi.empty()) {
    out.report.problems.push_back("the module imports WASI functions (" + needs_wasi +
                                  ") but the WASI capability set is off for this plugin (LoadOptions::wasi, "
                                  "CLI --wasi)");
  }
}

void check_marker(const std::string& name, const std::string& kind, const std::string& signature,
                  const AbiSpec& spec, Admission& out) {
  std::string_view digits = std::string_view(name).substr(spec.marker_prefix.size());
  std::uint32_t version = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    out.report.problems.push_back("export " + name + " is not a valid ABI marker (expected " +
                                  std::string(spec.marker_prefix) + std::to_string(spec.version) + ")");
    return;
  }
  out.report.abi_version = version;
  if (version != spec.version) {
    out.report.problems.push_back("ABI version " + std::to_string(version) + " (export " + name +
                                  ") is not supported; this runtime supports " +
                                  profile_name(spec) + " ABI version " + std::to_string(spec.version));
  } else if (kind != "func" || signature != "() -> ()") {
    out.report.problems.push_back("ABI marker " + name + " must be a function () -> (), found " +
                                  kind + " " + signature);
  }
}

void check_exports(const wasmtime_module_t* module, const AbiSpec& spec, Admission& out) {
  out.export_index.assign(spec.exports.size(), std::nullopt);
  bool have_memory = false;
  bool have_marker = false;
  wasm_exporttype_vec_t exports;
  wasmtime_module_exports(module, &exports);
  for (std::size_t i = 0; i < exports.size; ++i) {
    const wasm_exporttype_t* exp = exports.data[i];
    ExternInfo info;
    info.name = name_of(wasm_exporttype_name(exp));
    const wasm_externtype_t* type = wasm_exporttype_type(exp);
    info.signature = describe(type, info.kind);
    check_boundary_types("export " + info.name, type, out);

    if (info.name == spec.memory_export) {
      if (info.kind == "memory") {
        have_memory = true;
        out.memory_export = i;
      } else {
        out.report.problems.push_back("export " + info.name + " must be a memory, found a " + info.kind);
      }
    } else if (!spec.marker_prefix.empty() && info.name.starts_with(spec.marker_prefix)) {
      have_marker = true;
      check_marker(info.name, info.kind, info.signature, spec, out);
    }
    for (std::size_t k = 0; k < spec.exports.size(); ++k) {
      const ExportSpec& want = spec.exports[k];
      if (info.name != want.name) {
        continue;
      }
      if (info.kind != "func") {
        out.report.problems.push_back("export " + info.name + " must be a function " +
                                      want.sig.to_string() + ", found a " + info.kind);
      } else if (FuncSig sig = to_sig(wasm_externtype_as_functype_const(type)); !(sig == want.sig)) {
        out.report.problems.push_back("export " + info.name + " has type " + sig.to_string() +
                                      "; the " + profile_name(spec) + " ABI requires " +
                                      want.sig.to_string());
      } else {
        out.export_index[k] = i;
        if (want.hook) {
          out.report.hooks.push_back(*want.hook);
        }
      }
    }
    out.report.exports.push_back(std::move(info));
  }
  wasm_exporttype_vec_delete(&exports);

  if (!have_memory) {
    out.report.problems.push_back("the module does not export its memory as \"" +
                                  std::string(spec.memory_export) + "\"");
  }
  if (!have_marker && !spec.marker_prefix.empty()) {
    out.report.problems.push_back("missing ABI marker: export a function " +
                                  std::string(spec.marker_prefix) + std::to_string(spec.version) +
                                  " () -> () (the SDK does this)");
  }
  bool any_hook = false;
  for (std::size_t k = 0; k < spec.exports.size(); ++k) {
    const ExportSpec& want = spec.exports[k];
    bool present = false;
    for (const ExternInfo& e : out.report.exports) {
      present = present || e.name == want.name;
    }
    if (want.required && !present) {
      out.report.problems.push_back("missing required export " + std::string(want.name) + " " +
                                    want.sig.to_string());
    }
    any_hook = any_hook || (want.hook && out.export_index[k]);
  }
  if (!any_hook) {
    std::string hooks;
    for (const ExportSpec& want : spec.exports) {
      if (want.hook) {
        hooks += (hooks.empty() ? "" : ", ") + std::string(want.name);
      }
    }
    out.report.problems.push_back("the module exports no hook (one of " + hooks + ")");
  }
  for (std::size_t k = 0; k < spec.exports.size(); ++k) {
    if (out.export_index[k]) {
      out.report.has_init = out.report.has_init || spec.exports[k].name == "wp_init";
      out.report.has_shutdown = out.report.has_shutdown || spec.exports[k].name == "wp_shutdown";
    }
  }
}

// A hook the host stated it will call (LoadOptions::required_hooks) must be
// exported with the right type: refusing here names the export, where a
// later call would only fail with "no such hook".
void check_required_hooks(const AbiSpec& spec, std::span<const Hook> required, Admission& out) {
  for (Hook hook : required) {
    if (std::ranges::find(out.report.hooks, hook) != out.report.hooks.end()) {
      continue;
    }
    for (const ExportSpec& want : spec.exports) {
      if (want.hook == hook) {
        out.report.problems.push_back("missing export " + std::string(want.name) + " " + want.sig.to_string() +
                                      ": the host requires the " + std::string(to_string(hook)) +
                                      " hook (LoadOptions::required_hooks)");
        break;
      }
    }
  }
}

}  // namespace

std::string unsupported_required_hook(const AbiSpec& spec, std::span<const Hook> required) {
  for (Hook hook : required) {
    if (std::ranges::none_of(spec.exports, [&](const ExportSpec& e) { return e.hook == hook; })) {
      return "LoadOptions::required_hooks names the " + std::string(to_string(hook)) + " hook, which the " +
             profile_name(spec) + " profile does not have";
    }
  }
  return {};
}

void check_memory_and_tables(const SectionSummary& sections, const Limits& limits, AdmissionReport& report) {
  if (sections.memories.size() > 1) {
    report.problems.push_back("the module defines " + std::to_string(sections.memories.size()) +
                                  " memories; exactly one is allowed");
  }
  for (const LimitsDecl& mem : sections.memories) {
    report.memory_min_pages = mem.min;
    report.memory_max_pages = mem.max;
    if (mem.shared) {
      report.problems.push_back("the memory is shared; shared memory (threads) is not allowed");
    }
    if (mem.is64) {
      report.problems.push_back("the memory is 64-bit; only 32-bit memories are allowed");
    }
    if (mem.min > limits.memory_bytes / kWasmPage) {
      report.problems.push_back("the memory declares at least " + std::to_string(mem.min) +
                                    " pages (" + std::to_string(mem.min * kWasmPage) +
                                    " bytes); the limit is " + std::to_string(limits.memory_bytes) +
                                    " bytes (" + std::to_string(limits.memory_bytes / kWasmPage) +
                                    " pages)");
    }
  }
  if (sections.tables.size() > 1) {
    report.problems.push_back("the module defines " + std::to_string(sections.tables.size()) +
                                  " tables; at most one is allowed");
  }
  for (const LimitsDecl& table : sections.tables) {
    report.largest_table_elements = std::max(report.largest_table_elements, table.min);
    if (table.min > limits.table_elements) {
      report.problems.push_back("a table declares " + std::to_string(table.min) +
                                    " elements; the limit is " + std::to_string(limits.table_elements));
    }
  }
  report.has_start_function = sections.has_start;
}

Admission admit(const wasmtime_module_t* module, const SectionSummary& sections, const AbiSpec& spec,
                const ImportPolicy& imports, const Limits& limits, std::span<const Hook> required) {
  Admission out;
  out.report.abi = spec.profile;
  check_imports(module, spec, imports, out);
  check_exports(module, spec, out);
  check_required_hooks(spec, required, out);
  check_memory_and_tables(sections, limits, out.report);
  return out;
}

}  // namespace wasmplug::detail
