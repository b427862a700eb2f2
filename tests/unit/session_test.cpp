// Sessions (Runtime::open_session): one warm instance owned by its holder,
// its own state, replaced after a failed call, counted against the runtime's
// instance limit, shut down with wp_shutdown on the retirer when dropped.
#include <gtest/gtest.h>

#include <algorithm>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  std::unique_ptr<Runtime> runtime(std::uint32_t max_instances = 256) {
    RuntimeConfig config = logs_.config();
    config.max_instances = max_instances;
    return make_runtime(std::move(config));
  }
  std::size_t shutdowns() {
    auto logs = logs_.messages();
    return static_cast<std::size_t>(std::count(logs.begin(), logs.end(), "shutdown"));
  }
  LogCapture logs_;
};

TEST_F(SessionTest, EachSessionKeepsItsOwnInstanceApartFromThePool) {
  auto rt = runtime();
  auto p = load_guest(*rt, "stateful", warm());
  auto a = rt->open_session(p);
  auto b = rt->open_session(p);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(rt->live_instances(), 2u) << "made (and initialised) when opened";
  for (std::uint32_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(count_of((*a)->call(Hook::Transform, bytes("x"))), i);
  }
  EXPECT_EQ(count_of((*b)->call(Hook::Transform, bytes("x"))), 1u);
  EXPECT_EQ(count_of(rt->call(*p, Hook::Transform, bytes("x"))), 1u) << "the pool's instance is another one";
  EXPECT_EQ(count_of((*a)->call(Hook::Transform, bytes("x"))), 4u);
  EXPECT_EQ(p->pool_stats().created, 1u) << "sessions take nothing from the pool";
  EXPECT_EQ(rt->live_instances(), 3u);
  EXPECT_EQ((*a)->instances_created(), 1u);
  EXPECT_EQ(&(*a)->plugin(), p.get());
}

TEST_F(SessionTest, AFailedCallReplacesTheInstanceAndTheSessionServesOn) {
  auto rt = runtime();
  auto p = load_guest(*rt, "stateful", warm());
  auto s = rt->open_session(p);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(count_of((*s)->call(Hook::Transform, bytes("x"))), 1u);
  EXPECT_EQ(count_of((*s)->call(Hook::Transform, bytes("x"))), 2u);
  auto bad = (*s)->call(Hook::Transform, bytes("U"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::Trap);
  EXPECT_EQ(bad.error().phase, Phase::Call);
  EXPECT_EQ(bad.error().plugin, "stateful");
  EXPECT_EQ(rt->live_instances(), 0u) << "the trapped instance is discarded at once";
  EXPECT_EQ(count_of((*s)->call(Hook::Transform, bytes("x"))), 1u) << "a new instance: the count starts again";
  EXPECT_EQ((*s)->instances_created(), 2u);
  EXPECT_EQ(rt->live_instances(), 1u);
  // Refused before the guest (no such hook): the instance stays.
  auto refused = (*s)->call(Hook::Filter, bytes("x"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(count_of((*s)->call(Hook::Transform, bytes("x"))), 2u);
  EXPECT_EQ(shutdowns(), 0u) << "a discarded instance gets no wp_shutdown";
}

TEST_F(SessionTest, DroppingTheSessionRunsWpShutdownOnTheRetirerAndFreesTheSlot) {
  auto rt = runtime();
  auto p = load_guest(*rt, "stateful", warm());
  {
    auto s = rt->open_session(p);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(count_of((*s)->call(Hook::Transform, bytes("x"))), 1u);
  }
  ASSERT_TRUE(rt->quiesce());
  EXPECT_EQ(shutdowns(), 1u);
  EXPECT_EQ(rt->live_instances(), 0u);
  // The plugin may go before the retirer ran: it waits for the shutdown.
  {
    auto s = rt->open_session(p);
    ASSERT_TRUE(s.ok());
    p.reset();
  }
  ASSERT_TRUE(rt->quiesce());
  EXPECT_EQ(shutdowns(), 2u);
  EXPECT_EQ(rt->live_instances(), 0u);
}

TEST_F(SessionTest, SessionsCountAgainstTheRuntimesInstanceLimit) {
  auto rt = runtime(2);
  auto p = load_guest(*rt, "stateful", warm(2));
  auto a = rt->open_session(p);
  auto b = rt->open_session(p);
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = rt->open_session(p);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::PoolSaturated);
  EXPECT_EQ(c.error().phase, Phase::Instantiate);
  EXPECT_EQ(c.error().plugin, "stateful");
  EXPECT_NE(c.error().message.find("all 2 instance slots of the runtime are in use"), std::string::npos)
      << c.error().message;
  auto pooled = rt->call(*p, Hook::Transform, bytes("x"));
  ASSERT_FALSE(pooled.ok());
  EXPECT_EQ(pooled.error().kind, ErrorKind::PoolSaturated) << "the pool shares the budget";
  a->reset();
  ASSERT_TRUE(rt->quiesce());
  auto again = rt->open_session(p);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(count_of((*again)->call(Hook::Transform, bytes("x"))), 1u);
}

TEST_F(SessionTest, InitErrorsShowWhenTheSessionOpens) {
  auto rt = runtime();
  LoadOptions options = warm();
  options.config = {'n', 'o'};
  auto p = load_guest(*rt, "init_config", options);
  auto s = rt->open_session(p);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(s.error().phase, Phase::Init);
  EXPECT_EQ(rt->live_instances(), 0u);
  auto none = rt->open_session(nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::InvalidArgument);
}

TEST_F(SessionTest, AFreshIsolationSessionMakesAnInstancePerCall) {
  auto rt = runtime();
  LoadOptions options;
  options.isolation = Isolation::Fresh;
  auto p = load_guest(*rt, "stateful", options);
  auto s = rt->open_session(p);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(rt->live_instances(), 0u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(count_of((*s)->call(Hook::Transform, bytes("x"))), 1u);
  }
  EXPECT_EQ((*s)->instances_created(), 0u);
}

}  // namespace
}  // namespace wasmplug::test
