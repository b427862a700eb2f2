// Hostile bytes at admission: thousands of deterministic mutations (bit flips,
// byte overwrites, truncations, section-size lies) of real modules. Every one
// must load or fail with a classified error — and when it loads, calls must
// succeed or fail with a classified error. No crash, no hang, no abort.
#include <gtest/gtest.h>

#include <random>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

bool load_error_kind(ErrorKind kind) {
  return kind == ErrorKind::CompileFailed || kind == ErrorKind::Rejected || kind == ErrorKind::InstantiateFailed;
}

std::vector<std::uint8_t> mutate(const std::vector<std::uint8_t>& wasm, std::mt19937& rng) {
  std::vector<std::uint8_t> out = wasm;
  std::uniform_int_distribution<std::size_t> pos(8, out.size() - 1);  // keep the header: reach the parsers
  switch (rng() % 4) {
    case 0:  // flip a few bits
      for (int i = 0; i < 1 + static_cast<int>(rng() % 4); ++i) {
        out[pos(rng)] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      }
      break;
    case 1:  // overwrite a byte with an "interesting" value
      out[pos(rng)] = std::array<std::uint8_t, 6>{0x00, 0x7f, 0x80, 0xff, 0x40, 0x70}[rng() % 6];
      break;
    case 2:  // truncate
      out.resize(pos(rng));
      break;
    default:  // a LEB continuation run (huge sizes and counts)
      for (std::size_t i = pos(rng), n = 0; i < out.size() && n < 5; ++i, ++n) {
        out[i] = 0xff;
      }
      break;
  }
  return out;
}

TEST(Mutation, MutatedModulesNeverCrashTheHost) {
  RuntimeConfig config;
  config.log_sink = [](const LogRecord&) {};
  auto rt = make_runtime(config);
  std::mt19937 rng(20261121);
  std::size_t loaded = 0;
  std::size_t rejected = 0;
  std::size_t calls = 0;
  for (const char* stem : {"echo", "upper", "hostile", "stateful", "kestrel_modes", "cc_lb_good"}) {
    const auto original = guest_bytes(stem);
    const AbiProfile abi = std::string_view(stem).starts_with("kestrel") ? AbiProfile::Kestrel
                           : std::string_view(stem).starts_with("cc_lb") ? AbiProfile::CcLb
                                                                           : AbiProfile::Native;
    for (int i = 0; i < 400; ++i) {
      LoadOptions options;
      options.name = stem;
      options.abi = abi;
      options.limits.deadline = std::chrono::milliseconds(20);
      auto plugin = rt->load(mutate(original, rng), options);
      if (!plugin) {
        EXPECT_TRUE(load_error_kind(plugin.error().kind)) << plugin.error().to_string();
        EXPECT_FALSE(plugin.error().message.empty());
        ++rejected;
        continue;
      }
      ++loaded;
      for (Hook hook : {Hook::Filter, Hook::Transform, Hook::Observe}) {
        if (!(*plugin)->has_hook(hook)) {
          continue;
        }
        auto out = rt->call(**plugin, hook, bytes("mutated input"));
        ++calls;
        if (!out) {
          EXPECT_FALSE(out.error().message.empty()) << out.error().to_string();
          EXPECT_NE(out.error().kind, ErrorKind::InvalidArgument) << out.error().to_string();
        }
      }
    }
  }
  EXPECT_EQ(rt->live_instances(), 0u);
  // The mutations must reach both outcomes, or the test proves nothing.
  EXPECT_GT(rejected, 100u);
  EXPECT_GT(loaded, 100u);
  EXPECT_GT(calls, 100u);
}

}  // namespace
}  // namespace wasmplug::test
