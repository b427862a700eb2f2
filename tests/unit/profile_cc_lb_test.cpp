// The cc-lb hook profile: plugins written to the cc-lb seed contract.
#include <gtest/gtest.h>

#include "guests.hpp"
#include "wasmplug/profiles.hpp"
#include "wasmplug/registry.hpp"

namespace wasmplug::test {
namespace {

LoadOptions cc_lb(std::string name) {
  LoadOptions options;
  options.name = std::move(name);
  options.abi = AbiProfile::CcLb;
  return options;
}

class CcLb : public ::testing::Test {
 protected:
  std::unique_ptr<Runtime> rt_ = make_runtime();
  std::shared_ptr<const Plugin> good_ = load_guest(*rt_, "cc_lb_good", cc_lb("lb"));
  std::shared_ptr<const Plugin> hostile_ = load_guest(*rt_, "cc_lb_hostile", cc_lb("lb-hostile"));
};

TEST_F(CcLb, HooksMapToTheSeedExports) {
  EXPECT_TRUE(good_->has_hook(Hook::Filter));     // cc_lb_filter
  EXPECT_TRUE(good_->has_hook(Hook::Transform));  // cc_lb_shape
  EXPECT_TRUE(good_->has_hook(Hook::Observe));    // cc_lb_observe
  EXPECT_FALSE(good_->report().abi_version.has_value());  // no marker in cc-lb modules

  auto verdict = rt_->call(*good_, Hook::Filter, bytes("request"));
  ASSERT_TRUE(verdict.ok()) << verdict.error().to_string();
  EXPECT_EQ(verdict->kind, Output::Kind::Bytes);  // cc-lb filters answer encoded bytes
  EXPECT_EQ(verdict->bytes, std::vector<std::uint8_t>{1});
  auto shaped = rt_->call(*good_, Hook::Transform, bytes("abc"));
  ASSERT_TRUE(shaped.ok());
  EXPECT_EQ(shaped->text(), "cba");
  auto observed = rt_->call(*good_, Hook::Observe, bytes("abc"));
  ASSERT_TRUE(observed.ok());
  EXPECT_EQ(observed->kind, Output::Kind::Done);
}

TEST_F(CcLb, CGuestWithoutSdk) {
  auto p = load_guest(*rt_, "cc_lb_upper", cc_lb("upper"));
  auto out = rt_->call(*p, Hook::Transform, bytes("shape me"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), "SHAPE ME");
  EXPECT_FALSE(p->has_hook(Hook::Filter));
}

struct Violation {
  Hook hook;
  const char* input;
  ErrorKind kind;
  Phase phase;
  const char* message;
  const char* label;
};

TEST_F(CcLb, OutputRulesAndTraps) {
  const Violation cases[] = {
      {Hook::Filter, "N", ErrorKind::AbiViolation, Phase::Read,
       "cc_lb_filter: guest returned invalid (ptr=0, len=0); only observe may return (0, 0)", "reject"},
      {Hook::Transform, "N", ErrorKind::AbiViolation, Phase::Read, "cc_lb_shape: guest returned invalid", "reject"},
      {Hook::Filter, "P", ErrorKind::AbiViolation, Phase::Read, "(ptr=1024, len=0)", "reject"},
      {Hook::Transform, "O", ErrorKind::AbiViolation, Phase::Read,
       "cc_lb_shape returned an output range [65520, 65520+256)", "reject"},
      {Hook::Filter, "U", ErrorKind::Trap, Phase::Call, "unreachable", "cc_lb_filter"},
      {Hook::Transform, "L", ErrorKind::Timeout, Phase::Call, "deadline", "cc_lb_shape"},
  };
  for (const Violation& c : cases) {
    auto out = rt_->call(*hostile_, c.hook, bytes(c.input));
    ASSERT_FALSE(out.ok()) << c.input;
    EXPECT_EQ(out.error().kind, c.kind) << out.error().to_string();
    EXPECT_EQ(out.error().phase, c.phase) << out.error().to_string();
    EXPECT_NE(out.error().message.find(c.message), std::string::npos) << out.error().to_string();
    EXPECT_EQ(cc_lb_phase_label(out.error()), c.label) << out.error().to_string();
    auto good = rt_->call(*hostile_, c.hook, bytes("fine"));
    ASSERT_TRUE(good.ok()) << "the plugin keeps serving after " << c.input;
    EXPECT_EQ(good->text(), "fine");
  }
  // Only observe may answer (0, 0); an observe that returns bytes gives them back.
  EXPECT_EQ(rt_->call(*hostile_, Hook::Observe, bytes("x"))->kind, Output::Kind::Done);
  EXPECT_EQ(rt_->call(*hostile_, Hook::Observe, bytes("Echo"))->text(), "Echo");
}

TEST_F(CcLb, NullAllocationIsATrapInPhaseCcLbAlloc) {
  auto p = load_guest(*rt_, "cc_lb_alloc_zero", cc_lb("zero"));
  auto out = rt_->call(*p, Hook::Transform, bytes("x"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::Trap);
  EXPECT_EQ(out.error().phase, Phase::Alloc);
  EXPECT_NE(out.error().message.find("null pointer for 1-byte allocation"), std::string::npos);
  EXPECT_EQ(cc_lb_phase_label(out.error()), "cc_lb_alloc");
}

TEST_F(CcLb, AdmissionAppliesTheCcLbContract) {
  auto p = rt_->load(guest_bytes("cc_lb_bad_import"), cc_lb("bad"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::Rejected);
  EXPECT_NE(p.error().message.find("import env.now () -> (i64) is not provided by the cc-lb profile (allowed: none)"),
            std::string::npos)
      << p.error().message;
  EXPECT_NE(p.error().message.find("export cc_lb_filter has type (i32, i32) -> (i32)"), std::string::npos);
  EXPECT_EQ(cc_lb_phase_label(p.error()), "reject");
  // A native plugin is not a cc-lb plugin.
  auto native = rt_->load(guest_bytes("echo"), cc_lb("native"));
  ASSERT_FALSE(native.ok());
  EXPECT_NE(native.error().message.find("missing required export cc_lb_alloc"), std::string::npos);
  EXPECT_EQ(cc_lb_phase_label(rt_->load(bytes("junk"), cc_lb("junk")).error()), "compile");
}

TEST_F(CcLb, SlotKindNeedsTheMatchingExport) {
  Registry registry(*rt_);
  SlotOptions options;
  options.load.abi = AbiProfile::CcLb;
  auto v = registry.register_plugin("shape-only", Hook::Filter, guest_bytes("cc_lb_upper"), options);
  ASSERT_FALSE(v.ok());
  // The seed refuses it at inspection (ModuleRejected): here admission, naming the export.
  EXPECT_EQ(v.error().kind, ErrorKind::Rejected) << v.error().to_string();
  EXPECT_EQ(v.error().phase, Phase::Admit);
  EXPECT_NE(v.error().message.find("missing export cc_lb_filter (i32, i32) -> (i64)"), std::string::npos)
      << v.error().message;
  EXPECT_EQ(cc_lb_phase_label(v.error()), "reject");
  ASSERT_TRUE(registry.register_plugin("shape", Hook::Transform, guest_bytes("cc_lb_upper"), options).ok());
  EXPECT_EQ(registry.call("shape", bytes("ok"))->text(), "OK");
  SlotOptions probe = options;
  probe.canary_probe = std::vector<std::uint8_t>{'L'};
  auto failed = registry.register_plugin("shape", Hook::Transform, guest_bytes("cc_lb_hostile"), probe);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(cc_lb_phase_label(failed.error()), "probe");
}

TEST_F(CcLb, RequiredHooksAreCheckedAtAdmission) {
  // Held without requirements first: the cached plugin must not bypass the check.
  auto loose = load_guest(*rt_, "cc_lb_upper", cc_lb("upper"));
  LoadOptions strict = cc_lb("upper");
  strict.required_hooks = {Hook::Filter};
  auto refused = rt_->load(guest_bytes("cc_lb_upper"), strict);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(refused.error().phase, Phase::Admit);
  EXPECT_EQ(refused.error().message,
            "rejected: missing export cc_lb_filter (i32, i32) -> (i64): the host requires the filter hook "
            "(LoadOptions::required_hooks)");
  auto report = rt_->inspect(guest_bytes("cc_lb_upper"), strict);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->admitted());

  strict.required_hooks = {Hook::Transform, Hook::Transform};
  auto admitted = rt_->load(guest_bytes("cc_lb_upper"), strict);
  ASSERT_TRUE(admitted.ok()) << admitted.error().to_string();
  EXPECT_EQ(rt_->call(**admitted, Hook::Transform, bytes("ok"))->text(), "OK");
  EXPECT_EQ(rt_->call(*loose, Hook::Transform, bytes("ok"))->text(), "OK");

  // A hook the profile does not have at all is the host's mistake.
  LoadOptions kestrel;
  kestrel.abi = AbiProfile::Kestrel;
  kestrel.required_hooks = {Hook::Transform};
  auto bad = rt_->load(guest_bytes("cc_lb_upper"), kestrel);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(bad.error().message.find("LoadOptions::required_hooks names the transform hook, which the kestrel profile"),
            std::string::npos)
      << bad.error().message;
}

}  // namespace
}  // namespace wasmplug::test
