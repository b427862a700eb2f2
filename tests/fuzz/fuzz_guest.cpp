// fuzz_guest: the fuzzer plays the guest. One plugin per ABI profile
// (guest/script_guest.c) follows a script taken from the input, so the
// pointers, lengths, verdicts, allocator results, shutdown status and host
// calls (with their arguments) on the guest's side of every ABI are chosen by
// the fuzzer. Input: byte 0 picks the profile (bits 0-1) and the hook
// (byte 0 / 4 % 3); native with byte 0 >= 192 is the native guest with the
// WASI capability set (fuzz_guest_wasi, LoadOptions::wasi): its host calls
// reach every WASI function with chosen pointers, lengths, iovecs and
// subscriptions. The rest is the script (see script_guest.c).
//
// Each input runs the script through a fresh plugin and twice through a warm
// one (the first warm call arms the allocator result for the second), then a
// good call on the same warm plugin must still succeed. Every failed call
// must be a complete Error of a call kind, and instances may not leak.
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "wasmplug/kestrel.hpp"

namespace wasmplug::fuzz {
namespace {

constexpr std::size_t kMaxScript = 4000;

std::vector<std::uint8_t> read_guest(const char* stem) {
  const std::filesystem::path path = std::filesystem::path(WASMPLUG_FUZZ_GUEST_DIR) / (std::string(stem) + ".wasm");
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) {
    die("cannot read " + path.string());
  }
  return bytes;
}

// A fresh and a warm plugin of one profile's guest.
struct Pair {
  std::shared_ptr<const Plugin> fresh;
  std::shared_ptr<const Plugin> warm;
};

Pair load_pair(const char* stem, AbiProfile abi, bool wasi = false) {
  const auto wasm = read_guest(stem);
  Pair pair;
  for (Isolation isolation : {Isolation::Fresh, Isolation::Warm}) {
    LoadOptions options;
    options.name = std::string(stem) + (isolation == Isolation::Fresh ? "-fresh" : "-warm");
    options.abi = abi;
    options.limits = small_limits();
    options.isolation = isolation;
    options.wasi = wasi;
    options.pool.max_instances = 1;
    // Retire instances often, so scripted wp_shutdown results are exercised.
    options.pool.recycle_after_calls = 3;
    auto plugin = runtime().load(wasm, options);
    if (!plugin) {
      die(std::string("load ") + stem, &plugin.error());
    }
    (isolation == Isolation::Fresh ? pair.fresh : pair.warm) = std::move(plugin).value();
  }
  return pair;
}

struct Kestrel {
  std::shared_ptr<kestrel::SchemaRegistry> schema = std::make_shared<kestrel::SchemaRegistry>();
  std::unique_ptr<kestrel::Engine> engine;
};

Kestrel make_kestrel() {
  Kestrel k;
  using kestrel::FieldType;
  const std::array<std::pair<const char*, FieldType>, 6> fields = {{{"script", FieldType::String},
                                                                     {"pid", FieldType::I64},
                                                                     {"uid", FieldType::U64},
                                                                     {"score", FieldType::F64},
                                                                     {"is_root", FieldType::Bool},
                                                                     {"process.name", FieldType::String}}};
  std::uint32_t id = 1;
  for (const auto& [name, type] : fields) {
    if (auto added = k.schema->register_field(id++, name, type); !added) {
      die("register_field", &added.error());
    }
  }
  kestrel::EngineConfig config;
  config.max_memory_pages = 16;
  config.max_table_elements = 1000;
  config.instance_pool_size = 1;
  config.instance_timeout = std::chrono::milliseconds(100);
  config.deadline = std::chrono::milliseconds(10);
  config.max_cached_patterns = 64;
  k.engine = std::make_unique<kestrel::Engine>(runtime(), k.schema, config);
  if (auto compiled = k.engine->compile_rule("fuzz", read_guest("fuzz_guest_kestrel")); !compiled) {
    die("compile_rule", &compiled.error());
  }
  return k;
}

struct Guests {
  Pair native = load_pair("fuzz_guest_native", AbiProfile::Native);
  Pair wasi = load_pair("fuzz_guest_wasi", AbiProfile::Native, /*wasi=*/true);
  Pair cc_lb = load_pair("fuzz_guest_cc_lb", AbiProfile::CcLb);
  Pair rustcdc = load_pair("fuzz_guest_rustcdc", AbiProfile::Rustcdc);
  Kestrel kestrel = make_kestrel();
};

Guests& guests() {
  static Guests instance;
  return instance;
}

// Warm pools of four plugins (one instance each) and the Kestrel rule's pool.
constexpr std::uint32_t kMaxLiveInstances = 5;

void check_instances() {
  if (!instances_settle_to(kMaxLiveInstances)) {
    die("instances leak: " + std::to_string(runtime().live_instances()) + " alive");
  }
}

// A script of no-ops (every hook then behaves well) whose length differs from
// `avoid`, so that an allocator result armed by the fuzzed script does not apply.
std::vector<std::uint8_t> good_script(std::size_t avoid) {
  return std::vector<std::uint8_t>(avoid == 7 ? 8 : 7, ' ');
}

// A good call may still time out when the machine is busy (its 10 ms cover
// instantiation and init under ASan): only a Timeout is retried, a few times.
template <class Call>
auto good_call(Call call) {
  auto result = call();
  for (int attempt = 1; attempt < 4 && !result && result.error().kind == ErrorKind::Timeout; ++attempt) {
    result = call();
  }
  return result;
}

void run_pair(const Pair& pair, Hook hook, std::span<const std::uint8_t> input, std::span<const std::uint8_t> good) {
  if (auto out = runtime().call(*pair.fresh, hook, input); trace("fresh", out), !out) {
    check_call_error("fresh call", out.error(), *pair.fresh, hook);
  }
  if (!instances_settle_to(kMaxLiveInstances)) {
    die("a fresh call left its instance alive");
  }
  auto first = runtime().call(*pair.warm, hook, input);
  trace("warm", first);
  if (!first) {
    check_call_error("warm call", first.error(), *pair.warm, hook);
  } else if (auto second = runtime().call(*pair.warm, hook, input); trace("warm (armed)", second), !second) {
    check_call_error("warm call (armed)", second.error(), *pair.warm, hook);
  }
  auto after = good_call([&] { return runtime().call(*pair.warm, hook, good); });
  if (!after) {
    die("a good call after the fuzzed ones failed", &after.error());
  }
  check_instances();
}

std::vector<std::uint8_t> as_json_hex(std::span<const std::uint8_t> script) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<std::uint8_t> json;
  json.reserve(script.size() * 2 + 2);
  json.push_back('"');
  for (std::uint8_t b : script) {
    json.push_back(static_cast<std::uint8_t>(kHex[b >> 4]));
    json.push_back(static_cast<std::uint8_t>(kHex[b & 15]));
  }
  json.push_back('"');
  return json;
}

