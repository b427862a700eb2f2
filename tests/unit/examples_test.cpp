// The example plugins (examples/plugins/), as a host would run them.
#include <gtest/gtest.h>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

class Examples : public ::testing::Test {
 protected:
  LogCapture logs_;
  std::unique_ptr<Runtime> rt_ = make_runtime(logs_.config());

  std::shared_ptr<const Plugin> example(const std::string& name, std::string config = "",
                                        Isolation isolation = Isolation::Fresh) {
    LoadOptions options;
    options.name = name;
    options.config.assign(config.begin(), config.end());
    options.isolation = isolation;
    auto p = rt_->load_file(example_path(name), options);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().to_string());
    return p.ok() ? p.value() : nullptr;
  }
  Output::Kind verdict(const Plugin& p, std::string_view event) {
    auto out = rt_->call(p, Hook::Filter, bytes(event));
    EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().to_string());
    return out.ok() ? out->kind : Output::Kind::Done;
  }
  std::string transformed(const Plugin& p, std::string_view event) {
    auto out = rt_->call(p, Hook::Transform, bytes(event));
    return out.ok() ? std::string(out->text()) : "error: " + out.error().to_string();
  }
};

TEST_F(Examples, RouteFilterKeepsLevelsAtOrAboveTheConfiguredOne) {
  auto p = example("route-filter", "warn");
  EXPECT_EQ(verdict(*p, R"({"level":"error","msg":"x"})"), Output::Kind::Keep);
  EXPECT_EQ(verdict(*p, R"({"msg":"has \"level\":\"fatal\" in a string","level":"warn"})"), Output::Kind::Keep);
  EXPECT_EQ(verdict(*p, R"({"level":"info"})"), Output::Kind::Drop);
  EXPECT_EQ(verdict(*p, R"({"nested":{"level":"error"}})"), Output::Kind::Drop);  // top level only
  EXPECT_EQ(verdict(*p, R"({"level":7})"), Output::Kind::Drop);
  auto bad = rt_->call(*p, Hook::Filter, bytes("[1,2]"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::GuestError);
  EXPECT_NE(bad.error().message.find("not a JSON object"), std::string::npos);
}

TEST_F(Examples, RouteFilterDefaultsToInfoAndRejectsUnknownLevels) {
  auto p = example("route-filter");
  EXPECT_EQ(verdict(*p, R"({"level":"info"})"), Output::Kind::Keep);
  EXPECT_EQ(verdict(*p, R"({"level":"debug"})"), Output::Kind::Drop);
  auto bogus = example("route-filter", "loud");
  auto ready = rt_->prepare(*bogus);
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(ready.error().phase, Phase::Init);
  ASSERT_TRUE(rt_->quiesce());  // log records reach the sink on the delivery thread
  auto logs = logs_.messages();
  EXPECT_NE(std::find_if(logs.begin(), logs.end(),
                         [](const std::string& l) { return l.find("config must be one of") != std::string::npos; }),
            logs.end());
}

TEST_F(Examples, EnrichAddsComputedFields) {
  auto p = example("enrich");
  EXPECT_EQ(transformed(*p, R"({"level":"error","latency_ms":12.5})"),
            R"({"level":"error","latency_ms":12.5,"latency_class":"fast","alert":true})");
  EXPECT_EQ(transformed(*p, R"({"latency_ms":250} )"), R"({"latency_ms":250,"latency_class":"slow","alert":false} )");
  EXPECT_EQ(transformed(*p, R"({})"), R"({"alert":false})");
  EXPECT_EQ(transformed(*p, R"({"latency_ms":"n/a","level":"info"})"), R"({"latency_ms":"n/a","level":"info","alert":false})");
  EXPECT_NE(transformed(*p, "not json").find("GuestError"), std::string::npos);
}

TEST_F(Examples, CountKeepsARunningCountWhenWarm) {
  {
    auto p = example("count", "every=2", Isolation::Warm);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(rt_->call(*p, Hook::Observe, bytes("{}")).ok());
    }
  }  // the plugin goes: wp_shutdown (on the retirer thread) logs the total
  ASSERT_TRUE(rt_->quiesce());
  EXPECT_EQ(logs_.messages(), (std::vector<std::string>{"events seen: 2", "events seen: 4", "total events: 5"}));
}

TEST_F(Examples, CountStartsAgainWithFreshIsolation) {
  auto p = example("count", "every=1");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(rt_->call(*p, Hook::Observe, bytes("{}")).ok());
  }
  ASSERT_TRUE(rt_->quiesce());
  EXPECT_EQ(logs_.messages(), (std::vector<std::string>{"events seen: 1", "events seen: 1", "events seen: 1"}));
}

}  // namespace
}  // namespace wasmplug::test
