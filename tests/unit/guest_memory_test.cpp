// GuestMemory: the one bounds-checked way into guest memory. No engine needed.
#include "instance/guest_memory.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace wasmplug::detail {
namespace {

TEST(GuestMemory, SliceInsideMemory) {
  std::vector<std::uint8_t> buf(65536, 7);
  GuestMemory mem(buf.data(), buf.size());
  auto s = mem.slice(100, 10);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->data(), buf.data() + 100);
  EXPECT_EQ(s->size(), 10u);
}

TEST(GuestMemory, SliceEndingExactlyAtTheEnd) {
  std::vector<std::uint8_t> buf(65536);
  GuestMemory mem(buf.data(), buf.size());
  EXPECT_TRUE(mem.slice(65536 - 16, 16));
  EXPECT_TRUE(mem.slice(65536, 0));
  EXPECT_FALSE(mem.slice(65536 - 16, 17));
  EXPECT_FALSE(mem.slice(65537, 0));
}

TEST(GuestMemory, ThirtyTwoBitWrapIsRejected) {
  std::vector<std::uint8_t> buf(65536);
  GuestMemory mem(buf.data(), buf.size());
  // 0xFFFFFFF0 + 0x100 wraps to 0xF0 in 32 bits; widened first, it does not.
  EXPECT_FALSE(mem.slice(0xFFFF'FFF0u, 0x100));
  EXPECT_FALSE(mem.slice(0x10, 0xFFFF'FFFFu));
  EXPECT_FALSE(mem.slice(UINT64_MAX, 2));
  EXPECT_FALSE(mem.slice(2, UINT64_MAX));
}

TEST(GuestMemory, EmptyMemoryHasNoBytes) {
  GuestMemory mem(nullptr, 0);
  EXPECT_TRUE(mem.slice(0, 0));
  EXPECT_FALSE(mem.slice(0, 1));
}

TEST(GuestMemory, DescribesTheRange) {
  std::vector<std::uint8_t> buf(1024);
  GuestMemory mem(buf.data(), buf.size());
  EXPECT_EQ(mem.describe_out_of_bounds(1000, 100),
            "range [1000, 1000+100) lies outside guest memory of 1024 bytes");
}

}  // namespace
}  // namespace wasmplug::detail
