#include "engine/engine.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "admission/admission.hpp"
#include "isolation/retirer.hpp"

namespace wasmplug::detail {

namespace {

constexpr std::uint64_t kWasmPage = 64u << 10;

Error config_error(std::string message) {
  return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {}, std::move(message)};
}

void default_log_sink(const LogRecord& record) {
  // One fprintf per line: stdio locks the stream, so lines never interleave.
  std::fprintf(stderr, "[%.*s] %.*s: %.*s\n", static_cast<int>(record.plugin.size()),
               record.plugin.data(), static_cast<int>(to_string(record.level).size()),
               to_string(record.level).data(), static_cast<int>(record.message.size()),
               record.message.data());
}

}  // namespace

Result<void> validate(const RuntimeConfig& config) {
  if (config.max_instances == 0 || config.max_instances > 100'000) {
    return config_error("max_instances must be in 1..100000, got " +
                        std::to_string(config.max_instances));
  }
  if (config.max_memory_bytes < kWasmPage || config.max_memory_bytes % kWasmPage != 0 ||
      config.max_memory_bytes > (4ULL << 30)) {
    return config_error("max_memory_bytes must be a multiple of 64 KiB in 64 KiB..4 GiB, got " +
                        std::to_string(config.max_memory_bytes));
  }
  if (config.max_table_elements == 0 || config.max_table_elements > 10'000'000) {
    return config_error("max_table_elements must be in 1..10000000, got " +
                        std::to_string(config.max_table_elements));
  }
  if (config.max_module_bytes == 0) {
    return config_error("max_module_bytes must be positive");
  }
  const CompileLimits& c = config.compile;
  if (c.max_functions == 0 || c.max_function_bytes == 0 || c.max_code_bytes == 0 || c.max_locals == 0 || c.max_total_locals == 0 ||
      c.max_nesting == 0 || c.max_globals == 0) {
    return config_error("compile limits must all be positive (RuntimeConfig::compile)");
  }
  if (config.max_wasm_stack < (16u << 10) || config.max_wasm_stack > (64u << 20)) {
    return config_error("max_wasm_stack must be in 16 KiB..64 MiB, got " +
                        std::to_string(config.max_wasm_stack));
  }
  if (config.epoch_tick < std::chrono::microseconds(100) ||
      config.epoch_tick > std::chrono::seconds(1)) {
    return config_error("epoch_tick must be in 100 us..1 s, got " +
                        std::to_string(config.epoch_tick.count()) + " us");
  }
  if (config.memory_keep_resident > config.max_memory_bytes) {
    return config_error("memory_keep_resident must not exceed max_memory_bytes");
  }
  if (static_cast<std::uint8_t>(config.min_log_level) > static_cast<std::uint8_t>(LogLevel::Error)) {
    return config_error("min_log_level must be one of Trace (0) .. Error (4), got " +
                        std::to_string(static_cast<unsigned>(config.min_log_level)));
  }
  if (config.max_log_message_bytes == 0) {
    return config_error("max_log_message_bytes must be positive");
  }
  if (config.max_log_lines_per_call == 0) {
    return config_error("max_log_lines_per_call must be positive");
  }
  if (config.max_log_bytes_per_call == 0) {
    return config_error("max_log_bytes_per_call must be positive");
  }
  if (config.log_queue_records == 0 || config.log_queue_records > 1'000'000) {
    return config_error("log_queue_records must be in 1..1000000, got " + std::to_string(config.log_queue_records));
  }
  if (config.retire_queue_instances > 100'000) {
    return config_error("retire_queue_instances must be in 0..100000, got " +
                        std::to_string(config.retire_queue_instances));
  }
  if (config.module_cache.max_bytes < (1u << 20) || config.module_cache.max_bytes > (1ULL << 40)) {
    return config_error("module_cache.max_bytes must be in 1 MiB..1 TiB, got " +
                        std::to_string(config.module_cache.max_bytes));
  }
  if (!config.module_cache.directory.empty() && !config.module_cache.directory.is_absolute()) {
    return config_error("module_cache.directory must be an absolute path, got '" +
                        config.module_cache.directory.string() + "'");
  }
  return {};
}

std::string compile_settings(const RuntimeConfig& config) {
  // Wasmtime also refuses (at deserialize) code built with other flags, for
  // another CPU or by another version; the key makes those plain misses
  // instead of rejected entries. The CPU's feature flags matter because
  // Wasmtime compiles for the host CPU it detects.
  static const std::string cpu = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.starts_with("flags") || line.starts_with("Features")) {
        return line;
      }
    }
    return std::string("unknown");
  }();
  return std::string("wasmtime ") + WASMTIME_VERSION + "\npolicy " + std::to_string(kPolicyVersion) +
#if defined(__x86_64__)
         "\ntarget x86_64-linux" +
#elif defined(__aarch64__)
         "\ntarget aarch64-linux" +
#else
         "\ntarget other" +
