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
  for (const char* stem : {"upper", "title", "json_fields"}) {
    auto p = load_guest(*rt_, stem);
    ASSERT_TRUE(p) << stem;
    for (const ExternInfo& imp : p->report().imports) {
      EXPECT_EQ(imp.module, "wasmplug") << stem << " imports " << imp.module << "." << imp.name;
    }
    EXPECT_EQ(p->report().abi_version, 1u);
    EXPECT_EQ(p->report().has_init, std::string_view(stem) != "json_fields") << stem;
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

TEST_F(Sdk, JsonGuestReadsAndWritesFields) {
  // <wasmplug/json.h> in a plugin: path lookup, unescaping, int64/double
  // parsing, and escaped strings and numbers written back without printf.
  auto p = load_guest(*rt_, "json_fields");
  ASSERT_TRUE(p);
  auto out = rt_->call(*p, Hook::Transform, bytes(R"({"id": 41, "ratio": 0.12351, "level": "error",
      "user": {"tags": ["a", {"b": [1, 2]}, null], "name": "Ann \"Q\" \u00e9\n\ud83d\ude00"}})"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(),
            "{\"name\":\"Ann \\\"Q\\\" \xC3\xA9\\n\xF0\x9F\x98\x80\",\"next_id\":42,\"ratio\":0.124,\"tags\":3,"
            "\"error\":true}");
  auto negative = rt_->call(*p, Hook::Transform, bytes(R"({"id":-9223372036854775808,"ratio":-2,"user":{"name":"","tags":[]}})"));
  ASSERT_TRUE(negative.ok()) << negative.error().to_string();
  EXPECT_EQ(negative->text(), R"({"name":"","next_id":-9223372036854775807,"ratio":-2.000,"tags":0,"error":false})");
}

TEST_F(Sdk, JsonGuestRefusesHostileInputAndKeepsServing) {
  auto p = load_guest(*rt_, "json_fields");
  ASSERT_TRUE(p);
  const std::string deep = R"({"user":)" + std::string(200'000, '[');
  const std::string good = R"({"id":1,"ratio":1,"user":{"name":"x","tags":[1]}})";
  const std::pair<std::string, std::string_view> cases[] = {
      {deep, "json_fields: input: nested too deep"},
      {R"({"id":1,"ratio":1,"user":{"name":"x","tags":[1]})", "json_fields: input: malformed"},
      {R"({"id":1,"ratio":1,"user":{"name":"\x","tags":[1]}})", "json_fields: input: malformed"},
      {R"({"id":123456789012345678901234567890,"ratio":1,"user":{"name":"x","tags":[]}})",
       "json_fields: id: too large"},
      {R"({"id":1.5,"ratio":1,"user":{"name":"x","tags":[]}})", "json_fields: id: wrong type"},
      {R"({"id":1,"ratio":1e400,"user":{"name":"x","tags":[]}})", "json_fields: ratio: too large"},
      {R"({"id":1,"ratio":1e300,"user":{"name":"x","tags":[]}})", "json_fields: ratio: too large"},
      {R"({"id":1,"ratio":1,"user":{"name":")" + std::string(64, 'n') + R"(","tags":[]}})",
       "json_fields: user.name: too large"},
      {R"({"id":1,"ratio":1,"user":{"name":"\ud800","tags":[]}})", "json_fields: user.name: malformed"},
      {R"({"id":1,"ratio":1,"user":{"tags":[]}})", "json_fields: user.name: missing"},
      {R"({"id":1,"ratio":1,"user":{"name":"x","tags":7}})", "json_fields: user.tags: wrong type"},
  };
  for (const auto& [input, message] : cases) {
    auto out = rt_->call(*p, Hook::Transform, bytes(input));
    ASSERT_FALSE(out.ok()) << message;
    EXPECT_EQ(out.error().kind, ErrorKind::GuestError) << message;
    EXPECT_EQ(out.error().message, message);
    auto next = rt_->call(*p, Hook::Transform, bytes(good));
    ASSERT_TRUE(next.ok()) << next.error().to_string();
    EXPECT_EQ(next->text(), R"({"name":"x","next_id":2,"ratio":1.000,"tags":1,"error":false})");
  }
  auto tripped = rt_->call(*p, Hook::Transform, bytes(R"({"assert_false":1})"));
  ASSERT_FALSE(tripped.ok());
  EXPECT_EQ(tripped.error().kind, ErrorKind::GuestError);
  EXPECT_TRUE(tripped.error().message.starts_with(
      R"(assertion failed: wp_json_get(root, "assert_false", &v) != WP_JSON_OK ()"))
      << tripped.error().message;
  EXPECT_NE(tripped.error().message.find("json_fields.c:"), std::string::npos) << tripped.error().message;
}

}  // namespace
}  // namespace wasmplug::test
