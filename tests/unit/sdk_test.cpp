// The guest SDKs as a plugin author uses them: the C SDK (tests/guests/c) and
// the C++ layer (tests/guests/cpp), built by wasmplug_add_plugin().
#include <gtest/gtest.h>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

class Sdk : public ::testing::Test {
 protected:
  std::unique_ptr<Runtime> rt_ = make_runtime();
};

TEST_F(Sdk, ModulesImportOnlyWasmplugHostFunctions) {
  for (const char* stem : {"upper", "title"}) {
    auto p = load_guest(*rt_, stem);
    ASSERT_TRUE(p) << stem;
    for (const ExternInfo& imp : p->report().imports) {
      EXPECT_EQ(imp.module, "wasmplug") << stem << " imports " << imp.module << "." << imp.name;
    }
    EXPECT_EQ(p->report().abi_version, 1u);
    EXPECT_TRUE(p->report().has_init) << stem;
  }
}

TEST_F(Sdk, CppTransformWithLibcxx) {
  auto p = load_guest(*rt_, "title");
  auto out = rt_->call(*p, Hook::Transform, bytes("hello plugin  world"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), "Hello Plugin  World");
  auto empty = rt_->call(*p, Hook::Transform, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->kind, Output::Kind::Bytes);
  EXPECT_TRUE(empty->bytes.empty());
}

TEST_F(Sdk, CppStaticConstructorsAndInit) {
  auto defaults = load_guest(*rt_, "title");
  EXPECT_EQ(rt_->call(*defaults, Hook::Filter, bytes("about wasm"))->kind, Output::Kind::Keep);
  EXPECT_EQ(rt_->call(*defaults, Hook::Filter, bytes("about rust"))->kind, Output::Kind::Drop);
  LoadOptions options;
  options.config = {'r', 'u', 's', 't'};
  auto configured = load_guest(*rt_, "title", options);
  EXPECT_EQ(rt_->call(*configured, Hook::Filter, bytes("about rust"))->kind, Output::Kind::Keep);
  options.config.assign(100, 'x');
  auto refused = load_guest(*rt_, "title", options);
  auto ready = rt_->prepare(*refused);
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().phase, Phase::Init);
}

TEST_F(Sdk, CppFailCarriesTheMessage) {
  auto p = load_guest(*rt_, "title");
  auto out = rt_->call(*p, Hook::Transform, bytes("fail"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(out.error().message, "asked to fail from C++");
}

TEST_F(Sdk, WarmCInstanceReusesItsOutputBuffer) {
  // The SDK frees the previous output at the next call: a long warm run must
  // not grow memory.
  LoadOptions options;
  options.isolation = Isolation::Warm;
  auto p = load_guest(*rt_, "upper", options);
  std::string big(4096, 'a');
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(rt_->call(*p, Hook::Transform, bytes(big)).ok());
  }
  EXPECT_EQ(p->pool_stats().created, 1u);
  auto out = rt_->call(*p, Hook::Transform, bytes("done"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->text(), "DONE");
}

}  // namespace
}  // namespace wasmplug::test
