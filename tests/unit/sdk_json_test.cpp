// The C SDK's JSON reader/writer (sdk/c/src/wasmplug_json.c), compiled
// natively from the same sources the plugins use; the guest side end to end
// is in sdk_test.cpp (Sdk.JsonGuest*).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "wasmplug/json.h"

namespace {

const std::uint8_t* u8(std::string_view s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

std::string_view text(const wp_json_value& v) { return {reinterpret_cast<const char*>(v.ptr), v.len}; }

wp_json_result parse(std::string_view s, wp_json_value* v) { return wp_json_parse(u8(s), s.size(), v); }

/// Owns a wp_buf and frees it.
struct Buf {
  wp_buf b{nullptr, 0, 0, 0};
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { std::free(b.data); }
  std::string str() const { return {reinterpret_cast<const char*>(b.data), b.len}; }
};

std::string escaped(std::string_view s) {
  Buf out;
  EXPECT_EQ(wp_json_write_string(&out.b, s.data(), s.size()), 1);
  return out.str();
}

TEST(SdkJson, ParsesEveryValueKind) {
  wp_json_value v;
  const std::pair<std::string_view, wp_json_type> cases[] = {
      {"null", WP_JSON_NULL},         {" true ", WP_JSON_TRUE},  {"false", WP_JSON_FALSE},
      {"-12.5e+3", WP_JSON_NUMBER},   {"0", WP_JSON_NUMBER},     {"\"a\\n\"", WP_JSON_STRING},
      {"[1, [2], {}]", WP_JSON_ARRAY}, {"{\"a\": {\"b\": []}}", WP_JSON_OBJECT},
  };
  for (const auto& [json, type] : cases) {
    ASSERT_EQ(parse(json, &v), WP_JSON_OK) << json;
    EXPECT_EQ(v.type, type) << json;
  }
  ASSERT_EQ(parse("  [1,2]\n", &v), WP_JSON_OK);
  EXPECT_EQ(text(v), "[1,2]");
}

TEST(SdkJson, RejectsMalformedAndTruncatedInput) {
  wp_json_value v;
  for (std::string_view bad :
       {"", " ", "{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}", "{1:2}",
        "\"abc", "\"a\\", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"tab\there\"", "01", "1.", ".5", "-",
        "1e", "+1", "tru", "nul", "[1]]", "{} {}", "[}", "{]", "\"a\"b"}) {
    EXPECT_EQ(parse(bad, &v), WP_JSON_MALFORMED) << bad;
  }
  // Every prefix of a valid document is refused, never read past its end.
  const std::string doc = R"({"a":[1,{"b":"x\"y"},true],"c":-1.5e3,"d":null})";
  ASSERT_EQ(parse(doc, &v), WP_JSON_OK);
  for (std::size_t n = 0; n < doc.size(); ++n) {
    const std::string prefix = doc.substr(0, n);
    EXPECT_NE(parse(prefix, &v), WP_JSON_OK) << prefix;
  }
}

TEST(SdkJson, DeepNestingIsRefusedWithoutRecursion) {
  wp_json_value v;
  std::string ok(WP_JSON_MAX_DEPTH, '[');
  ok += std::string(WP_JSON_MAX_DEPTH, ']');
  EXPECT_EQ(parse(ok, &v), WP_JSON_OK);
  std::string deeper(WP_JSON_MAX_DEPTH + 1, '[');
  deeper += std::string(WP_JSON_MAX_DEPTH + 1, ']');
  EXPECT_EQ(parse(deeper, &v), WP_JSON_TOO_DEEP);
  // A million open brackets: refused at the limit, long before the end.
  const std::string hostile(1'000'000, '[');
  EXPECT_EQ(parse(hostile, &v), WP_JSON_TOO_DEEP);
  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 100'000; ++i) s += "{\"a\":";
    return s;
  }();
  EXPECT_EQ(parse(objects, &v), WP_JSON_TOO_DEEP);
  // A deep value inside an object fails the lookup that has to skip it.
  const std::string deep_member = R"({"x":)" + std::string(200, '[');
  wp_json_value obj{u8(deep_member), deep_member.size(), WP_JSON_OBJECT};
  wp_json_value out;
  EXPECT_EQ(wp_json_get(obj, "y", &out), WP_JSON_TOO_DEEP);
}

