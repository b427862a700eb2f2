// Giving plugins host functions: register a typed C++ callable, grant it to a
// plugin by name, let the plugin call it. Built and run by the tests
// (docs/embedding.md, "Host functions").
//
//   host_functions path/to/geo.wasm
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "wasmplug/host.hpp"
#include "wasmplug/runtime.hpp"

namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// What the host function needs: shared by every plugin and calling thread,
// so read-only or thread-safe (here: a const table and an atomic counter).
struct GeoTable {
  std::map<std::string, std::string, std::less<>> countries{{"192.0.2.7", "NZ"}, {"198.51.100.1", "PT"}};
  std::atomic<std::uint64_t> lookups{0};
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s geo.wasm\n", argv[0]);
    return 2;
  }
  auto table = std::make_shared<GeoTable>();

  // env.country_of(ip_ptr, ip_len, out_ptr, out_cap) -> i32: the wasm
  // signature (i32, i32, i32, i32) -> i32 comes from the lambda's types.
  // Guest memory is reached only through the context, bounds-checked: a bad
  // pointer becomes an AbiViolation for this call, never a host crash.
  auto country_of = wasmplug::HostFunction::make(
      "env", "country_of",
      [table](wasmplug::HostCallContext& cx, std::uint32_t ip_ptr, std::uint32_t ip_len, std::uint32_t out_ptr,
              std::uint32_t out_cap) -> wasmplug::Result<std::int32_t> {
        auto ip = cx.read_text(ip_ptr, ip_len);
        if (!ip) {
          return std::move(ip).error();
        }
        table->lookups.fetch_add(1, std::memory_order_relaxed);
        auto it = table->countries.find(*ip);
        if (it == table->countries.end()) {
          return -1;
        }
        if (it->second.size() > out_cap) {
          return cx.error(wasmplug::ErrorKind::AbiViolation,
                          "country_of: the output buffer of " + std::to_string(out_cap) + " bytes is too small");
        }
        if (auto written = cx.write(out_ptr, as_bytes(it->second)); !written) {
          return std::move(written).error();
        }
        return static_cast<std::int32_t>(it->second.size());
      });

  wasmplug::RuntimeConfig config;
  config.host_functions = {country_of};
  auto runtime = wasmplug::Runtime::create(std::move(config));
  if (!runtime) {
    std::fprintf(stderr, "runtime: %s\n", runtime.error().to_string().c_str());
    return 1;
  }

  // Without a grant, admission refuses the import by name.
  wasmplug::LoadOptions options;
  options.name = "geo";
  auto refused = (*runtime)->load_file(argv[1], options);
  if (refused) {
    std::fprintf(stderr, "expected a rejection without the grant\n");
    return 1;
  }
  std::printf("without grant: %s\n", refused.error().to_string().c_str());

  // With it, the plugin may import env.country_of (and nothing else of ours).
  options.host_functions = {{"env", "country_of"}};
  auto plugin = (*runtime)->load_file(argv[1], options);
  if (!plugin) {
    std::fprintf(stderr, "load: %s\n", plugin.error().to_string().c_str());
    return 1;
  }
  for (std::string_view record : {R"({"ip":"192.0.2.7","path":"/a"})", R"({"ip":"203.0.113.9","path":"/b"})"}) {
    auto out = (*runtime)->call(**plugin, wasmplug::Hook::Transform, as_bytes(record));
    if (!out) {
      std::fprintf(stderr, "call: %s\n", out.error().to_string().c_str());
      return 1;
    }
    std::printf("%.*s\n", static_cast<int>(out->text().size()), out->text().data());
  }
  std::printf("lookups: %llu\n", static_cast<unsigned long long>(table->lookups.load()));
  return 0;
}