kestrel::Event kestrel_event(std::span<const std::uint8_t> script) {
  kestrel::Event event;
  event.set(1, std::string(reinterpret_cast<const char*>(script.data()), script.size()));
  event.set(2, std::int64_t{4242});
  event.set(3, std::uint64_t{0});
  event.set(4, 0.5);
  event.set(5, true);
  event.set(6, std::string("/usr/bin/bash"));
  return event;
}

void run_kestrel(std::span<const std::uint8_t> script) {
  const kestrel::Engine& engine = *guests().kestrel.engine;
  auto result = engine.evaluate("fuzz", kestrel_event(script));
  trace("evaluate", result);
  if (!result) {
    // The rule's plugin is named after the rule.
    check_error("evaluate", result.error(), kCallKinds);
    if (result.error().phase < Phase::Instantiate) {
      die("evaluate failed in a load phase", &result.error());
    }
  }
  const std::vector<std::uint8_t> good = good_script(script.size());
  auto after = good_call([&] { return engine.evaluate("fuzz", kestrel_event(good)); });
  if (!after) {
    die("a good evaluation after the fuzzed one failed", &after.error());
  }
  if (!after->matched) {
    die("a good evaluation did not match");
  }
  check_instances();
}

}  // namespace
}  // namespace wasmplug::fuzz

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Before libFuzzer installs its signal handlers (see fuzz_load.cpp).
  (void)wasmplug::fuzz::guests();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wasmplug;
  using namespace wasmplug::fuzz;
  if (size == 0) {
    return 0;
  }
  const std::uint8_t selector = data[0];
  const std::span<const std::uint8_t> script(data + 1, std::min(size - 1, kMaxScript));
  const std::vector<std::uint8_t> good = good_script(script.size());
  const auto hook = static_cast<Hook>((selector / 4) % 3);
  Guests& g = guests();
  switch (selector % 4) {
    case 0: run_pair(selector >= 192 ? g.wasi : g.native, hook, script, good); break;
    case 1: run_pair(g.cc_lb, hook, script, good); break;
    case 2: run_pair(g.rustcdc, Hook::Transform, as_json_hex(script), as_json_hex(good)); break;
    default: run_kestrel(script); break;
  }
  return 0;
}