TEST(SdkJson, FieldLookupTopLevelAndByPath) {
  const std::string doc =
      R"({ "level" : "warn", "user": {"name": "ann", "tags": ["a", {"id": 7}]}, "level2": 1, "dup": 1, "dup": 2 })";
  wp_json_value root, v;
  ASSERT_EQ(parse(doc, &root), WP_JSON_OK);
  ASSERT_EQ(wp_json_get(root, "level", &v), WP_JSON_OK);
  EXPECT_EQ(text(v), "\"warn\"");
  EXPECT_EQ(v.type, WP_JSON_STRING);
  ASSERT_EQ(wp_json_get(root, "dup", &v), WP_JSON_OK);
  EXPECT_EQ(text(v), "1");
  EXPECT_EQ(wp_json_get(root, "name", &v), WP_JSON_NOT_FOUND);  // only top level
  EXPECT_EQ(wp_json_get(root, "lev", &v), WP_JSON_NOT_FOUND);
  ASSERT_EQ(wp_json_path(root, "user.name", &v), WP_JSON_OK);
  EXPECT_EQ(text(v), "\"ann\"");
  ASSERT_EQ(wp_json_path(root, "user.tags.1.id", &v), WP_JSON_OK);
  EXPECT_EQ(text(v), "7");
  EXPECT_EQ(wp_json_path(root, "user.tags.2", &v), WP_JSON_NOT_FOUND);
  EXPECT_EQ(wp_json_path(root, "user.tags.x", &v), WP_JSON_NOT_FOUND);
  EXPECT_EQ(wp_json_path(root, "level.x", &v), WP_JSON_WRONG_TYPE);
  ASSERT_EQ(wp_json_path(root, "", &v), WP_JSON_OK);
  EXPECT_EQ(v.ptr, root.ptr);
  wp_json_value arr;
  ASSERT_EQ(parse("[10, 20]", &arr), WP_JSON_OK);
  EXPECT_EQ(wp_json_get(arr, "a", &v), WP_JSON_WRONG_TYPE);
  ASSERT_EQ(wp_json_index(arr, 1, &v), WP_JSON_OK);
  EXPECT_EQ(text(v), "20");
}

TEST(SdkJson, IteratesMembersAndElements) {
  wp_json_value root, k, v;
  ASSERT_EQ(parse(R"({"a": 1, "b" :[2,3] ,"c":{}})", &root), WP_JSON_OK);
  wp_json_iter it;
  ASSERT_EQ(wp_json_iter_init(root, &it), WP_JSON_OK);
  std::string seen;
  while (wp_json_iter_next(&it, &k, &v) == WP_JSON_OK) {
    seen += std::string(text(k)) + "=" + std::string(text(v)) + ";";
  }
  EXPECT_EQ(seen, R"("a"=1;"b"=[2,3];"c"={};)");
  ASSERT_EQ(parse("[]", &root), WP_JSON_OK);
  ASSERT_EQ(wp_json_iter_init(root, &it), WP_JSON_OK);
  EXPECT_EQ(wp_json_iter_next(&it, nullptr, &v), WP_JSON_NOT_FOUND);
  ASSERT_EQ(parse("1", &root), WP_JSON_OK);
  EXPECT_EQ(wp_json_iter_init(root, &it), WP_JSON_WRONG_TYPE);
}

