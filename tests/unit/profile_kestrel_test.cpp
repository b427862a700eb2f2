// The Kestrel predicate profile: events, schema, host functions, RE2 patterns,
// the seed's engine API, pools and concurrency.
#include "wasmplug/kestrel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "guests.hpp"
#include "host/kestrel_patterns.hpp"

namespace wasmplug::test {
namespace {

using kestrel::Event;
using kestrel::FieldType;

std::shared_ptr<kestrel::SchemaRegistry> schema() {
  auto s = std::make_shared<kestrel::SchemaRegistry>();
  EXPECT_TRUE(s->register_field(1, "process.path", FieldType::String).ok());
  EXPECT_TRUE(s->register_field(2, "process.pid", FieldType::I64).ok());
  EXPECT_TRUE(s->register_field(3, "process.start", FieldType::U64).ok());
  EXPECT_TRUE(s->register_field(4, "score", FieldType::F64).ok());
  EXPECT_TRUE(s->register_field(5, "user.is_root", FieldType::Bool).ok());
  EXPECT_TRUE(s->register_field(6, "tag", FieldType::String).ok());
  EXPECT_TRUE(s->register_field(100, "test.mode", FieldType::I64).ok());
  return s;
}

class Kestrel : public ::testing::Test {
 protected:
  std::unique_ptr<Runtime> rt_ = make_runtime();
  std::shared_ptr<kestrel::SchemaRegistry> schema_ = schema();
  kestrel::Engine engine_{*rt_, schema_};

