// The section reader on hand-built modules. No engine needed.
#include "admission/sections.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace wasmplug::detail {
namespace {

std::vector<std::uint8_t> module(std::vector<std::uint8_t> sections) {
  std::vector<std::uint8_t> out = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  for (std::uint8_t b : sections) {  // not insert(): GCC 12 -Warray-bounds false positive
    out.push_back(b);
  }
  return out;
}

// Found by fuzz_load: an 11-byte LEB in a 64-bit limit used to be read with
// shifts up to 70 (undefined behaviour) and accepted. A u64 LEB has at most
// 10 bytes; a 32-bit one at most 5.
TEST(Sections, OverlongLebsAreMalformed) {
  auto mem64 = read_sections(module({0x05, 0x0d, 0x01, 0x04,  // memory, 1 entry, 64-bit, min:
                                     0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}));
  ASSERT_FALSE(mem64.ok());
  EXPECT_NE(mem64.error().message.find("memory limits"), std::string::npos) << mem64.error().message;
  auto ten = read_sections(module({0x05, 0x0c, 0x01, 0x04,  // the longest valid u64 LEB: 10 bytes
                                   0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}));
  ASSERT_TRUE(ten.ok()) << ten.error().message;
  EXPECT_EQ(ten->memories.at(0).min, std::uint64_t{1} << 63);
  auto mem32 = read_sections(module({0x05, 0x08, 0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}));
  EXPECT_FALSE(mem32.ok());
}

TEST(Sections, EmptyModule) {
  auto s = read_sections(module({}));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->tables.empty());
  EXPECT_TRUE(s->memories.empty());
  EXPECT_FALSE(s->has_start);
}

TEST(Sections, TableMemoryStartAndCustom) {
  auto s = read_sections(module({
      0x04, 0x06, 0x01, 0x70, 0x01, 0x90, 0x4e, 0x0a,  // table funcref 10000..10
      0x05, 0x04, 0x01, 0x03, 0x02, 0x05,              // memory 2..5 shared
      0x08, 0x01, 0x00,                                // start func 0
      0x00, 0x04, 0x03, 'a', 'b', 'c',                 // custom "abc"
  }));
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->tables.size(), 1u);
  EXPECT_EQ(s->tables[0].min, 10000u);
  EXPECT_EQ(s->tables[0].max, 10u);
  ASSERT_EQ(s->memories.size(), 1u);
  EXPECT_EQ(s->memories[0].min, 2u);
  EXPECT_EQ(s->memories[0].max, 5u);
  EXPECT_TRUE(s->memories[0].shared);
  EXPECT_TRUE(s->has_start);
  ASSERT_EQ(s->custom_sections.size(), 1u);
  EXPECT_EQ(s->custom_sections[0], "abc");
}

TEST(Sections, SectionPastTheEndIsAnError) {
  auto s = read_sections(module({0x05, 0x10, 0x01, 0x00}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("runs past the end"), std::string::npos);
}

TEST(Sections, UnterminatedLebIsAnError) {
  EXPECT_FALSE(read_sections(module({0x05, 0x03, 0x01, 0x00, 0x80})).ok());
  EXPECT_FALSE(read_sections(module({0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})).ok());
}

TEST(Sections, HeaderIsRequired) {
  EXPECT_FALSE(has_wasm_header(std::vector<std::uint8_t>{0x7f, 'E', 'L', 'F'}));
  EXPECT_FALSE(read_sections(std::vector<std::uint8_t>{}).ok());
  EXPECT_TRUE(has_wasm_header(module({})));
}

}  // namespace
}  // namespace wasmplug::detail
