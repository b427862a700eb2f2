// The torvyn profile: WIT components of torvyn:streaming@0.1.0 built from
// tests/guests/torvyn (README there says what each guest does).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <mutex>
#include <algorithm>
#include <ctime>

#include "guests.hpp"
#include "wasmplug/runtime.hpp"
#include "wasmplug/torvyn.hpp"

#ifndef WASMPLUG_TORVYN_GUEST_DIR
#define WASMPLUG_TORVYN_GUEST_DIR ""
#define WASMPLUG_HAVE_COMPONENT_GUESTS 0
#endif

namespace wasmplug {
namespace {

using torvyn::Backpressure;
using torvyn::ComponentOptions;
using torvyn::Element;
using torvyn::ProcessErrorCase;
using torvyn::World;

std::vector<std::uint8_t> component_bytes(std::string_view stem) {
  return test::read_file(std::string(WASMPLUG_TORVYN_GUEST_DIR) + "/" + std::string(stem) + ".wasm");
}

Element element(std::string_view text, std::string_view content_type = "text/plain") {
  Element e;
  e.payload = test::bytes(text);
  e.content_type = content_type;
  return e;
}

class Torvyn : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!WASMPLUG_HAVE_COMPONENT_GUESTS) {
      GTEST_SKIP() << "the torvyn test components were not built (WASMPLUG_GUEST_LANGS without rust)";
    }
    runtime_ = Runtime::create().value();
  }

  std::shared_ptr<const torvyn::Component> load(std::string_view stem, World world, ComponentOptions options = {}) {
    options.name = std::string(stem);
    options.world = world;
    auto c = runtime_->load_component(component_bytes(stem), options);
    EXPECT_TRUE(c.ok()) << (c ? "" : c.error().to_string());
    return c ? *c : nullptr;
  }

  std::unique_ptr<torvyn::Instance> instance(std::string_view stem, World world, ComponentOptions options = {}) {
    auto c = load(stem, world, std::move(options));
    if (!c) {
      return nullptr;
    }
    auto i = c->instantiate();
    EXPECT_TRUE(i.ok()) << (i ? "" : i.error().to_string());
    return i ? std::move(i).value() : nullptr;
  }

  std::unique_ptr<Runtime> runtime_;
};

std::string text_of(const Result<std::optional<torvyn::Emitted>>& r) {
  if (!r) {
    return "error: " + r.error().to_string();
  }
  return *r ? std::string((*r)->text()) : "(none)";
}

// --- admission -------------------------------------------------------------

TEST_F(Torvyn, AdmitsEachWorldAndReportsItsInterfaces) {
  auto upper = load("upper", World::Transform);
  ASSERT_TRUE(upper);
  EXPECT_TRUE(upper->report().admitted());
  EXPECT_EQ(upper->content_hash().size(), 64u);
  std::vector<std::string> imports;
  for (const auto& i : upper->report().imports) {
    imports.push_back(i.name);
  }
  EXPECT_EQ(imports, (std::vector<std::string>{"torvyn:streaming/types@0.1.0", "torvyn:streaming/buffer-allocator@0.1.0"}));
  ASSERT_EQ(upper->report().exports.size(), 1u);
  EXPECT_EQ(upper->report().exports[0].name, "torvyn:streaming/processor@0.1.0");
  EXPECT_TRUE(load("prefix", World::ManagedTransform));
  EXPECT_TRUE(load("source", World::DataSource));
  EXPECT_TRUE(load("sink", World::DataSink));
}