  Event event(std::int64_t mode, std::string path = "/usr/bin/bash") {
    Event e;
    e.set(100, mode).set(1, std::move(path)).set(2, std::int64_t{1234}).set(3, UINT64_MAX).set(4, 3.5).set(5, true);
    return e;
  }
  kestrel::EvalResult eval(const std::string& rule, const Event& e) {
    auto r = engine_.evaluate(rule, e);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : kestrel::EvalResult{};
  }
};

TEST_F(Kestrel, SchemaAndEvents) {
  EXPECT_EQ(schema_->find("process.pid")->id, 2u);
  EXPECT_EQ(schema_->find(5)->type, FieldType::Bool);
  EXPECT_TRUE(schema_->register_field(2, "process.pid", FieldType::I64).ok());  // same field: no-op
  EXPECT_FALSE(schema_->register_field(2, "other", FieldType::I64).ok());
  EXPECT_FALSE(schema_->register_field(77, "process.pid", FieldType::I64).ok());

  Event e;
  ASSERT_TRUE(e.set(*schema_, "process.pid", std::int64_t{7}).ok());
  auto wrong = e.set(*schema_, "process.pid", std::string("seven"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("field 'process.pid' is i64, got a string value"), std::string::npos);
  EXPECT_FALSE(e.set(*schema_, "nope", true).ok());
  EXPECT_EQ(std::get<std::int64_t>(*e.get(2)), 7);
  EXPECT_EQ(e.get(3), nullptr);
}

TEST_F(Kestrel, SeedExampleRule) {
  ASSERT_TRUE(engine_.compile_rule("detect-bash", guest_bytes("kestrel_bash")).ok());
  Event e;
  e.set(1, std::string("/bin/bash")).set(2, std::int64_t{1234});
  auto r = eval("detect-bash", e);
  EXPECT_TRUE(r.matched);
  ASSERT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(r.alerts[0].rule_id, "detect-bash");
  EXPECT_EQ(r.alerts[0].code, 7);
  e.set(2, std::int64_t{10});
  EXPECT_FALSE(eval("detect-bash", e).matched);
  EXPECT_FALSE(eval("detect-bash", Event{}).matched);  // missing fields read as 0 / empty
}

TEST_F(Kestrel, HostFunctions) {
  ASSERT_TRUE(engine_.compile_rule("modes", guest_bytes("kestrel_modes")).ok());
  EXPECT_TRUE(eval("modes", event(1)).matched);   // event_get_u64
  EXPECT_TRUE(eval("modes", event(2)).matched);   // event_get_f64
  EXPECT_TRUE(eval("modes", event(3)).matched);   // event_get_bool
  EXPECT_FALSE(eval("modes", event(4)).matched);  // event_has_field(6): absent
  EXPECT_TRUE(eval("modes", event(4).set(6, std::string("x"))).matched);
  EXPECT_TRUE(eval("modes", event(5)).matched);   // regex ^/usr/bin/[a-z]*sh$ (full match)
  EXPECT_FALSE(eval("modes", event(5, "/usr/bin/bash -c x")).matched);
  EXPECT_TRUE(eval("modes", event(6)).matched);   // glob /usr/*/b?sh
  EXPECT_FALSE(eval("modes", event(6, "/usr/bin/zsh")).matched);
  EXPECT_TRUE(eval("modes", event(7)).matched);   // string_contains "bin"
  EXPECT_TRUE(eval("modes", event(8)).matched);   // string_starts_with "/usr"
  EXPECT_FALSE(eval("modes", event(8, "/opt/usr")).matched);
  EXPECT_TRUE(eval("modes", event(14)).matched);  // wrong type reads as 0
  auto alerts = eval("modes", event(13));
  EXPECT_FALSE(alerts.matched);
  EXPECT_EQ(alerts.alerts.size(), 3u);  // alerts are collected per evaluation
  EXPECT_TRUE(eval("modes", event(1)).alerts.empty());
}

TEST_F(Kestrel, FailuresAreContainedAndTheRuleKeepsServing) {
  kestrel::EngineConfig config;
  config.deadline = std::chrono::milliseconds(20);
  kestrel::Engine engine(*rt_, schema_, config);
  ASSERT_TRUE(engine.compile_rule("modes", guest_bytes("kestrel_modes")).ok());
  struct Case {
    std::int64_t mode;
    ErrorKind kind;
    const char* message;
  } cases[] = {
      {9, ErrorKind::GuestError, "regex_match: invalid pattern '(': missing )"},
      {15, ErrorKind::GuestError, "glob_match: invalid pattern '/usr/[b': unterminated [ in glob"},
      {16, ErrorKind::AbiViolation, "regex_match: pattern range [65530, 65530+100)"},
      {10, ErrorKind::AbiViolation, "event_get_str: field 1 (13 bytes) to range [65530, 65530+13)"},
      {11, ErrorKind::AbiViolation, "pred_eval returned 7"},
      {12, ErrorKind::Timeout, "deadline of 20 ms"},
  };
  for (const Case& c : cases) {
    auto r = engine.evaluate("modes", event(c.mode));
    ASSERT_FALSE(r.ok()) << c.mode;
    EXPECT_EQ(r.error().kind, c.kind) << r.error().to_string();
    EXPECT_EQ(r.error().plugin, "modes");
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().to_string();
    auto good = engine.evaluate("modes", event(1));
    ASSERT_TRUE(good.ok()) << good.error().to_string();
    EXPECT_TRUE(good->matched);
  }
  EXPECT_EQ(engine.evaluate("missing-rule", event(1)).error().kind, ErrorKind::InvalidArgument);
}

TEST_F(Kestrel, OneSignatureFormIsAdmitted) {
  auto r = engine_.compile_rule("handle", guest_bytes("kestrel_handle_form"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Rejected);
  EXPECT_NE(r.error().message.find("import env.event_get_i64 has type (i32, i32) -> (i64); the kestrel profile "
                                   "provides (i32) -> (i64) (Kestrel field functions take (field_id) without an "
                                   "event handle"),
            std::string::npos)
      << r.error().message;
  auto native = engine_.compile_rule("native", guest_bytes("echo"));
  ASSERT_FALSE(native.ok());
  EXPECT_NE(native.error().message.find("missing required export pred_eval () -> (i32)"), std::string::npos);
}

TEST_F(Kestrel, AdhocPredicates) {
  Event e;
  e.set(1, std::string("/bin/zsh")).set(2, std::int64_t{4000}).set(5, true);
  auto r = engine_.eval_adhoc_predicate(guest_bytes("kestrel_pred"), e);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->matched);
  ASSERT_EQ(r->alerts.size(), 1u);
  EXPECT_EQ(r->alerts[0].code, 42);
  e.set(5, false);
  EXPECT_FALSE(engine_.eval_adhoc_predicate(guest_bytes("kestrel_pred"), e)->matched);
  EXPECT_EQ(engine_.eval_adhoc_predicate(bytes("junk"), e).error().kind, ErrorKind::CompileFailed);
}

TEST_F(Kestrel, PatternsAreCompiledOnceAndBounded) {
  kestrel::PatternCache cache(2);
  EXPECT_EQ(std::get<bool>(cache.match(kestrel::PatternCache::Kind::Regex, "a+b", "aaab")), true);
  EXPECT_EQ(std::get<bool>(cache.match(kestrel::PatternCache::Kind::Regex, "a+b", "aaa")), false);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<std::string>(cache.match(kestrel::PatternCache::Kind::Regex, "(", "")));
  EXPECT_EQ(cache.size(), 2u);  // a bad pattern is cached as bad
  EXPECT_EQ(std::get<bool>(cache.match(kestrel::PatternCache::Kind::Glob, "*.log", "x.log")), true);
  EXPECT_EQ(cache.size(), 2u);  // full: still answers, stops caching
  // Catastrophic backtracking patterns are linear in RE2.
  std::string text(5000, 'a');
  EXPECT_EQ(std::get<bool>(cache.match(kestrel::PatternCache::Kind::Regex, "(a+)+b", text)), false);
  EXPECT_EQ(kestrel::PatternCache::glob_to_regex("a[!b]c?*.x"), "(?s)a[^b]c..*\\.x");
  EXPECT_FALSE(kestrel::PatternCache::glob_to_regex("[abc").has_value());
  std::string huge(2000, 'a');
  EXPECT_TRUE(std::holds_alternative<std::string>(cache.match(kestrel::PatternCache::Kind::Regex, huge, "a")));
}

TEST_F(Kestrel, RulesEvaluateFromManyThreads) {
  kestrel::EngineConfig config;
  config.instance_pool_size = 4;
  kestrel::Engine engine(*rt_, schema_, config);
  ASSERT_TRUE(engine.compile_rule("pred", guest_bytes("kestrel_pred")).ok());
  ASSERT_TRUE(engine.compile_rule("modes", guest_bytes("kestrel_modes")).ok());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        Event e;
        const bool root = (i + t) % 2 == 0;
        e.set(1, std::string(i % 3 == 0 ? "/bin/bash" : "/bin/cat")).set(2, std::int64_t{5000}).set(5, root);
        auto r = engine.evaluate("pred", e);
        const bool expected = root && i % 3 == 0;
        if (!r.ok() || r->matched != expected || r->alerts.size() != (expected ? 1u : 0u)) {
          wrong.fetch_add(1);
        }
        auto m = engine.evaluate("modes", event(5, i % 2 == 0 ? "/usr/bin/sh" : "/usr/bin/s h"));
        if (!m.ok() || m->matched != (i % 2 == 0)) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(engine.cached_patterns(), 1u);
}

}  // namespace
}  // namespace wasmplug::test
