// Result<T>: checked access that never throws.
#include <gtest/gtest.h>

#include "wasmplug/error.hpp"

namespace wasmplug::test {
namespace {

Result<int> failing() { return Error{ErrorKind::Io, Phase::Load, "p", {}, "cannot open x"}; }

TEST(Result, ValueAndValueOr) {
  Result<int> ok = 7;
  EXPECT_EQ(ok.value(), 7);
  EXPECT_EQ(ok.value_or(1), 7);
  EXPECT_EQ(failing().value_or(1), 1);
  EXPECT_EQ(failing().error().kind, ErrorKind::Io);
}

TEST(ResultDeathTest, ValueOnAnErrorAbortsWithTheError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH((void)failing().value(), "Result::value\\(\\) called on an error: Io in load .*cannot open x");
  Result<int> r = failing();
  EXPECT_DEATH((void)*r, "called on an error");
  Result<int> ok = 7;
  EXPECT_DEATH((void)ok.error(), "Result::error\\(\\) called on a Result that holds a value");
  Result<void> fine;
  EXPECT_DEATH((void)fine.error(), "holds a value");
}

}  // namespace
}  // namespace wasmplug::test
