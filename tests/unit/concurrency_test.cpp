// Many threads calling the same Plugin at once, good and hostile calls mixed.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

TEST(Concurrency, ThreadsShareOnePlugin) {
  auto rt = make_runtime();
  auto upper = load_guest(*rt, "upper");
  auto hostile = load_guest(*rt, "hostile");
  constexpr int kThreads = 4;
  constexpr int kCalls = 300;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        std::string input = "thread " + std::to_string(t) + " call " + std::to_string(i);
        auto out = rt->call(*upper, Hook::Transform, bytes(input));
        std::string expected = input;
        for (char& c : expected) {
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        if (!out.ok() || out->text() != expected) {
          wrong.fetch_add(1);
        }
        if (i % 50 == 0) {  // a trap on another plugin must not disturb anyone
          auto bad = rt->call(*hostile, Hook::Transform, bytes("U"));
          if (bad.ok() || bad.error().kind != ErrorKind::Trap) {
            wrong.fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(rt->live_instances(), 0u);
}

TEST(Concurrency, ConcurrentLoadsOfTheSameContentShareOnePlugin) {
  auto rt = make_runtime();
  auto wasm = guest_bytes("echo");
  std::vector<std::shared_ptr<const Plugin>> loaded(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < loaded.size(); ++t) {
    threads.emplace_back([&, t] {
      auto p = rt->load(wasm, named("echo"));
      if (p.ok()) {
        loaded[t] = p.value();
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (const auto& p : loaded) {
    ASSERT_TRUE(p);
    EXPECT_EQ(p.get(), loaded[0].get());
  }
}

}  // namespace
}  // namespace wasmplug::test
