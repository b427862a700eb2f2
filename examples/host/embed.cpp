// Embedding wasmplug: create a Runtime, load a plugin, call it, handle errors.
// Built and run by the tests (docs/embedding.md walks through it).
//
//   embed_host path/to/redact.wasm
#include <cstdio>
#include <string_view>

#include "wasmplug/runtime.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PLUGIN.wasm\n", argv[0]);
    return 2;
  }

  // One Runtime per process: it owns the engine and the epoch ticker.
  auto runtime = wasmplug::Runtime::create();
  if (!runtime) {
    std::fprintf(stderr, "runtime: %s\n", runtime.error().to_string().c_str());
    return 1;
  }

  // Admission + compile happen here; no guest code runs yet.
  wasmplug::LoadOptions options;
  options.name = "redact";
  options.limits.deadline = std::chrono::milliseconds(20);
  auto plugin = (*runtime)->load_file(argv[1], options);
  if (!plugin) {
    std::fprintf(stderr, "load: %s\n", plugin.error().to_string().c_str());
    return 1;
  }

  // Each call runs in a fresh instance; the Plugin is shareable across threads.
  std::string_view event = R"({"user":"ann@example.com","card":"4111-1111-1111-1111"})";
  auto input = std::span(reinterpret_cast<const std::uint8_t*>(event.data()), event.size());
  auto out = (*runtime)->call(**plugin, wasmplug::Hook::Transform, input);
  if (!out) {
    // kind, phase, plugin, hook and message: enough to decide what to do.
    std::fprintf(stderr, "call: %s\n", out.error().to_string().c_str());
    return 1;
  }
  if (out->kind == wasmplug::Output::Kind::Drop) {
    std::puts("(dropped)");
  } else {
    std::printf("%.*s\n", static_cast<int>(out->text().size()), out->text().data());
  }
  return 0;
}