#endif
         "\ncpu " + cpu + "\nepoch_interruption 1\nfuel " + std::to_string(int{config.enable_fuel}) +
         "\nmax_wasm_stack " + std::to_string(config.max_wasm_stack) +
         "\nfeatures -shared_memory -multi_memory -memory64 -gc -function_references -stack_switching "
         "-custom_page_sizes\nmemory_init_cow 1\nmemory_may_move 0\npooling max_memory_size " +
         std::to_string(config.max_memory_bytes) + " table_elements " + std::to_string(config.max_table_elements) +
         " memories_per_module 1 tables_per_module 1";
}

Result<std::unique_ptr<Engine>> Engine::create(RuntimeConfig config) {
  if (auto valid = validate(config); !valid) {
    return std::move(valid).error();
  }
  if (!config.log_sink) {
    config.log_sink = default_log_sink;
  }

  ConfigHandle cfg(wasm_config_new());
  wasmtime_config_epoch_interruption_set(cfg.get(), true);
  wasmtime_config_consume_fuel_set(cfg.get(), config.enable_fuel);
  wasmtime_config_max_wasm_stack_set(cfg.get(), config.max_wasm_stack);
  // Features a plugin may not use (threads are not compiled in): shared memory, several memories,
  // 64-bit memories, GC objects, stack switching.
  wasmtime_config_shared_memory_set(cfg.get(), false);
  wasmtime_config_wasm_multi_memory_set(cfg.get(), false);
  wasmtime_config_wasm_memory64_set(cfg.get(), false);
  wasmtime_config_wasm_gc_set(cfg.get(), false);
  wasmtime_config_wasm_function_references_set(cfg.get(), false);
  wasmtime_config_wasm_stack_switching_set(cfg.get(), false);
  wasmtime_config_wasm_custom_page_sizes_set(cfg.get(), false);
  wasmtime_config_memory_init_cow_set(cfg.get(), true);
  // Instance::memory_covering() relies on linear memories never moving.
  wasmtime_config_memory_may_move_set(cfg.get(), false);

  PoolingConfigHandle pool(wasmtime_pooling_allocation_config_new());
  wasmtime_pooling_allocation_config_total_core_instances_set(pool.get(), config.max_instances);
  wasmtime_pooling_allocation_config_total_memories_set(pool.get(), config.max_instances);
  wasmtime_pooling_allocation_config_total_tables_set(pool.get(), config.max_instances);
  wasmtime_pooling_allocation_config_total_gc_heaps_set(pool.get(), config.max_instances);
  wasmtime_pooling_allocation_config_max_memories_per_module_set(pool.get(), 1);
  wasmtime_pooling_allocation_config_max_tables_per_module_set(pool.get(), 1);
  wasmtime_pooling_allocation_config_max_memory_size_set(pool.get(), config.max_memory_bytes);
  wasmtime_pooling_allocation_config_table_elements_set(pool.get(), config.max_table_elements);
  wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(pool.get(),
                                                                     config.memory_keep_resident);
  wasmtime_pooling_allocation_config_table_keep_resident_set(pool.get(), 16u << 10);
  wasmtime_pooling_allocation_strategy_set(cfg.get(), pool.get());

  // wasm_engine_new_with_config takes ownership of the config.
  EngineHandle engine(wasm_engine_new_with_config(cfg.release()));
  if (!engine) {
    return Error{ErrorKind::InstantiateFailed, Phase::Config, {}, {},
                 "the Wasmtime engine could not be created (address space for the instance "
                 "pool?)"};
  }
  return std::unique_ptr<Engine>(new Engine(std::move(config), std::move(engine)));
}

Engine::Engine(RuntimeConfig config, EngineHandle engine)
    : config_(std::move(config)),
      engine_(std::move(engine)),
      slots_(config_.max_instances) {
  ticker_ = std::thread([this] { tick_loop(); });
  logs_ = std::make_unique<LogQueue>(config_.log_sink, config_.log_queue_records, config_.min_log_level);
  retirer_ = std::make_unique<Retirer>(std::min(config_.retire_queue_instances, config_.max_instances), *logs_);
}

Engine::~Engine() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  ticker_.join();
  retirer_.reset();  // before the log queue it reports to
}

void Engine::tick_loop() {
  // Ticks only say "look at the clock now": every deadline is decided by the
  // deadline callback against a real clock (Instance), so a late or early
  // tick cannot make a call fail early. Ticks keep a fixed period without
  // drift (a deadline is late by at most one period on an idle machine) and
  // do not come in bursts after a stall.
  std::unique_lock lock(mutex_);
  auto next = std::chrono::steady_clock::now() + config_.epoch_tick;
  while (!stopping_) {
    if (stop_cv_.wait_until(lock, next, [this] { return stopping_; })) {
      break;
    }
    wasmtime_engine_increment_epoch(engine_.get());
    next = std::max(next + config_.epoch_tick, std::chrono::steady_clock::now());
  }
}

std::uint64_t Engine::epoch_ticks(std::chrono::nanoseconds span) const noexcept {
  const auto tick = std::chrono::duration_cast<std::chrono::nanoseconds>(config_.epoch_tick).count();
  const auto ticks = (std::max<std::int64_t>(span.count(), 0) + tick - 1) / tick;
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(ticks));
}

}  // namespace wasmplug::detail
