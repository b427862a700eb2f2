// fuzz_load: arbitrary bytes as a module. For every ABI profile: inspect,
// load (fresh isolation), one call per hook with a short deadline and a small
// memory; then the same with warm isolation, dropping the plugin afterwards.
// Every outcome must be success or a complete Error of an expected kind, and
// no instance may outlive its plugin (live_instances() == 0 at the end).
#include <array>
#include <cstdint>
#include <span>

#include "fuzz_common.hpp"
#include "wasmplug/kestrel.hpp"

namespace wasmplug::fuzz {
namespace {

// A JSON event (rustcdc needs JSON; the other profiles take any bytes).
constexpr std::string_view kInput = R"({"op":"c","after":{"id":1,"name":"fuzz"}})";

constexpr std::array kProfiles = {AbiProfile::Native, AbiProfile::CcLb, AbiProfile::Rustcdc, AbiProfile::Kestrel};
constexpr std::array kHooks = {Hook::Filter, Hook::Transform, Hook::Observe};

// Kestrel predicates also run through the Kestrel engine, which gives their
// host functions an event and a pattern cache.
kestrel::Engine& kestrel_engine() {
  static kestrel::Engine engine = [] {
    auto schema = std::make_shared<kestrel::SchemaRegistry>();
    (void)schema->register_field(1, "process.name", kestrel::FieldType::String);
    (void)schema->register_field(2, "pid", kestrel::FieldType::I64);
    (void)schema->register_field(5, "is_root", kestrel::FieldType::Bool);
    kestrel::EngineConfig config;
    config.max_memory_pages = 16;
    config.max_table_elements = 1000;
    config.instance_pool_size = 1;
    config.deadline = std::chrono::milliseconds(10);
    config.max_cached_patterns = 64;
    return kestrel::Engine(runtime(), std::move(schema), config);
  }();
  return engine;
}

void evaluate_predicate(std::span<const std::uint8_t> wasm) {
  kestrel::Event event;
  event.set(1, std::string("/bin/bash")).set(2, std::int64_t{4242}).set(5, true);
  auto result = kestrel_engine().eval_adhoc_predicate(wasm, event);
  trace("eval_adhoc_predicate", result);
  if (!result) {
    check_error("eval_adhoc_predicate", result.error(),
                {ErrorKind::Timeout, ErrorKind::OutOfFuel, ErrorKind::MemoryLimit, ErrorKind::Trap,
                 ErrorKind::AbiViolation, ErrorKind::GuestError, ErrorKind::LimitExceeded,
                 ErrorKind::InstantiateFailed});
  }
}

void call_every_hook(const Plugin& plugin) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(kInput.data());
  for (Hook hook : kHooks) {
    auto out = runtime().call(plugin, hook, std::span(bytes, kInput.size()));
    trace(std::string(to_string(plugin.abi())) + " " + std::string(to_string(hook)), out);
    if (!out) {
      // InvalidArgument: the plugin does not have this hook.
      check_call_error("call", out.error(), plugin, hook,
                       {ErrorKind::InvalidArgument, ErrorKind::Timeout, ErrorKind::OutOfFuel, ErrorKind::MemoryLimit,
                        ErrorKind::Trap, ErrorKind::AbiViolation, ErrorKind::GuestError, ErrorKind::LimitExceeded,
                        ErrorKind::InstantiateFailed});
      // Outside the Kestrel engine, Kestrel pattern functions have no
      // evaluation to work on: InvalidArgument from the host function.
      if (out.error().kind == ErrorKind::InvalidArgument && plugin.has_hook(hook) &&
          plugin.abi() != AbiProfile::Kestrel) {
        die("call: InvalidArgument for a hook the plugin exports", &out.error());
      }
    } else if (!plugin.has_hook(hook)) {
      die("call: a hook the plugin does not export succeeded");
    }
  }
}

// The kinds load may fail with for bytes that are not an admissible module.
constexpr std::initializer_list<ErrorKind> kLoadKinds = {ErrorKind::CompileFailed, ErrorKind::Rejected,
                                                         ErrorKind::LimitExceeded, ErrorKind::InstantiateFailed};

// Returns whether the module loaded.
bool load_and_call(std::span<const std::uint8_t> wasm, AbiProfile abi, Isolation isolation, bool wasi = false) {
  LoadOptions options;
  options.wasi = wasi;
  options.name = isolation == Isolation::Fresh ? "fuzz" : "fuzz-warm";
  options.abi = abi;
  options.limits = small_limits();
  options.isolation = isolation;
  options.pool.max_instances = 2;
  options.pool.recycle_after_calls = 2;
  auto plugin = runtime().load(wasm, options);
  trace(std::string("load ") + std::string(to_string(abi)) + " " + std::string(to_string(isolation)), plugin);
  if (!plugin) {
    check_error("load", plugin.error(), kLoadKinds);
    return false;
  }
  if (isolation == Isolation::Warm) {
    if (auto ready = runtime().prepare(**plugin); !ready) {
      check_error("prepare", ready.error(), kCallKinds);
    }
  }
  call_every_hook(**plugin);
  if (abi == AbiProfile::Kestrel && isolation == Isolation::Fresh) {
    evaluate_predicate(wasm);
  }
  if (isolation == Isolation::Fresh && !instances_settle_to(0)) {
    die("an instance outlived a fresh call");
  }
  return true;
}

}  // namespace
}  // namespace wasmplug::fuzz

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Before libFuzzer installs its signal handlers: Wasmtime's come first in
  // the chain, so wasm traps stay traps (see tests/fuzz/README.md).
  (void)wasmplug::fuzz::runtime();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wasmplug;
  using namespace wasmplug::fuzz;
  const std::span<const std::uint8_t> wasm(data, size);
  for (AbiProfile abi : kProfiles) {
    LoadOptions options;
    options.abi = abi;
    options.limits = small_limits();
    auto report = runtime().inspect(wasm, options);
    if (!report) {
      check_error("inspect", report.error(), {ErrorKind::CompileFailed, ErrorKind::LimitExceeded, ErrorKind::Rejected});
    }
    const bool loaded = load_and_call(wasm, abi, Isolation::Fresh);
    if (loaded && !(report && report->admitted())) {
      die("load admitted a module that inspect refused or reported problems for");
    }
    if (loaded) {
      load_and_call(wasm, abi, Isolation::Warm);
    }
    // A module that imports WASI: again with the WASI capability set.
    if (report && !report->wasi_functions.empty()) {
      options.wasi = true;
      auto with_wasi = runtime().inspect(wasm, options);
      if (!with_wasi) {
        check_error("inspect (wasi)", with_wasi.error(),
                    {ErrorKind::CompileFailed, ErrorKind::LimitExceeded, ErrorKind::Rejected});
      }
      if (load_and_call(wasm, abi, Isolation::Fresh, /*wasi=*/true) && !(with_wasi && with_wasi->admitted())) {
        die("load (wasi) admitted a module that inspect refused or reported problems for");
      }
    }
  }
  if (!instances_settle_to(0)) {
    die("instances alive after every plugin was dropped: " + std::to_string(runtime().live_instances()));
  }
  return 0;
}