TEST(SdkJson, UnescapesStringsIntoTheCallersBuffer) {
  wp_json_value v;
  char buf[32];
  std::size_t n = 0;
  ASSERT_EQ(parse(R"("a\"b\\c\/d\n\t\u00e9\u20ac\ud83d\ude00\u0000z")", &v), WP_JSON_OK);
  ASSERT_EQ(wp_json_string(v, buf, sizeof buf, &n), WP_JSON_OK);
  EXPECT_EQ(std::string(buf, n), std::string("a\"b\\c/d\n\t\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\0z", 20));
  EXPECT_TRUE(wp_json_string_eq(v, buf, n));
  EXPECT_FALSE(wp_json_string_eq(v, buf, n - 1));
  // Exactly fits (with its NUL), one byte short, no room at all.
  ASSERT_EQ(parse(R"("abc")", &v), WP_JSON_OK);
  ASSERT_EQ(wp_json_string(v, buf, 4, &n), WP_JSON_OK);
  EXPECT_STREQ(buf, "abc");
  EXPECT_EQ(wp_json_string(v, buf, 3, &n), WP_JSON_TOO_LARGE);
  EXPECT_STREQ(buf, "");
  EXPECT_EQ(wp_json_string(v, buf, 0, &n), WP_JSON_TOO_LARGE);
  ASSERT_EQ(parse(R"("")", &v), WP_JSON_OK);
  EXPECT_EQ(wp_json_string(v, buf, 1, &n), WP_JSON_OK);
  EXPECT_EQ(n, 0u);
  // Lone surrogates are refused.
  for (std::string_view bad : {R"("\ud83d")", R"("\ude00")", R"("\ud83dx")", R"("\ud83d\u0041")"}) {
    ASSERT_EQ(parse(bad, &v), WP_JSON_OK) << bad;
    EXPECT_EQ(wp_json_string(v, buf, sizeof buf, &n), WP_JSON_MALFORMED) << bad;
    EXPECT_FALSE(wp_json_string_eq(v, "", 0));
  }
  ASSERT_EQ(parse("12", &v), WP_JSON_OK);
  EXPECT_EQ(wp_json_string(v, buf, sizeof buf, &n), WP_JSON_WRONG_TYPE);
}

TEST(SdkJson, ParsesIntegersWithRangeChecks) {
  wp_json_value v;
  std::int64_t i = 0;
  const std::pair<std::string_view, std::int64_t> good[] = {
      {"0", 0}, {"-0", 0}, {"42", 42}, {"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
      {"-9223372036854775808", std::numeric_limits<std::int64_t>::min()}};
  for (const auto& [json, want] : good) {
    ASSERT_EQ(parse(json, &v), WP_JSON_OK);
    ASSERT_EQ(wp_json_int64(v, &i), WP_JSON_OK) << json;
    EXPECT_EQ(i, want) << json;
  }
  for (std::string_view huge : {"9223372036854775808", "-9223372036854775809", "99999999999999999999999999"}) {
    ASSERT_EQ(parse(huge, &v), WP_JSON_OK);
    EXPECT_EQ(wp_json_int64(v, &i), WP_JSON_TOO_LARGE) << huge;
  }
  for (std::string_view not_int : {"1.5", "1e3", "\"1\"", "true"}) {
    ASSERT_EQ(parse(not_int, &v), WP_JSON_OK);
    EXPECT_EQ(wp_json_int64(v, &i), WP_JSON_WRONG_TYPE) << not_int;
  }
}

TEST(SdkJson, ParsesDoubles) {
  wp_json_value v;
  double d = 0;
  ASSERT_EQ(parse("-12.5e-1", &v), WP_JSON_OK);
  ASSERT_EQ(wp_json_double(v, &d), WP_JSON_OK);
  EXPECT_EQ(d, -1.25);
  ASSERT_EQ(parse("1e999", &v), WP_JSON_OK);
  EXPECT_EQ(wp_json_double(v, &d), WP_JSON_TOO_LARGE);
  ASSERT_EQ(parse("1e-999", &v), WP_JSON_OK);
  ASSERT_EQ(wp_json_double(v, &d), WP_JSON_OK);
  EXPECT_EQ(d, 0.0);
  const std::string long_number = "1." + std::string(WP_JSON_MAX_NUMBER_LEN, '1');
  ASSERT_EQ(parse(long_number, &v), WP_JSON_OK);
  EXPECT_EQ(wp_json_double(v, &d), WP_JSON_TOO_LARGE);
  ASSERT_EQ(parse("\"1\"", &v), WP_JSON_OK);
  EXPECT_EQ(wp_json_double(v, &d), WP_JSON_WRONG_TYPE);
  // A view built by hand is held to JSON's number grammar, not strtod's.
  for (std::string_view not_json : {"0x10", "inf", "nan", "1e5x"}) {
    const wp_json_value hand{u8(not_json), not_json.size(), WP_JSON_NUMBER};
    EXPECT_EQ(wp_json_double(hand, &d), WP_JSON_WRONG_TYPE) << not_json;
  }
  ASSERT_EQ(parse("true", &v), WP_JSON_OK);
  EXPECT_EQ(wp_json_bool(v), 1);
  ASSERT_EQ(parse("null", &v), WP_JSON_OK);
  EXPECT_EQ(wp_json_bool(v), WP_JSON_WRONG_TYPE);
}

TEST(SdkJson, WritesEscapedStringsThatParseBack) {
  EXPECT_EQ(escaped("plain"), "\"plain\"");
  EXPECT_EQ(escaped("q\"b\\n\nt\tr\rb\bf\f"), R"("q\"b\\n\nt\tr\rb\bf\f")");
  EXPECT_EQ(escaped(std::string_view("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(escaped("\xC3\xA9\xF0\x9F\x98\x80"), "\"\xC3\xA9\xF0\x9F\x98\x80\"");  // valid UTF-8 kept
  // Invalid UTF-8 (stray continuation, overlong, surrogate, truncated) becomes U+FFFD.
  EXPECT_EQ(escaped("a\x80z"), "\"a\xEF\xBF\xBDz\"");
  EXPECT_EQ(escaped("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(escaped("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(escaped("x\xE2\x82"), "\"x\xEF\xBF\xBD\xEF\xBF\xBD\"");
  // Round trip through the reader for every byte value.
  std::string all;
  for (int c = 1; c < 128; ++c) all += static_cast<char>(c);
  const std::string json = escaped(all);
  wp_json_value v;
  ASSERT_EQ(parse(json, &v), WP_JSON_OK);
  EXPECT_TRUE(wp_json_string_eq(v, all.data(), all.size()));
  Buf key;
  wp_json_write_key(&key.b, "k\"");
  EXPECT_EQ(key.str(), R"("k\"":)");
}

TEST(SdkJson, WritesNumbers) {
  Buf out;
  wp_json_write_int64(&out.b, 0);
  wp_buf_putc(&out.b, ' ');
  wp_json_write_int64(&out.b, -42);
  wp_buf_putc(&out.b, ' ');
  wp_json_write_int64(&out.b, std::numeric_limits<std::int64_t>::min());
  wp_buf_putc(&out.b, ' ');
  wp_json_write_uint64(&out.b, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(out.str(), "0 -42 -9223372036854775808 18446744073709551615");

  const std::tuple<double, int, std::string_view> fixed[] = {
      {12.3456, 2, "12.35"}, {-0.5, 1, "-0.5"}, {2.0, 3, "2.000"}, {-2.5, 0, "-3"}, {0.001, 9, "0.001000000"},
      {-0.0004, 3, "0.000"}, {1e15, 2, "1000000000000000.00"}};
  for (const auto& [value, decimals, want] : fixed) {
    Buf b;
    ASSERT_EQ(wp_json_write_fixed(&b.b, value, decimals), 1) << want;
    EXPECT_EQ(b.str(), want);
  }
  Buf refused;
  EXPECT_EQ(wp_json_write_fixed(&refused.b, std::numeric_limits<double>::infinity(), 2), 0);
  EXPECT_EQ(wp_json_write_fixed(&refused.b, std::numeric_limits<double>::quiet_NaN(), 2), 0);
  EXPECT_EQ(wp_json_write_fixed(&refused.b, 1e18, 2), 0);
  EXPECT_EQ(wp_json_write_fixed(&refused.b, 1.0, 10), 0);
  EXPECT_EQ(wp_json_write_fixed(&refused.b, 1.0, -1), 0);
  EXPECT_EQ(refused.b.len, 0u);
}

}  // namespace