TEST_F(Torvyn, RefusesWasiImportsNamingThem) {
  ComponentOptions o;
  o.name = "wasi_std";
  auto c = runtime_->load_component(component_bytes("wasi_std"), o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(c.error().phase, Phase::Admit);
  EXPECT_NE(c.error().message.find("import `wasi:"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("is not granted by world transform: WASI imports are refused"), std::string::npos)
      << c.error().message;
  // inspect: the whole report, even though it is rejected.
  auto report = runtime_->inspect_component(component_bytes("wasi_std"), o);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_FALSE(report->admitted());
  EXPECT_GE(report->problems.size(), 1u);
}

TEST_F(Torvyn, RefusesAnImportNoWorldGrants) {
  ComponentOptions o;
  auto c = runtime_->load_component(component_bytes("unknown_import"), o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(c.error().phase, Phase::Admit);
  EXPECT_NE(c.error().message.find("telemetry"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("is not granted by world transform"), std::string::npos) << c.error().message;
}

TEST_F(Torvyn, RefusesAnExportOfTheWrongType) {
  ComponentOptions o;
  auto c = runtime_->load_component(component_bytes("wrong_export"), o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(c.error().phase, Phase::Admit);
  EXPECT_NE(c.error().message.find("processor"), std::string::npos) << c.error().message;
}

TEST_F(Torvyn, RefusesAComponentMissingAnExportOfItsWorld) {
  ComponentOptions o;
  o.world = World::ManagedTransform;
  auto c = runtime_->load_component(component_bytes("upper"), o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(c.error().phase, Phase::Admit);
  EXPECT_NE(c.error().message.find(
                "export `torvyn:streaming/lifecycle@0.1.0` required by world managed-transform is missing"),
            std::string::npos)
      << c.error().message;
  // The data-sink world grants no buffer-allocator: a processor importing it is refused for it.
  o.world = World::DataSink;
  auto sink = runtime_->load_component(component_bytes("upper"), o);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.error().message.find("import `torvyn:streaming/buffer-allocator@0.1.0` is not granted by world data-sink"),
            std::string::npos)
      << sink.error().message;
}

TEST_F(Torvyn, ACoreModuleIsNotAComponent) {
  auto c = runtime_->load_component(test::guest_bytes("echo"), ComponentOptions{});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::CompileFailed);
  EXPECT_EQ(c.error().phase, Phase::Compile);
}

TEST_F(Torvyn, ValidatesOptionsNamingTheField) {
  const auto bytes = component_bytes("upper");
  ComponentOptions o;
  o.buffers.max_buffer_bytes = (16u << 20) + 1;
  auto big = runtime_->load_component(bytes, o);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(big.error().message.find("buffers.max_buffer_bytes"), std::string::npos);
  o = {};
  o.buffers.budget_bytes = 100;
  auto small = runtime_->load_component(bytes, o);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.error().message.find("buffers.budget_bytes"), std::string::npos);
  o = {};
  o.limits.fuel = 1000;
  auto fuel = runtime_->load_component(bytes, o);
  ASSERT_FALSE(fuel.ok());
  EXPECT_NE(fuel.error().message.find("enable_fuel"), std::string::npos);
}

// --- calls -----------------------------------------------------------------

TEST_F(Torvyn, UppercaseProcessorEmitsANewBuffer) {
  auto i = instance("upper", World::Transform);
  ASSERT_TRUE(i);
  auto out = i->process(element("hello, torvyn", "text/x-test"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->text(), "HELLO, TORVYN");
  EXPECT_EQ((*out)->content_type, "text/x-test");
  // Buffers returned to the host are no longer charged to the guest.
  EXPECT_EQ(i->memory_usage().buffer_bytes, 0u);
  EXPECT_GT(i->memory_usage().linear_memory_bytes, 0u);
  EXPECT_EQ(text_of(i->process(element(""))), "");
}

TEST_F(Torvyn, FilterDropsAndPasses) {
  auto i = instance("filter", World::Transform);
  ASSERT_TRUE(i);
  EXPECT_EQ(text_of(i->process(element("please drop me"))), "(none)");
  EXPECT_EQ(text_of(i->process(element("keep me"))), "keep me");
}

TEST_F(Torvyn, ManagedTransformGetsItsConfigInInit) {
  ComponentOptions o;
  o.config = R"({"prefix":"P:"})";
  auto i = instance("prefix", World::ManagedTransform, o);
  ASSERT_TRUE(i);
  EXPECT_EQ(text_of(i->process(element("x"))), "P:x");

  o.config = R"({"other":1})";
  auto c = load("prefix", World::ManagedTransform, o);
  ASSERT_TRUE(c);
  auto refused = c->instantiate();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(refused.error().phase, Phase::Init);
  EXPECT_NE(refused.error().message.find("invalid-input"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("prefix"), std::string::npos) << refused.error().message;
}

TEST_F(Torvyn, SourceEmitsNThenNone) {
  ComponentOptions o;
  o.config = R"({"count":3})";
  auto i = instance("source", World::DataSource, o);
  ASSERT_TRUE(i);
  for (int n = 0; n < 3; ++n) {
    auto e = i->pull();
    ASSERT_TRUE(e.ok()) << e.error().to_string();
    ASSERT_TRUE(e->has_value());
    EXPECT_EQ((*e)->text(), "event-" + std::to_string(n));
    EXPECT_EQ((*e)->content_type, "text/plain");
  }
  EXPECT_EQ(text_of(i->pull()), "(none)");
  EXPECT_EQ(text_of(i->pull()), "(none)");
}

TEST_F(Torvyn, SourceReceivesBackpressureSignals) {
  ComponentOptions o;
  o.config = R"({"count":2})";
  auto i = instance("source", World::DataSource, o);
  ASSERT_TRUE(i);
  ASSERT_TRUE(i->notify_backpressure(Backpressure::Pause).ok());
  auto paused = i->pull();
  ASSERT_FALSE(paused.ok());
  EXPECT_EQ(paused.error().kind, ErrorKind::GuestError);
  EXPECT_NE(paused.error().message.find("pause signals: 1, ready signals: 0"), std::string::npos)
      << paused.error().message;
  ASSERT_TRUE(i->notify_backpressure(Backpressure::Ready).ok());
  EXPECT_EQ(text_of(i->pull()), "event-0");
}

TEST_F(Torvyn, SinkPausesEveryKAndCompletes) {
  ComponentOptions o;
  o.config = R"({"pause_every":2,"expect":4})";
  auto i = instance("sink", World::DataSink, o);
  ASSERT_TRUE(i);
  std::vector<Backpressure> signals;
  for (int n = 0; n < 4; ++n) {
    auto s = i->push(element("e" + std::to_string(n)));
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    signals.push_back(*s);
  }
  EXPECT_EQ(signals, (std::vector<Backpressure>{Backpressure::Ready, Backpressure::Pause, Backpressure::Ready,
                                                Backpressure::Pause}));
  auto rejected = i->push(element("reject"));
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(i->last_process_error(), ProcessErrorCase::InvalidInput);
  EXPECT_TRUE(i->complete().ok());

  o.config = R"({"expect":2})";
  auto short_sink = instance("sink", World::DataSink, o);
  ASSERT_TRUE(short_sink);
  ASSERT_TRUE(short_sink->push(element("only one")).ok());
  auto done = short_sink->complete();
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().kind, ErrorKind::GuestError);
  EXPECT_NE(done.error().message.find("expected 2 elements, got 1"), std::string::npos) << done.error().message;
}

TEST_F(Torvyn, CallsOutsideTheWorldAreInvalid) {
  auto i = instance("upper", World::Transform);
  ASSERT_TRUE(i);
  auto pulled = i->pull();
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(text_of(i->process(element("ok"))), "OK");
}

// --- process-error policies --------------------------------------------------

TEST_F(Torvyn, InvalidInputAndInternalSkipTheElement) {
  auto i = instance("errors", World::Transform);
  ASSERT_TRUE(i);
  for (auto [payload, which] : {std::pair{"invalid-input", ProcessErrorCase::InvalidInput},
                                std::pair{"internal", ProcessErrorCase::Internal}}) {
    auto r = i->process(element(payload));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::GuestError);
    EXPECT_EQ(r.error().phase, Phase::Call);
    EXPECT_EQ(r.error().hook, "process");
    EXPECT_EQ(r.error().message, std::string(payload) + ": requested " + payload);
    EXPECT_EQ(i->last_process_error(), which);
    EXPECT_EQ(text_of(i->process(element("good"))), "good");  // the same instance serves on
    EXPECT_EQ(i->last_process_error(), std::nullopt);
  }
  EXPECT_EQ(i->stats().skipped, 2u);
  EXPECT_EQ(i->stats().restarts, 0u);
}

TEST_F(Torvyn, DeadlineExceededCountsAsTimeout) {
  auto i = instance("errors", World::Transform);
  ASSERT_TRUE(i);
  auto r = i->process(element("deadline-exceeded"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
  EXPECT_EQ(r.error().phase, Phase::Call);
  EXPECT_EQ(r.error().trap, TrapCode::None);
  EXPECT_EQ(i->stats().timeouts, 1u);
  EXPECT_EQ(text_of(i->process(element("good"))), "good");
}

TEST_F(Torvyn, UnavailableOpensTheCircuitBreaker) {
  ComponentOptions o;
  o.errors.breaker_failures = 2;
  o.errors.breaker_cooldown = std::chrono::milliseconds(200);
  auto i = instance("errors", World::Transform, o);
  ASSERT_TRUE(i);
  for (int n = 0; n < 2; ++n) {
    auto r = i->process(element("unavailable"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::GuestError);
  }
  const std::uint64_t calls = i->stats().calls;
  auto tripped = i->process(element("good"));
  ASSERT_FALSE(tripped.ok());
  EXPECT_EQ(tripped.error().kind, ErrorKind::Tripped);
  EXPECT_EQ(i->stats().calls, calls);  // the guest was not entered
  EXPECT_EQ(i->stats().breaker_trips, 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(text_of(i->process(element("good"))), "good");  // half-open: let through, closes
  EXPECT_EQ(text_of(i->process(element("good"))), "good");
}

TEST_F(Torvyn, FatalTearsTheInstanceDown) {
  auto c = load("errors", World::Transform);
  ASSERT_TRUE(c);
  auto i = c->instantiate().value();
  auto r = i->process(element("fatal"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(i->last_process_error(), ProcessErrorCase::Fatal);
  EXPECT_FALSE(i->usable());
  const std::uint64_t calls = i->stats().calls;
  auto after = i->process(element("good"));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().kind, ErrorKind::GuestError);
  EXPECT_NE(after.error().message.find("takes nothing more"), std::string::npos);
  EXPECT_EQ(i->stats().calls, calls);
  EXPECT_EQ(runtime_->live_instances(), 0u);  // its slot went back
  // The component itself serves on, in a new instance.
  auto fresh = c->instantiate().value();
  EXPECT_EQ(text_of(fresh->process(element("good"))), "good");
}

// --- hostile guests ----------------------------------------------------------

TEST_F(Torvyn, TrapThenTheSameInstanceServesAGoodCall) {
  auto i = instance("hostile", World::Transform);
  ASSERT_TRUE(i);
  auto r = i->process(element("trap"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Trap);
  EXPECT_EQ(r.error().phase, Phase::Call);
  EXPECT_EQ(r.error().trap, TrapCode::Unreachable);
  EXPECT_EQ(text_of(i->process(element("fine"))), "fine");
  EXPECT_EQ(i->stats().restarts, 1u);
}

TEST_F(Torvyn, StackOverflowTraps) {
  auto i = instance("hostile", World::Transform);
  ASSERT_TRUE(i);
  auto r = i->process(element("stack-overflow"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Trap);
  // Rust's shadow stack runs below address 0 (out of bounds) before the
  // native stack guard is hit, depending on frame sizes: either is a trap.
  EXPECT_TRUE(r.error().trap == TrapCode::StackOverflow || r.error().trap == TrapCode::MemoryOutOfBounds)
      << r.error().to_string();
  EXPECT_EQ(text_of(i->process(element("fine"))), "fine");
}

TEST_F(Torvyn, LoopRunsIntoTheDeadline) {
  ComponentOptions o;
  o.limits.deadline = std::chrono::milliseconds(30);
  auto i = instance("hostile", World::Transform, o);
  ASSERT_TRUE(i);
  const auto start = std::chrono::steady_clock::now();
  auto r = i->process(element("loop"));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
  EXPECT_EQ(r.error().trap, TrapCode::Interrupt);
  EXPECT_GE(took, std::chrono::milliseconds(30));  // never before the deadline
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_EQ(i->stats().timeouts, 1u);
  EXPECT_EQ(text_of(i->process(element("fine"))), "fine");
}

TEST_F(Torvyn, LoopRunsOutOfFuelAndFuelIsPerInstance) {
  RuntimeConfig config;
  config.enable_fuel = true;
  runtime_ = Runtime::create(std::move(config)).value();
  ComponentOptions o;
  o.limits.fuel = 5'000'000;
  o.limits.deadline = std::chrono::seconds(20);
  auto i = instance("hostile", World::Transform, o);
  ASSERT_TRUE(i);
  ASSERT_TRUE(i->process(element("fine")).ok());
  const std::uint64_t left = i->fuel_remaining().value();
  EXPECT_LT(left, 5'000'000u);
  EXPECT_GT(left, 0u);
  auto r = i->process(element("loop"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::OutOfFuel);
  EXPECT_EQ(r.error().trap, TrapCode::OutOfFuel);
  EXPECT_EQ(i->fuel_remaining().value(), 0u);
  EXPECT_EQ(text_of(i->process(element("fine"))), "fine");  // refuelled per call
  ASSERT_TRUE(i->set_fuel(10).ok());
  auto starved = i->process(element("fine"));
  ASSERT_FALSE(starved.ok());
  EXPECT_EQ(starved.error().kind, ErrorKind::OutOfFuel);

  runtime_ = Runtime::create().value();
  auto unmetered = instance("upper", World::Transform);
  ASSERT_TRUE(unmetered);
  EXPECT_EQ(unmetered->set_fuel(1).error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(unmetered->fuel_remaining().error().kind, ErrorKind::InvalidArgument);
}

TEST_F(Torvyn, BufferBudgetStopsBufferHoarding) {
  ComponentOptions o;
  o.buffers.budget_bytes = 4u << 20;
  auto i = instance("hostile", World::Transform, o);
  ASSERT_TRUE(i);
  const std::size_t rss_before = test::rss_bytes();
  auto r = i->process(element("exhaust-buffers"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::GuestError);
  // 3 × (1 MiB + 64) fit in 4 MiB, the 4th does not.
  EXPECT_NE(r.error().message.find("after 3 buffers"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("budget"), std::string::npos) << r.error().message;
  EXPECT_GE(i->memory_usage().budget_denials, 1u);
  EXPECT_EQ(i->memory_usage().buffer_bytes, 0u);  // dropped on return, refunded
  EXPECT_LT(test::rss_bytes() - std::min(rss_before, test::rss_bytes()), std::size_t{32} << 20);
  EXPECT_EQ(text_of(i->process(element("fine"))), "fine");
}

TEST_F(Torvyn, BufferCapStopsOneBufferGrowing) {
  ComponentOptions o;
  o.buffers.max_buffer_bytes = 1u << 20;
  auto i = instance("hostile", World::Transform, o);
  ASSERT_TRUE(i);
  auto r = i->process(element("fill-buffer"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::GuestError);
  EXPECT_NE(r.error().message.find("after 1048576 bytes"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("CapacityExceeded"), std::string::npos) << r.error().message;
  EXPECT_EQ(text_of(i->process(element("fine"))), "fine");
}

TEST_F(Torvyn, LinearMemoryStopsAtItsLimit) {
  ComponentOptions o;
  o.limits.memory_bytes = 4u << 20;
  auto i = instance("hostile", World::Transform, o);
  ASSERT_TRUE(i);
  auto r = i->process(element("memory-bomb"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("memory.grow refused"), std::string::npos) << r.error().to_string();
  EXPECT_LE(i->memory_usage().linear_memory_bytes, 4u << 20);
  EXPECT_GT(i->memory_usage().linear_memory_bytes, 2u << 20);
  EXPECT_EQ(text_of(i->process(element("fine"))), "fine");
}

TEST_F(Torvyn, LongContentTypeIsAnAbiViolation) {
  auto i = instance("upper", World::Transform);
  ASSERT_TRUE(i);
  const std::string long_type(300, 't');  // upper copies the input's content-type with set-content-type
  auto r = i->process(element("x", long_type));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::AbiViolation);
  EXPECT_EQ(r.error().phase, Phase::Call);
  EXPECT_NE(r.error().message.find("content-type of 300 bytes is longer than the 256 bytes allowed"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(text_of(i->process(element("ok"))), "OK");
  EXPECT_EQ(i->stats().restarts, 1u);
}

TEST_F(Torvyn, InputAndOutputLimits) {
  ComponentOptions o;
  o.limits.max_input_bytes = 8;
  o.limits.max_output_bytes = 4;
  auto i = instance("upper", World::Transform, o);
  ASSERT_TRUE(i);
  auto big_in = i->process(element("123456789"));
  ASSERT_FALSE(big_in.ok());
  EXPECT_EQ(big_in.error().kind, ErrorKind::LimitExceeded);
  EXPECT_EQ(big_in.error().phase, Phase::Write);
  EXPECT_EQ(i->stats().calls, 0u);  // refused before the guest
  auto big_out = i->process(element("hello"));
  ASSERT_FALSE(big_out.ok());
  EXPECT_EQ(big_out.error().kind, ErrorKind::LimitExceeded);
  EXPECT_EQ(big_out.error().phase, Phase::Read);
  EXPECT_EQ(text_of(i->process(element("hi"))), "HI");
}

// --- engine parity: serialize, cache, slots, threads --------------------------

TEST_F(Torvyn, SerializeAndDeserialize) {
  auto c = load("upper", World::Transform);
  ASSERT_TRUE(c);
  auto bytes = c->serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
  ComponentOptions o;
  auto back = runtime_->deserialize_component(*bytes, o);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(text_of((*back)->instantiate().value()->process(element("abc"))), "ABC");
  std::vector<std::uint8_t> junk(*bytes);
  junk.resize(junk.size() / 2);
  auto bad = runtime_->deserialize_component(junk, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::CompileFailed);
  // Serialized code is admitted like wasm: a transform is no data-sink.
  o.world = World::DataSink;
  auto wrong = runtime_->deserialize_component(*bytes, o);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind, ErrorKind::Rejected);
}

TEST_F(Torvyn, ComponentsUseTheCompiledCodeCache) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("wasmplug-torvyn-cache-" + std::to_string(std::random_device{}()));
  RuntimeConfig config;
  config.module_cache.directory = dir;
  const auto bytes = component_bytes("upper");
  {
    auto first = Runtime::create(config).value();
    ASSERT_TRUE(first->load_component(bytes, ComponentOptions{}).ok());
    EXPECT_EQ(first->module_cache_stats().compiles, 1u);
    EXPECT_EQ(first->module_cache_stats().stores, 1u);
  }
  {
    auto second = Runtime::create(config).value();
    auto c = second->load_component(bytes, ComponentOptions{});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(second->module_cache_stats().hits, 1u);
    EXPECT_EQ(second->module_cache_stats().compiles, 0u);
    EXPECT_EQ(text_of((*c)->instantiate().value()->process(element("cached"))), "CACHED");
  }
  // A corrupted entry is a miss: compiled again and replaced.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename() != "key") {
      std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(200);
      f.put('\x5a');
    }
  }
  {
    auto third = Runtime::create(config).value();
    auto c = third->load_component(bytes, ComponentOptions{});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(third->module_cache_stats().rejected, 1u);
    EXPECT_EQ(third->module_cache_stats().compiles, 1u);
    EXPECT_EQ(text_of((*c)->instantiate().value()->process(element("x"))), "X");
  }
  std::filesystem::remove_all(dir);
}

TEST_F(Torvyn, InstancesTakeSlotsOfTheEngine) {
  // A component instance takes one pool slot per core module it instantiates
  // (upper: a few), so a small pool holds only a few of them.
  RuntimeConfig config;
  config.max_instances = 8;
  runtime_ = Runtime::create(std::move(config)).value();
  auto c = load("upper", World::Transform);
  ASSERT_TRUE(c);
  std::vector<std::unique_ptr<torvyn::Instance>> live;
  Result<std::unique_ptr<torvyn::Instance>> next = c->instantiate();
  while (next.ok() && live.size() < 8) {
    live.push_back(std::move(next).value());
    next = c->instantiate();
  }
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().kind, ErrorKind::PoolSaturated) << next.error().to_string();
  EXPECT_EQ(next.error().phase, Phase::Instantiate);
  ASSERT_GE(live.size(), 1u);
  EXPECT_EQ(runtime_->live_instances(), live.size());
  live.pop_back();
  EXPECT_EQ(runtime_->live_instances(), live.size());
  auto again = c->instantiate();
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(text_of((*again)->process(element("x"))), "X");
}

class CountingSink : public MetricsSink {
 public:
  void on_call(const CallEvent& e) noexcept override {
    ++calls;
    failed += e.error != nullptr ? 1 : 0;
    last_hook = e.hook;
  }
  void on_instantiate(std::string_view) noexcept override { ++instantiated; }
  void on_pool_saturated(std::string_view) noexcept override {}
  void on_swap(std::string_view) noexcept override {}
  void on_fallback(std::string_view, Hook) noexcept override {}
  std::atomic<int> calls{0}, failed{0}, instantiated{0};
  Hook last_hook = Hook::Filter;
};

TEST_F(Torvyn, CallsAndInstancesReachTheMetricsSink) {
  auto sink = std::make_shared<CountingSink>();
  RuntimeConfig config;
  config.metrics = sink;
  runtime_ = Runtime::create(std::move(config)).value();
  auto i = instance("errors", World::Transform);
  ASSERT_TRUE(i);
  EXPECT_EQ(sink->instantiated.load(), 1);
  ASSERT_TRUE(i->process(element("fine")).ok());
  ASSERT_FALSE(i->process(element("internal")).ok());
  EXPECT_EQ(sink->calls.load(), 2);
  EXPECT_EQ(sink->failed.load(), 1);
  EXPECT_EQ(sink->last_hook, Hook::Transform);
}

TEST_F(Torvyn, ComponentSlotSwapsAndRollsBack) {
  auto upper = load("upper", World::Transform);
  auto filter = load("filter", World::Transform);
  auto sink = load("sink", World::DataSink);
  ASSERT_TRUE(upper && filter && sink);
  auto slot = torvyn::ComponentSlot::create(upper).value();
  EXPECT_EQ(slot->version(), 1u);
  auto [old_instance, old_version] = slot->instantiate().value();
  EXPECT_EQ(old_version, 1u);
  EXPECT_EQ(slot->swap(filter).value(), 2u);
  auto [new_instance, new_version] = slot->instantiate().value();
  EXPECT_EQ(new_version, 2u);
  EXPECT_EQ(text_of(new_instance->process(element("drop this"))), "(none)");  // filter
  EXPECT_EQ(text_of(old_instance->process(element("drop this"))), "DROP THIS");  // still upper
  auto wrong = slot->swap(sink);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(slot->version(), 2u);
  EXPECT_EQ(slot->rollback().value(), 3u);
  EXPECT_EQ(slot->current().get(), upper.get());
  EXPECT_EQ(torvyn::ComponentSlot::create(nullptr).error().kind, ErrorKind::InvalidArgument);
}

TEST_F(Torvyn, OneInstancePerThread) {
  auto c = load("upper", World::Transform);
  ASSERT_TRUE(c);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto i = c->instantiate().value();
      const std::string in = "thread-" + std::to_string(t);
      std::string want = in;
      for (char& ch : want) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      }
      for (int n = 0; n < 500; ++n) {
        if (text_of(i->process(element(in))) == want) {
          good.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(good.load(), 2000);
}


// --- the WASI grant (ComponentOptions::wasi) --------------------------------

/// A runtime whose log records land in `records` (plugin: message).
struct LoggedRuntime {
  std::mutex mutex;
  std::vector<std::string> records;
  std::unique_ptr<Runtime> runtime;

  LoggedRuntime() {
    RuntimeConfig config;
    config.log_sink = [this](const LogRecord& r) {
      std::lock_guard lock(mutex);
      records.push_back(std::string(r.plugin) + ": " + std::string(r.message));
    };
    runtime = Runtime::create(std::move(config)).value();
  }
  std::vector<std::string> logs() {
    EXPECT_TRUE(runtime->quiesce());
    std::lock_guard lock(mutex);
    return records;
  }
  static bool any(const std::vector<std::string>& lines, std::string_view needle) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  }
};

std::unique_ptr<torvyn::Instance> wasi_instance(Runtime& runtime, ComponentOptions o = {}) {
  o.name = "wasi_std";
  o.wasi = true;
  auto c = runtime.load_component(component_bytes("wasi_std"), o);
  EXPECT_TRUE(c.ok()) << (c ? "" : c.error().to_string());
  if (!c) {
    return nullptr;
  }
  auto i = (*c)->instantiate();
  EXPECT_TRUE(i.ok()) << (i ? "" : i.error().to_string());
  return i ? std::move(i).value() : nullptr;
}

TEST_F(Torvyn, WasiRefusalNamesTheOptionThatGrantsIt) {
  ComponentOptions o;
  o.name = "wasi_std";
  auto c = runtime_->load_component(component_bytes("wasi_std"), o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::Rejected);
  EXPECT_NE(c.error().message.find("unless the embedder grants them (ComponentOptions::wasi)"), std::string::npos)
      << c.error().message;
}

TEST_F(Torvyn, WasiGrantRoutesStdoutAndStderrToTheLog) {
  LoggedRuntime logged;
  auto i = wasi_instance(*logged.runtime);
  ASSERT_TRUE(i);
  EXPECT_EQ(text_of(i->process(element("hello"))), "hello");
  const auto lines = logged.logs();
  // stdout, with the wall clock read through WASI (after 2020).
  const auto out = std::find_if(lines.begin(), lines.end(),
                                [](const std::string& l) { return l.find("wasi_std: wasi_std: 5 bytes at unix time ") == 0; });
  ASSERT_NE(out, lines.end()) << ::testing::PrintToString(lines);
  EXPECT_GT(std::stoull(out->substr(out->rfind(' ') + 1)), 1577836800ull) << *out;
  // stderr: no environment, no arguments; random and the monotonic clock work.
  EXPECT_TRUE(LoggedRuntime::any(lines, "wasi_std stderr: HOME=None args=0 random=")) << ::testing::PrintToString(lines);
  EXPECT_TRUE(LoggedRuntime::any(lines, "monotonic=true")) << ::testing::PrintToString(lines);
  EXPECT_EQ(text_of(i->process(element("again"))), "again");
}

TEST_F(Torvyn, WasiGrantHasNoFilesAndNoNetwork) {
  auto i = wasi_instance(*runtime_);
  ASSERT_TRUE(i);
  for (const char* path : {"open:/etc/passwd", "open:Cargo.toml", "open:/"}) {
    const std::string r = text_of(i->process(element(path)));
    EXPECT_EQ(r.rfind("open failed: ", 0), 0u) << path << " -> " << r;
  }
  const std::string net = text_of(i->process(element("connect:127.0.0.1:9")));
  EXPECT_EQ(net.rfind("connect failed: ", 0), 0u) << net;
  EXPECT_EQ(text_of(i->process(element("fine"))), "fine");
}

TEST_F(Torvyn, WasiClockWaitEndsByTheDeadline) {
  ComponentOptions o;
  o.limits.deadline = std::chrono::milliseconds(50);
  auto i = wasi_instance(*runtime_, o);
  ASSERT_TRUE(i);
  const auto start = std::chrono::steady_clock::now();
  auto r = i->process(element("sleep:600"));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok()) << text_of(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Timeout) << r.error().to_string();
  EXPECT_LT(took, std::chrono::seconds(20));
  EXPECT_EQ(text_of(i->process(element("fine"))), "fine");
}

TEST_F(Torvyn, WasiOutputPastTheLogBudgetIsDroppedAndCounted) {
  RuntimeConfig config;
  std::mutex mutex;
  std::vector<std::string> records;
  config.max_log_lines_per_call = 1;
  config.log_sink = [&](const LogRecord& r) {
    std::lock_guard lock(mutex);
    records.emplace_back(r.message);
  };
  auto runtime = Runtime::create(std::move(config)).value();
  auto i = wasi_instance(*runtime);
  ASSERT_TRUE(i);
  EXPECT_EQ(text_of(i->process(element("x"))), "x");
  ASSERT_TRUE(runtime->quiesce());
  std::lock_guard lock(mutex);
  ASSERT_EQ(records.size(), 2u) << ::testing::PrintToString(records);
  EXPECT_NE(records[0].find("wasi_std: 1 bytes"), std::string::npos) << records[0];
  EXPECT_NE(records[1].find("log budget dropped"), std::string::npos) << records[1];
}

// --- teardown and flow-context (guest `flow`) ----------------------------------

TEST_F(Torvyn, FailingTeardownIsLoggedAndDoesNotBlock) {
  for (const char* how : {"teardown:trap", "teardown:loop"}) {
    LoggedRuntime logged;
    ComponentOptions o;
    o.name = "flow";
    o.world = World::ManagedTransform;
    o.config = how;
    o.limits.deadline = std::chrono::milliseconds(50);
    auto c = logged.runtime->load_component(component_bytes("flow"), o);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    auto i = (*c)->instantiate().value();
    EXPECT_TRUE(i->process(element("x")).ok());
    const auto start = std::chrono::steady_clock::now();
    auto r = i->teardown();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
    ASSERT_FALSE(r.ok()) << how;
    EXPECT_EQ(r.error().phase, Phase::Shutdown);
    EXPECT_EQ(r.error().kind, std::string_view(how) == "teardown:trap" ? ErrorKind::Trap : ErrorKind::Timeout)
        << r.error().to_string();
    EXPECT_FALSE(i->usable());
    EXPECT_TRUE(LoggedRuntime::any(logged.logs(), "flow: teardown failed: ")) << how;
    EXPECT_EQ(logged.runtime->live_instances(), 0u);
    // Destroying a torn-down instance calls nothing more.
    i.reset();
  }
  // The destructor's teardown fails the same way and still returns.
  LoggedRuntime logged;
  ComponentOptions o;
  o.name = "flow";
  o.world = World::ManagedTransform;
  o.config = "teardown:loop";
  o.limits.deadline = std::chrono::milliseconds(50);
  auto c = logged.runtime->load_component(component_bytes("flow"), o).value();
  c->instantiate().value().reset();
  EXPECT_TRUE(LoggedRuntime::any(logged.logs(), "flow: teardown failed: "));
}

TEST_F(Torvyn, FlowContextAnswersFromTheElement) {
  ComponentOptions o;
  o.config = "{}";
  auto i = instance("flow", World::ManagedTransform, o);
  ASSERT_TRUE(i);
  Element e = element("x");
  e.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  e.span_id = "00f067aa0ba902b7";
  e.flow_id = "orders-7";
  timespec ts{};
  ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
  const std::uint64_t now = static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
  e.deadline_ns = now + 3600ull * 1000000000ull;  // an hour from now
  const std::string text = text_of(i->process(e));
  const std::string prefix = "trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 flow=orders-7 deadline=";
  ASSERT_EQ(text.rfind(prefix, 0), 0u) << text;
  const std::uint64_t left = std::stoull(text.substr(prefix.size()));
  EXPECT_GT(left, 3000ull * 1000000000ull) << text;
  EXPECT_LE(left, 3600ull * 1000000000ull) << text;
  // None set: empty strings and 0; a deadline already passed: 1.
  EXPECT_EQ(text_of(i->process(element("x"))), "trace= span= flow= deadline=0 type=text/plain seq=0");
  Element late = element("x");
  late.deadline_ns = 1;
  EXPECT_EQ(text_of(i->process(late)), "trace= span= flow= deadline=1 type=text/plain seq=0");
}

TEST_F(Torvyn, FlowContextIdsMustBeHex) {
  ComponentOptions o;
  o.config = "{}";
  auto i = instance("flow", World::ManagedTransform, o);
  ASSERT_TRUE(i);
  const std::uint64_t calls = i->stats().calls;
  for (auto [trace, span] : {std::pair<std::string_view, std::string_view>{"not-hex", ""},
                            {"4bf92f3577b34da6a3ce929d0e0e473", ""},  // 31 chars
                            {"", "00f067aa0ba902bZ"},
                            {"", "00f067aa0ba902b7ff"}}) {
    Element e = element("x");
    e.trace_id = trace;
    e.span_id = span;
    auto r = i->process(e);
    ASSERT_FALSE(r.ok()) << trace << "/" << span;
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(r.error().phase, Phase::Write);
    EXPECT_NE(r.error().message.find(trace.empty() ? "span_id" : "trace_id"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(i->stats().calls, calls);  // refused before the guest was entered
  EXPECT_EQ(text_of(i->process(element("x"))), "trace= span= flow= deadline=0 type=text/plain seq=0");
}

TEST_F(Torvyn, LoopRunsIntoTheCpuDeadline) {
  ComponentOptions o;
  o.limits.deadline = std::chrono::seconds(30);
  o.limits.cpu_deadline = std::chrono::milliseconds(30);
  auto i = instance("hostile", World::Transform, o);
  ASSERT_TRUE(i);
  const auto start = std::chrono::steady_clock::now();
  auto r = i->process(element("loop"));
  ASSERT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(r.error().kind, ErrorKind::Timeout);
  EXPECT_EQ(r.error().trap, TrapCode::Interrupt);
  EXPECT_NE(r.error().message.find("CPU deadline of 30 ms"), std::string::npos) << r.error().message;
  EXPECT_EQ(i->stats().timeouts, 1u);
  EXPECT_EQ(text_of(i->process(element("fine"))), "fine");
}

TEST_F(Torvyn, CpuDeadlineIsValidated) {
  for (auto bad : {std::chrono::milliseconds(0), std::chrono::milliseconds(-5), std::chrono::milliseconds(3600001)}) {
    ComponentOptions o;
    o.name = "upper";
    o.limits.cpu_deadline = bad;
    auto c = runtime_->load_component(component_bytes("upper"), o);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().kind, ErrorKind::InvalidArgument);
    EXPECT_NE(c.error().message.find("limits.cpu_deadline"), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace wasmplug
