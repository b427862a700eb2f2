// wasmplug inspect: the admission report, for a person or (--json) a program.
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "io.hpp"
#include "json_out.hpp"
#include "loader.hpp"
#include "profiles.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::cli {

namespace {

std::string externs_json(const std::vector<ExternInfo>& list) {
  std::string out = "[";
  for (std::size_t i = 0; i < list.size(); ++i) {
    const ExternInfo& e = list[i];
    out += (i ? "," : "");
    out += "{";
    if (!e.module.empty()) {
      out += "\"module\":" + json_string(e.module) + ",";
    }
    out += "\"name\":" + json_string(e.name) + ",\"kind\":" + json_string(e.kind) +
           ",\"signature\":" + json_string(e.signature) + "}";
  }
  return out + "]";
}

// How the profile was chosen: given with --abi, or guessed and why.
struct Choice {
  const ProfileEntry* profile = nullptr;
  bool guessed = false;
  std::string reason;
};

void print_json(const AdmissionReport& r, const Choice& choice) {
  // The profile's own names (cc-lb: shape), as --hook takes them.
  std::string hooks = "[";
  for (Hook h : r.hooks) {
    for (const HookName& name : choice.profile->hooks) {
      if (name.hook == h) {
        hooks += (hooks.size() > 1 ? "," : "") + json_string(name.name);
      }
    }
  }
  hooks += "]";
  std::string problems = "[";
  for (std::size_t i = 0; i < r.problems.size(); ++i) {
    problems += (i ? "," : "") + json_string(r.problems[i]);
  }
  problems += "]";
  std::string wasi = "[";
  for (std::size_t i = 0; i < r.wasi_functions.size(); ++i) {
    wasi += (i ? "," : "") + json_string(r.wasi_functions[i]);
  }
  wasi += "]";
  std::cout << "{\"admitted\":" << (r.admitted() ? "true" : "false") << ",\"abi\":" << json_string(to_string(r.abi))
            << ",\"abi_source\":" << (choice.guessed ? "\"guessed\"" : "\"given\"")
            << ",\"abi_reason\":" << json_string(choice.reason) << ",\"abi_version\":" << (r.abi_version ? std::to_string(*r.abi_version) : "null")
            << ",\"hooks\":" << hooks << ",\"has_init\":" << (r.has_init ? "true" : "false")
            << ",\"has_shutdown\":" << (r.has_shutdown ? "true" : "false")
            << ",\"memory_min_pages\":" << r.memory_min_pages << ",\"memory_max_pages\":"
            << (r.memory_max_pages ? std::to_string(*r.memory_max_pages) : "null")
            << ",\"largest_table_elements\":" << r.largest_table_elements
            << ",\"has_start_function\":" << (r.has_start_function ? "true" : "false")
            << ",\"content_hash\":" << json_string(r.content_hash) << ",\"imports\":" << externs_json(r.imports)
            << ",\"wasi_functions\":" << wasi
            << ",\"exports\":" << externs_json(r.exports) << ",\"problems\":" << problems << "}\n";
}

void print_text(const std::string& path, const AdmissionReport& r, const Choice& choice) {
  std::cout << path << ": " << (r.admitted() ? "admitted" : "REJECTED") << "\n";
  std::cout << "  abi:          " << to_string(r.abi);
  if (r.abi_version) {
    std::cout << " v" << *r.abi_version;
  }
  std::cout << (choice.guessed ? " (guessed: " : " (given: ") << choice.reason << ")\n";
  std::cout << "  hooks:       ";
  for (Hook h : r.hooks) {
    // The profile's own names (cc-lb: shape), as --hook takes them.
    for (const HookName& name : choice.profile->hooks) {
      if (name.hook == h) {
        std::cout << " " << name.name;
      }
    }
  }
  std::cout << (r.hooks.empty() ? " (none)" : "") << (r.has_init ? "  [wp_init]" : "")
            << (r.has_shutdown ? "  [wp_shutdown]" : "") << "\n";
  std::cout << "  memory:       " << r.memory_min_pages << ".."
            << (r.memory_max_pages ? std::to_string(*r.memory_max_pages) : std::string("unbounded")) << " pages\n";
  std::cout << "  table:        " << r.largest_table_elements << " elements\n";
  std::cout << "  start func:   " << (r.has_start_function ? "yes" : "no") << "\n";
  std::cout << "  content hash: " << r.content_hash << "\n";
  std::cout << "  imports:\n";
  for (const ExternInfo& e : r.imports) {
    std::cout << "    " << e.module << "." << e.name << "  " << e.kind << " " << e.signature << "\n";
  }
  if (!r.wasi_functions.empty()) {
    std::cout << "  wasi:        ";
    for (const std::string& name : r.wasi_functions) {
      std::cout << " " << name;
    }
    std::cout << "\n";
  }
  std::cout << "  exports:\n";
  for (const ExternInfo& e : r.exports) {
    std::cout << "    " << e.name << "  " << e.kind << " " << e.signature << "\n";
  }
  if (!r.problems.empty()) {
    std::cout << "  rejected because:\n";
    for (const std::string& p : r.problems) {
      std::cout << "    - " << p << "\n";
    }
  }
}

}  // namespace

int inspect(const InspectOptions& options) {
  RuntimeConfig config;
  // Bounded like Runtime::load: a module over the limit is refused by its
  // size, an endless device after max_module_bytes + 1 bytes.
  auto wasm = read_file_bounded(options.plugin, config.max_module_bytes, "",
                                "the module limit of " + format_size(config.max_module_bytes) +
                                    " (RuntimeConfig::max_module_bytes)");
  if (!wasm) {
    complain(wasm.error().message);
    return kExitSetup;
  }
  auto runtime = Runtime::create(config);
  if (!runtime) {
    std::fprintf(stderr, "wasmplug: %s\n", runtime.error().to_string().c_str());
    return kExitSetup;
  }
  Choice choice;
  if (!options.abi.empty()) {
    choice.profile = find_profile(options.abi);
    choice.reason = "--abi " + options.abi;
  } else {
    // Every profile's report lists all imports and exports: read them once, then admit under the guess.
    auto any = (*runtime)->inspect(*wasm);
    if (!any) {
      std::fprintf(stderr, "wasmplug: %s: %s\n", options.plugin.c_str(), any.error().to_string().c_str());
      return kExitFailures;
    }
    ProfileGuess guess = guess_profile(*any);
    choice = {guess.profile, true, std::move(guess.reason)};
  }
  if (choice.profile == nullptr) {
    complain("unknown --abi '" + options.abi + "'");
    return kExitSetup;
  }
  LoadOptions load;
  load.abi = choice.profile->abi;
  load.wasi = options.wasi;
  auto report = (*runtime)->inspect(*wasm, load);
  if (!report) {
    std::fprintf(stderr, "wasmplug: %s: %s\n", options.plugin.c_str(), report.error().to_string().c_str());
    return kExitFailures;
  }
  if (options.json) {
    print_json(*report, choice);
  } else {
    print_text(options.plugin, *report, choice);
  }
  if (std::string failed = flush_stdout(); !failed.empty()) {
    complain(failed);
    return kExitSetup;
  }
  return report->admitted() ? kExitOk : kExitFailures;
}

}  // namespace wasmplug::cli
