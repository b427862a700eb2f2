// RuntimeConfig validation and per-plugin limits against it: a bad value is an
// error naming the field, never an abort.
#include <gtest/gtest.h>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

struct BadConfig {
  const char* field;
  RuntimeConfig config;
};

std::vector<BadConfig> bad_configs() {
  std::vector<BadConfig> out;
  auto add = [&](const char* field, auto mutate) {
    RuntimeConfig c;
    mutate(c);
    out.push_back({field, c});
  };
  add("max_instances", [](RuntimeConfig& c) { c.max_instances = 0; });
  add("max_memory_bytes", [](RuntimeConfig& c) { c.max_memory_bytes = 1000; });
  add("max_memory_bytes", [](RuntimeConfig& c) { c.max_memory_bytes = 8ULL << 30; });
  add("max_table_elements", [](RuntimeConfig& c) { c.max_table_elements = 0; });
  add("max_module_bytes", [](RuntimeConfig& c) { c.max_module_bytes = 0; });
  add("max_wasm_stack", [](RuntimeConfig& c) { c.max_wasm_stack = 100; });
  add("epoch_tick", [](RuntimeConfig& c) { c.epoch_tick = std::chrono::microseconds(1); });
  add("memory_keep_resident", [](RuntimeConfig& c) { c.memory_keep_resident = 1ULL << 40; });
  add("max_log_message_bytes", [](RuntimeConfig& c) { c.max_log_message_bytes = 0; });
  add("max_log_lines_per_call", [](RuntimeConfig& c) { c.max_log_lines_per_call = 0; });
  add("max_log_bytes_per_call", [](RuntimeConfig& c) { c.max_log_bytes_per_call = 0; });
  add("min_log_level", [](RuntimeConfig& c) { c.min_log_level = static_cast<LogLevel>(5); });
  add("log_queue_records", [](RuntimeConfig& c) { c.log_queue_records = 0; });
  add("log_queue_records", [](RuntimeConfig& c) { c.log_queue_records = 2'000'000; });
  add("retire_queue_instances", [](RuntimeConfig& c) { c.retire_queue_instances = 200'000; });
  return out;
}

TEST(Config, EachBadFieldIsNamed) {
  for (const BadConfig& bad : bad_configs()) {
    auto rt = Runtime::create(bad.config);
    ASSERT_FALSE(rt.ok()) << bad.field;
    EXPECT_EQ(rt.error().kind, ErrorKind::InvalidArgument) << bad.field;
    EXPECT_EQ(rt.error().phase, Phase::Config);
    EXPECT_NE(rt.error().message.find(bad.field), std::string::npos) << rt.error().message;
  }
}

TEST(Config, DefaultsCreateARuntime) {
  auto rt = make_runtime();
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->config().max_instances, 256u);
  EXPECT_EQ(rt->live_instances(), 0u);
}

TEST(Config, LimitsBeyondTheRuntimeAreRefused) {
  auto rt = make_runtime();
  LoadOptions options;
  options.limits.memory_bytes = 128u << 20;  // runtime max: 64 MiB
  auto p = rt->load(guest_bytes("echo"), options);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(p.error().message.find("max_memory_bytes"), std::string::npos);

  options = {};
  options.limits.table_elements = 1'000'000;
  EXPECT_EQ(rt->load(guest_bytes("echo"), options).error().kind, ErrorKind::InvalidArgument);

  options = {};
  options.limits.fuel = 1000;  // fuel not enabled
  p = rt->load(guest_bytes("echo"), options);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("enable_fuel"), std::string::npos);

  options = {};
  options.limits.deadline = std::chrono::milliseconds(0);
  EXPECT_EQ(rt->load(guest_bytes("echo"), options).error().kind, ErrorKind::InvalidArgument);
}

TEST(Config, ErrorToStringIsOneReadableLine) {
  Error e{ErrorKind::Trap, Phase::Call, "redact", "transform", "wasm trap: unreachable", TrapCode::Unreachable};
  EXPECT_EQ(e.to_string(),
            "Trap(unreachable) in call (plugin 'redact', hook 'transform'): wasm trap: unreachable");
}

}  // namespace
}  // namespace wasmplug::test
