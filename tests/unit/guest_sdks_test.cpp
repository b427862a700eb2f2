// The Rust and AssemblyScript guest SDKs (sdk/rust, sdk/assemblyscript), through
// probe guests (tests/guests/rust/sdk_probe, tests/guests/assemblyscript/
// sdk_probe.ts) that reach every hook and every way a hook can end.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

std::vector<std::string> sdk_languages() {
  std::vector<std::string> langs;
  if (WASMPLUG_HAVE_RUST_GUESTS) {
    langs.emplace_back("rust");
    langs.emplace_back("rust_fresh_alloc");  // the same probe on the SDK's opt-in FreshAlloc
  }
  if (WASMPLUG_HAVE_AS_GUESTS) langs.emplace_back("assemblyscript");
  return langs;
}

class GuestSdks : public ::testing::TestWithParam<std::string> {
 protected:
  LogCapture logs_;
  std::unique_ptr<Runtime> rt_ = make_runtime(logs_.config());

  std::shared_ptr<const Plugin> probe(Isolation isolation = Isolation::Fresh, std::string config = "") {
    LoadOptions options = named("probe-" + GetParam());
    options.isolation = isolation;
    options.config.assign(config.begin(), config.end());
    return load_guest(*rt_, "sdk_probe_" + GetParam(), options);
  }
  Result<Output> transform(const Plugin& p, std::string_view input) { return rt_->call(p, Hook::Transform, bytes(input)); }
  bool logged(std::string_view text) {
    EXPECT_TRUE(rt_->quiesce());  // log records reach the sink on the delivery thread
    auto all = logs_.messages();
    return std::any_of(all.begin(), all.end(), [&](const std::string& m) { return m.find(text) != std::string::npos; });
  }
};

TEST_P(GuestSdks, TransformEmitsEchoesDropsAndEmptyOutputs) {
  auto p = probe();
  ASSERT_TRUE(p);
  auto echo = transform(*p, "hello");
  ASSERT_TRUE(echo.ok()) << echo.error().to_string();
  EXPECT_EQ(echo->kind, Output::Kind::Bytes);
  EXPECT_EQ(echo->text(), "hello");

  auto empty = transform(*p, "");  // the host passes (0, 0)
  ASSERT_TRUE(empty.ok()) << empty.error().to_string();
  EXPECT_EQ(empty->kind, Output::Kind::Bytes);
  EXPECT_TRUE(empty->bytes.empty());

  auto dropped = transform(*p, "drop");
  ASSERT_TRUE(dropped.ok()) << dropped.error().to_string();
  EXPECT_EQ(dropped->kind, Output::Kind::Drop);

  std::string big(1 << 20, 'b');
  auto large = transform(*p, big);
  ASSERT_TRUE(large.ok()) << large.error().to_string();
  EXPECT_EQ(large->bytes.size(), big.size());

  auto logged_call = transform(*p, "log");
  ASSERT_TRUE(logged_call.ok());
  EXPECT_TRUE(logged("probe log"));
}

TEST_P(GuestSdks, PanicsErrorsAndFailuresFailTheCallWithTheirMessage) {
  auto p = probe();
  ASSERT_TRUE(p);
  for (const char* cmd : {"panic", "err", "fail", "index"}) {
    SCOPED_TRACE(cmd);
    auto out = transform(*p, cmd);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::GuestError) << out.error().to_string();
    EXPECT_EQ(out.error().phase, Phase::Call);
    std::string_view want = cmd == std::string_view("panic") ? "probe panicked"
                            : cmd == std::string_view("err")  ? "probe error"
                            : cmd == std::string_view("fail") ? "probe failed"
                                                              : (GetParam().rfind("rust", 0) == 0 ? "index out of bounds"
                                                                                      : "Index out of range");
    EXPECT_NE(out.error().message.find(want), std::string::npos) << out.error().to_string();
    auto good = transform(*p, "still here");  // the same plugin serves the next call
    ASSERT_TRUE(good.ok()) << good.error().to_string();
    EXPECT_EQ(good->text(), "still here");
  }
}

TEST_P(GuestSdks, FilterObserveAndInitHooks) {
  auto p = probe();
  ASSERT_TRUE(p);
  auto kept = rt_->call(*p, Hook::Filter, bytes("keep me"));
  ASSERT_TRUE(kept.ok()) << kept.error().to_string();
  EXPECT_EQ(kept->kind, Output::Kind::Keep);
  auto dropped = rt_->call(*p, Hook::Filter, bytes("drop me"));
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped->kind, Output::Kind::Drop);
  auto empty = rt_->call(*p, Hook::Filter, bytes(""));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->kind, Output::Kind::Drop);
  auto failed = rt_->call(*p, Hook::Filter, bytes("err"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::GuestError);
  EXPECT_NE(failed.error().message.find("probe filter error"), std::string::npos);

  auto seen = rt_->call(*p, Hook::Observe, bytes("observed line"));
  ASSERT_TRUE(seen.ok()) << seen.error().to_string();
  EXPECT_EQ(seen->kind, Output::Kind::Done);
  EXPECT_TRUE(logged("observed line"));

  auto accepted = probe(Isolation::Fresh, "fine");
  ASSERT_TRUE(transform(*accepted, "x").ok());
  auto rejected = probe(Isolation::Fresh, "reject");
  auto out = transform(*rejected, "x");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(out.error().phase, Phase::Init);
  EXPECT_TRUE(logged("probe: config rejected"));
}

TEST_P(GuestSdks, WarmInstancesFreeWhatEachCallAllocated) {
  // 4000 calls of 64 KiB in and out (500 MiB through one instance): an SDK
  // that kept inputs or outputs would hit the 16 MiB memory limit.
  LoadOptions options = named("probe-" + GetParam());
  options.isolation = Isolation::Warm;
  options.pool.max_instances = 1;
  auto p = load_guest(*rt_, "sdk_probe_" + GetParam(), options);
  ASSERT_TRUE(p);
  std::string input(std::size_t{64} * 1024, 'w');
  for (int i = 0; i < 4000; ++i) {
    input[0] = static_cast<char>('a' + i % 26);
    auto out = transform(*p, input);
    ASSERT_TRUE(out.ok()) << "call " << i << ": " << out.error().to_string();
    ASSERT_EQ(out->bytes.size(), input.size());
  }
  // State persists in a warm instance (the output of the previous call stays
  // valid only until the next one; stored state stays).
  ASSERT_TRUE(transform(*p, "keep:remembered").ok());
  auto again = transform(*p, "kept");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->text(), "remembered");
}

TEST_P(GuestSdks, OutOfMemoryIsMemoryLimitAndThePluginRecovers) {
  auto p = probe();
  ASSERT_TRUE(p);
  auto out = transform(*p, "hog:" + std::to_string(32 << 20));  // twice the default 16 MiB limit
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::MemoryLimit) << out.error().to_string();
  auto good = transform(*p, "grow:100");
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->bytes.size(), 100u);
}

INSTANTIATE_TEST_SUITE_P(Languages, GuestSdks, ::testing::ValuesIn(sdk_languages()),
                         [](const auto& param_info) { return param_info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GuestSdks);

}  // namespace
}  // namespace wasmplug::test
