// The on-disk compiled-code cache (src/cache/): hits skip compiling, every
// bad entry is a miss that gets replaced, I/O problems never fail a load,
// the size bound holds, concurrent fillers never see a partial entry.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "guests.hpp"
#include "wasm_builder.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::test {
namespace {

namespace fs = std::filesystem;

class ModuleCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "wasmplug-cache-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ / "cache";
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, ec);
    fs::remove_all(root_, ec);
  }

  RuntimeConfig cached(const fs::path& dir, std::uint64_t max_bytes = 512ull << 20) {
    RuntimeConfig config = logs_.config();
    config.max_instances = 8;
    config.module_cache.directory = dir;
    config.module_cache.max_bytes = max_bytes;
    return config;
  }
  // A new Runtime each time: its in-memory recent-modules list is empty, so
  // only the disk cache can spare a compile (as for a new process).
  std::unique_ptr<Runtime> runtime(const fs::path& dir, std::uint64_t max_bytes = 512ull << 20) {
    return make_runtime(cached(dir, max_bytes));
  }

  static std::vector<fs::path> entries(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".cwasm") {
        out.push_back(e.path());
      }
    }
    return out;
  }
  static std::uint64_t entry_bytes(const fs::path& dir) {
    std::uint64_t total = 0;
    for (const auto& p : entries(dir)) {
      total += fs::file_size(p);
    }
    return total;
  }
  static std::vector<std::uint8_t> slurp(const fs::path& p) { return read_file(p.string()); }
  static void write(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  // Loads echo, checks the plugin serves a call, returns the stats.
  static ModuleCacheStats load_echo(Runtime& rt) {
    auto plugin = rt.load(guest_bytes("echo"), named("echo"));
    EXPECT_TRUE(plugin.ok()) << (plugin.ok() ? "" : plugin.error().to_string());
    if (plugin.ok()) {
      auto out = rt.call(**plugin, Hook::Transform, bytes("abc"));
      EXPECT_TRUE(out.ok());
      EXPECT_EQ(out.ok() ? std::string(out->text()) : "", "abc");
    }
    return rt.module_cache_stats();
  }
  std::size_t cache_warnings(Runtime& rt) {
    EXPECT_TRUE(rt.quiesce());
    std::size_t n = 0;
    for (const auto& m : logs_.messages()) {
      n += m.find("compiled-code cache") != std::string::npos ? 1 : 0;
    }
    return n;
  }
  // Fills the cache with echo, damages the one entry with `damage`, and
  // checks: the next load is a rejected miss that compiles and replaces the
  // entry, the one after that is a hit.
  void expect_replaced(const std::function<void(const fs::path&)>& damage) {
    ASSERT_EQ(load_echo(*runtime(dir_)).stores, 1u);
    auto files = entries(dir_);
    ASSERT_EQ(files.size(), 1u);
    damage(files[0]);
    auto second = runtime(dir_);
    ModuleCacheStats s = load_echo(*second);
    EXPECT_EQ(s.hits, 0u);
    EXPECT_EQ(s.rejected, 1u);
    EXPECT_EQ(s.compiles, 1u);
    EXPECT_EQ(s.stores, 1u);
    EXPECT_EQ(s.errors, 0u);
    ModuleCacheStats third = load_echo(*runtime(dir_));
    EXPECT_EQ(third.hits, 1u);
    EXPECT_EQ(third.compiles, 0u);
    EXPECT_EQ(third.rejected, 0u);
  }

  LogCapture logs_;
  fs::path root_;
  fs::path dir_;
};

TEST_F(ModuleCacheTest, ConfigIsValidated) {
  RuntimeConfig config;
  config.module_cache.max_bytes = 1000;
  auto small = Runtime::create(config);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(small.error().message.find("module_cache.max_bytes"), std::string::npos) << small.error().message;
  config.module_cache.max_bytes = 2ull << 40;
  auto large = Runtime::create(config);
  ASSERT_FALSE(large.ok());
  EXPECT_NE(large.error().message.find("module_cache.max_bytes"), std::string::npos);
  config.module_cache.max_bytes = 1u << 20;
  config.module_cache.directory = "relative/dir";
  auto relative = Runtime::create(config);
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(relative.error().message.find("module_cache.directory"), std::string::npos);
}

TEST_F(ModuleCacheTest, OffByDefault) {
  auto rt = make_runtime();
  ModuleCacheStats s = load_echo(*rt);
  EXPECT_EQ(s.compiles, 1u);
  EXPECT_EQ(s.misses + s.hits + s.stores, 0u);
}

TEST_F(ModuleCacheTest, HitAfterMissSkipsCompiling) {
  ModuleCacheStats first = load_echo(*runtime(dir_));
  EXPECT_EQ(first.misses, 1u);
  EXPECT_EQ(first.compiles, 1u);
  EXPECT_EQ(first.stores, 1u);
  ASSERT_EQ(entries(dir_).size(), 1u);
  // The cache directory and its key are private.
  EXPECT_EQ(fs::status(dir_).permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  EXPECT_EQ(fs::status(dir_ / "key").permissions(), fs::perms::owner_read | fs::perms::owner_write);

  ModuleCacheStats second = load_echo(*runtime(dir_));
  EXPECT_EQ(second.hits, 1u);
  EXPECT_EQ(second.misses, 0u);
  EXPECT_EQ(second.compiles, 0u);
  EXPECT_EQ(second.stores, 0u);
}

TEST_F(ModuleCacheTest, AdmissionRunsOnAHit) {
  ASSERT_EQ(load_echo(*runtime(dir_)).stores, 1u);
  auto rt = runtime(dir_);
  LoadOptions options = named("echo");
  options.abi = AbiProfile::CcLb;  // echo lacks the cc-lb exports
  auto plugin = rt->load(guest_bytes("echo"), options);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(plugin.error().phase, Phase::Admit);
  EXPECT_EQ(rt->module_cache_stats().hits, 1u);
  // The same runtime then serves the module under its own profile.
  EXPECT_EQ(load_echo(*rt).compiles, 0u);
}

TEST_F(ModuleCacheTest, FlippedByteIsAMissAndReplaced) {
  expect_replaced([](const fs::path& p) {
    auto b = slurp(p);
    b[b.size() / 2] ^= 0x01;
    write(p, b);
  });
}

TEST_F(ModuleCacheTest, TruncatedEntryIsAMissAndReplaced) {
  expect_replaced([](const fs::path& p) { fs::resize_file(p, fs::file_size(p) - 100); });
}

TEST_F(ModuleCacheTest, ZeroLengthEntryIsAMissAndReplaced) {
  expect_replaced([](const fs::path& p) { fs::resize_file(p, 0); });
}

TEST_F(ModuleCacheTest, ForeignBytesAreAMissAndReplaced) {
  expect_replaced([](const fs::path& p) { write(p, guest_bytes("echo")); });
}

TEST_F(ModuleCacheTest, EntryOfAnotherCacheDirectoryIsNotTrusted) {
  // Same config, same file name, but written with another directory's key:
  // the MAC does not verify.
  const fs::path other = root_ / "other";
  ASSERT_EQ(load_echo(*runtime(other)).stores, 1u);
  const auto foreign = slurp(entries(other).at(0));
  expect_replaced([&](const fs::path& p) {
    EXPECT_EQ(p.filename(), entries(other).at(0).filename());
    write(p, foreign);
  });
}

TEST_F(ModuleCacheTest, EntryOfAnotherEngineConfigIsAMissAndReplaced) {
  // Fuel metering changes the generated code: another key, another file.
  RuntimeConfig fuel = cached(dir_);
  fuel.enable_fuel = true;
  ASSERT_EQ(load_echo(*make_runtime(fuel)).stores, 1u);
  const auto fuel_entry = slurp(entries(dir_).at(0));
  fs::remove(entries(dir_).at(0));
  expect_replaced([&](const fs::path& p) { write(p, fuel_entry); });
  // Both configs now have their own entry, and both hit.
  EXPECT_EQ(load_echo(*make_runtime(fuel)).compiles, 1u);
  EXPECT_EQ(entries(dir_).size(), 2u);
  EXPECT_EQ(load_echo(*make_runtime(fuel)).hits, 1u);
}

TEST_F(ModuleCacheTest, UnusableDirectoryIsReportedOnceAndLoadsWork) {
  // A regular file where the directory should be: nothing can be created.
  write(root_ / "file", {1, 2, 3});
  auto rt = runtime(root_ / "file" / "cache");
  ModuleCacheStats s = load_echo(*rt);
  ASSERT_TRUE(rt->load(guest_bytes("counter"), named("counter")).ok());
  s = rt->module_cache_stats();
  EXPECT_EQ(s.compiles, 2u);
  EXPECT_EQ(s.hits + s.stores, 0u);
  EXPECT_GE(s.errors, 1u);
  EXPECT_EQ(cache_warnings(*rt), 1u);
}

TEST_F(ModuleCacheTest, DirectoryOpenToOthersIsRefused) {
  fs::create_directories(dir_);
  fs::permissions(dir_, fs::perms::all);
  auto rt = runtime(dir_);
  EXPECT_EQ(load_echo(*rt).compiles, 1u);
  ASSERT_TRUE(rt->load(guest_bytes("counter"), named("counter")).ok());
  EXPECT_EQ(cache_warnings(*rt), 1u);  // once per Runtime
  EXPECT_EQ(load_echo(*runtime(dir_)).hits, 0u);
  EXPECT_FALSE(fs::exists(dir_ / "key"));
  EXPECT_TRUE(entries(dir_).empty());
}

TEST_F(ModuleCacheTest, DirectoryRemovedWhileInUseIsReportedOnce) {
  auto rt = runtime(dir_);
  fs::remove_all(dir_);
  EXPECT_EQ(load_echo(*rt).compiles, 1u);
  ASSERT_TRUE(rt->load(guest_bytes("counter"), named("counter")).ok());
  ModuleCacheStats s = rt->module_cache_stats();
  EXPECT_EQ(s.compiles, 2u);
  EXPECT_EQ(s.stores, 0u);
  EXPECT_EQ(s.errors, 2u);
  EXPECT_EQ(cache_warnings(*rt), 1u);
}

// Distinct modules whose compiled code is some tens of KiB.
std::vector<std::uint8_t> module_number(std::uint32_t n) {
  Bytes code{0x41};  // i32.const n; drop; then some arithmetic
  put_leb(code, n);
  code.push_back(0x1a);
  for (int i = 0; i < 8; ++i) {
    put_bytes(code, {0x41, 0x07, 0x41, 0x05, 0x6a, 0x1a});
  }
  return WasmBuilder::many_functions(1500, WasmBuilder::body(0, code));
}

TEST_F(ModuleCacheTest, SizeBoundHoldsAndLeastRecentlyUsedGoesFirst) {
  constexpr std::uint64_t kBound = 1u << 20;
  auto inspect = [&](std::uint32_t n) {
    auto rt = runtime(dir_, kBound);
    EXPECT_TRUE(rt->inspect(module_number(n)).ok());
    // Distinct mtimes even with a coarse file-system clock.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return rt->module_cache_stats();
  };
  ASSERT_EQ(inspect(0).stores, 1u);
  const std::uint64_t one = entry_bytes(dir_);
  ASSERT_GT(one, 0u);
  ASSERT_LT(one * 3, kBound) << "test modules too large for the bound";
  const fs::path first = entries(dir_).at(0);
  ASSERT_EQ(inspect(1).stores, 1u);
  const auto both = entries(dir_);
  const fs::path second = both[0] == first ? both[1] : both[0];
  EXPECT_EQ(inspect(0).hits, 1u);  // module 0 is now the more recently used
  std::uint64_t evicted = 0;
  for (std::uint32_t n = 2; n < 2 + 2 * (kBound / one) && evicted == 0; ++n) {
    evicted += inspect(n).evictions;
    EXPECT_LE(entry_bytes(dir_), kBound);
  }
  ASSERT_GE(evicted, 1u);
  EXPECT_FALSE(fs::exists(second));
  EXPECT_TRUE(fs::exists(first));
}

TEST_F(ModuleCacheTest, ConcurrentFillNeverSeesAPartialEntry) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 4;
  std::atomic<int> ready{0};
  std::atomic<std::uint64_t> rejected{0}, errors{0}, failed{0}, hits{0};
  std::vector<std::thread> threads;
  const auto counter = guest_bytes("counter");
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      for (int round = 0; round < kRounds; ++round) {
        auto rt = make_runtime(cached(dir_));
        for (const auto& [name, wasm] : {std::pair{"counter", counter}, std::pair{"echo", guest_bytes("echo")}}) {
          auto plugin = rt->load(wasm, named(name));
          failed += plugin.ok() && rt->call(**plugin, Hook::Transform, bytes("x")).ok() ? 0u : 1u;
        }
        ModuleCacheStats s = rt->module_cache_stats();
        rejected += s.rejected;
        errors += s.errors;
        hits += s.hits;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failed.load(), 0u);
  EXPECT_EQ(rejected.load(), 0u);
  EXPECT_EQ(errors.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
  EXPECT_EQ(entries(dir_).size(), 2u);
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_FALSE(e.path().filename().string().starts_with(".tmp-")) << e.path();
  }
  ModuleCacheStats after = load_echo(*runtime(dir_));
  EXPECT_EQ(after.hits, 1u);
}

}  // namespace
}  // namespace wasmplug::test
