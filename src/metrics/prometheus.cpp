#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "metrics/text_format.hpp"
#include "wasmplug/metrics.hpp"

namespace wasmplug {

using detail::escape_label;
using detail::sample_value;

namespace {

constexpr std::uint8_t kNoHook = 255;
constexpr std::size_t kKinds = static_cast<std::size_t>(ErrorKind::Tripped) + 1;
constexpr std::size_t kPhases = static_cast<std::size_t>(Phase::Shutdown) + 1;
// Upper bounds of the duration histogram, in nanoseconds (1 us .. 1 s).
constexpr std::array<std::uint64_t, 12> kBucketsNs = {1'000,     2'500,      5'000,       10'000,
                                                      25'000,    50'000,     100'000,     250'000,
                                                      1'000'000, 10'000'000, 100'000'000, 1'000'000'000};

std::string seconds(std::uint64_t ns) { return sample_value(static_cast<double>(ns) / 1e9); }

}  // namespace

// Per-call counters live in cells of which each thread writes only its own:
// an increment is a plain load and store (no locked instruction, no cache
// line shared with another writer), and render() adds the cells up under the
// series' mutex. A cell belongs to the series, not to the thread: when a
// thread exits its cells go back to the series' free list with their counts,
// and the next new thread takes one of them. So a series has at most as many
// cells as threads that recorded for it at one time, and never more than
// kMaxCells: the threads past that share one more cell, written with
// fetch_add. Rare events (failures, swaps) are plain atomics on the series.
namespace {

constexpr std::size_t kMaxCells = 64;
constexpr std::size_t kBuckets = kBucketsNs.size() + 1;  // the last one is +Inf

struct alignas(64) CallCell {
  std::atomic<std::uint64_t> duration_sum_ns{0};
  // Calls are the sum of the buckets (no third counter to keep in step).
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets{};
  bool shared = false;  // written by several threads: fetch_add; set before the cell is handed out
};

// The cells of one series. Shared with the threads that own a cell of it,
// so that a thread exiting after the sink is gone touches live memory.
struct CellPool {
  explicit CellPool(std::uint64_t series_id) : id(series_id) {}
  const std::uint64_t id;
  std::atomic<bool> closed{false};  // the series is gone: nothing to return
  std::mutex mutex;
  std::vector<std::unique_ptr<CallCell>> cells;  // guarded by mutex; a cell never moves
  std::vector<CallCell*> free;                   // guarded by mutex
  CallCell* shared = nullptr;                    // guarded by mutex
};

// Process-unique series ids key the threads' caches: a sink destroyed and a
// new one allocated at the same address gets new ids, so no thread writes a
// cell of the old one. 0 marks an empty cache entry.
std::atomic<std::uint64_t> next_series_id{1};

struct CacheEntry {
  std::uint64_t id = 0;
  CallCell* cell = nullptr;
};
constexpr std::size_t kCacheEntries = 64;

// The hot path reads only this: trivially destructible, so it takes no TLS
// initialisation guard. Series ids are consecutive, so up to 64 series a
// thread records for sit in distinct entries (1 KiB per thread).
thread_local std::array<CacheEntry, kCacheEntries> cache{};
thread_local bool thread_exiting = false;

struct OwnedCell {
  std::shared_ptr<CellPool> pool;
  CallCell* cell = nullptr;
};

// Every cell this thread owns, by series id (the cache may have dropped
// some); hands them back to their series when the thread exits. Touched only
// on a cache miss.
struct OwnedCells {
  std::unordered_map<std::uint64_t, OwnedCell> cells;
  OwnedCells() = default;
  OwnedCells(const OwnedCells&) = delete;
  OwnedCells& operator=(const OwnedCells&) = delete;
  ~OwnedCells() {
    thread_exiting = true;
    cache = {};
    for (auto& [id, owned] : cells) {
      if (owned.cell != nullptr && !owned.cell->shared && !owned.pool->closed.load(std::memory_order_acquire)) {
        std::lock_guard lock(owned.pool->mutex);
        owned.pool->free.push_back(owned.cell);  // capacity reserved when the cell was made: cannot throw
      }
    }
  }
};
thread_local OwnedCells owned_cells;

// A free cell of `pool`, a new one, or past kMaxCells the shared one.
CallCell* take_cell(CellPool& pool) {
  std::lock_guard lock(pool.mutex);
  if (!pool.free.empty()) {
    CallCell* cell = pool.free.back();
    pool.free.pop_back();
    return cell;
  }
  if (pool.shared != nullptr) {
    return pool.shared;
  }
  pool.free.reserve(pool.cells.size() + 1);  // room for every cell to come back
  CallCell* cell = pool.cells.emplace_back(std::make_unique<CallCell>()).get();
  if (pool.cells.size() > kMaxCells) {
    cell->shared = true;
    pool.shared = cell;
  }
  return cell;
}

// This thread's cell of `pool` (it keeps it for the rest of its life or the
// pool's), put in the cache. Null when out of memory or once the thread is
// exiting (the event is dropped).
[[gnu::noinline]] CallCell* claim_cell(const std::shared_ptr<CellPool>& pool) noexcept {
  if (thread_exiting) {
    return nullptr;
  }
  CacheEntry& entry = cache[pool->id % kCacheEntries];
  auto& mine = owned_cells.cells;
  try {
    if (auto it = mine.find(pool->id); it != mine.end()) {  // dropped from the cache by another series
      entry = {pool->id, it->second.cell};
      return it->second.cell;
    }
    // A new cell is rare: the time to forget series that are gone (their sink destroyed).
    std::erase_if(mine, [](const auto& c) { return c.second.pool->closed.load(std::memory_order_acquire); });
    auto& slot = mine[pool->id];
    try {
      slot = OwnedCell{pool, take_cell(*pool)};
    } catch (...) {
      mine.erase(pool->id);
      throw;
    }
    entry = {pool->id, slot.cell};
    return slot.cell;
  } catch (...) {
    return nullptr;  // out of memory: drop the event rather than throw into a call path
  }
}

void add(std::atomic<std::uint64_t>& counter, std::uint64_t n, bool shared) noexcept {
  if (shared) [[unlikely]] {
    counter.fetch_add(n, std::memory_order_relaxed);
  } else {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
}

std::size_t bucket_of(std::uint64_t ns) noexcept {
  std::size_t b = 0;
  while (b < kBucketsNs.size() && ns > kBucketsNs[b]) {
    ++b;
  }
  return b;
}

// One series' call counts at render time.
struct CallTotals {
  std::array<std::uint64_t, kBuckets> buckets{};
  std::uint64_t duration_sum_ns = 0;
  [[nodiscard]] std::uint64_t calls() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t b : buckets) {
      n += b;
    }
    return n;
  }
};

}  // namespace

struct PrometheusMetrics::Series {
  std::string plugin;
  std::uint8_t hook;
  std::uint64_t id;
  std::shared_ptr<CellPool> pool;
  std::atomic<std::uint64_t> fallbacks{0};
  std::array<std::array<std::atomic<std::uint64_t>, kPhases>, kKinds> failures{};
  std::atomic<std::uint64_t> instantiations{0};
  std::atomic<std::uint64_t> saturated{0};
  std::atomic<std::uint64_t> swaps{0};

  Series(std::string_view p, std::uint8_t h)
      : plugin(p), hook(h), id(next_series_id.fetch_add(1, std::memory_order_relaxed)),
        pool(std::make_shared<CellPool>(id)) {}
  Series(const Series&) = delete;
  Series& operator=(const Series&) = delete;
  ~Series() { pool->closed.store(true, std::memory_order_release); }

  [[nodiscard]] CallCell* cell() const noexcept {
    const CacheEntry& entry = cache[id % kCacheEntries];
    if (entry.id == id) [[likely]] {
      return entry.cell;
    }
    return claim_cell(pool);
  }

  [[nodiscard]] CallTotals totals() const {
    CallTotals t;
    std::lock_guard lock(pool->mutex);
    for (const auto& c : pool->cells) {
      t.duration_sum_ns += c->duration_sum_ns.load(std::memory_order_relaxed);
      for (std::size_t b = 0; b < kBuckets; ++b) {
        t.buckets[b] += c->buckets[b].load(std::memory_order_relaxed);
      }
    }
    return t;
  }
};

PrometheusMetrics::PrometheusMetrics(std::size_t max_series)
    : capacity_(2 * (max_series < 1 ? 1 : max_series) + 1),
      table_(new std::atomic<Series*>[2 * (max_series < 1 ? 1 : max_series) + 1]) {
  for (std::size_t i = 0; i < capacity_; ++i) {
    table_[i].store(nullptr, std::memory_order_relaxed);
  }
}

PrometheusMetrics::~PrometheusMetrics() {
  for (std::size_t i = 0; i < capacity_; ++i) {
    delete table_[i].load(std::memory_order_relaxed);
  }
}

PrometheusMetrics::Series* PrometheusMetrics::series(std::string_view plugin, std::uint8_t hook) noexcept {
  const std::size_t start = (std::hash<std::string_view>{}(plugin) ^ (hook * 0x9e3779b97f4a7c15ULL)) % capacity_;
  // Lock-free lookup: entries are only ever added, never moved or removed.
  for (std::size_t i = 0; i < capacity_; ++i) {
    Series* s = table_[(start + i) % capacity_].load(std::memory_order_acquire);
    if (s == nullptr) {
      break;
    }
    if (s->hook == hook && s->plugin == plugin) {
      return s;
    }
  }
  try {
    std::lock_guard lock(insert_mutex_);
    const bool full = size_.load(std::memory_order_relaxed) + 1 >= capacity_ / 2;
    std::string_view name = full ? std::string_view("_overflow") : plugin;
    const std::size_t first = full ? (std::hash<std::string_view>{}(name) ^ (hook * 0x9e3779b97f4a7c15ULL)) % capacity_
                                   : start;
    for (std::size_t i = 0; i < capacity_; ++i) {
      std::atomic<Series*>& slot = table_[(first + i) % capacity_];
      Series* s = slot.load(std::memory_order_acquire);
      if (s == nullptr) {
        auto* created = new Series(name, hook);
        slot.store(created, std::memory_order_release);
        size_.fetch_add(1, std::memory_order_relaxed);
        return created;
      }
      if (s->hook == hook && s->plugin == name) {
        return s;
      }
    }
  } catch (...) {
    // Out of memory: drop the event rather than throw into a call path.
    return nullptr;
  }
  return nullptr;
}

void* PrometheusMetrics::resolve(std::string_view plugin, Hook hook) noexcept {
  return series(plugin, static_cast<std::uint8_t>(hook));
}

void PrometheusMetrics::on_call(const CallEvent& event) noexcept {
  Series* s = event.series != nullptr ? static_cast<Series*>(event.series)
                                      : series(event.plugin, static_cast<std::uint8_t>(event.hook));
  if (s == nullptr) {
    return;
  }
  if (CallCell* cell = s->cell()) [[likely]] {
    const auto ns = static_cast<std::uint64_t>(event.duration.count() < 0 ? 0 : event.duration.count());
    add(cell->buckets[bucket_of(ns)], 1, cell->shared);
    add(cell->duration_sum_ns, ns, cell->shared);
  }
  if (event.error != nullptr) {
    s->failures[static_cast<std::size_t>(event.error->kind)][static_cast<std::size_t>(event.error->phase)]
        .fetch_add(1, std::memory_order_relaxed);
  }
}

void PrometheusMetrics::on_fallback(std::string_view slot, Hook hook) noexcept {
  if (Series* s = series(slot, static_cast<std::uint8_t>(hook))) {
    s->fallbacks.fetch_add(1, std::memory_order_relaxed);
  }
}

void PrometheusMetrics::on_instantiate(std::string_view plugin) noexcept {
  if (Series* s = series(plugin, kNoHook)) {
    s->instantiations.fetch_add(1, std::memory_order_relaxed);
  }
}

void PrometheusMetrics::on_pool_saturated(std::string_view plugin) noexcept {
  if (Series* s = series(plugin, kNoHook)) {
    s->saturated.fetch_add(1, std::memory_order_relaxed);
  }
}

void PrometheusMetrics::on_swap(std::string_view slot) noexcept {
  if (Series* s = series(slot, kNoHook)) {
    s->swaps.fetch_add(1, std::memory_order_relaxed);
  }
}

std::uint64_t PrometheusMetrics::add_gauges(std::function<std::vector<GaugeSample>()> source) {
  std::lock_guard lock(gauges_mutex_);
  gauges_.emplace_back(next_gauge_id_, std::move(source));
  return next_gauge_id_++;
}

void PrometheusMetrics::remove_gauges(std::uint64_t id) {
  std::lock_guard lock(gauges_mutex_);
  std::erase_if(gauges_, [id](const auto& g) { return g.first == id; });
}

std::string PrometheusMetrics::render() const {
  std::vector<const Series*> all;
  for (std::size_t i = 0; i < capacity_; ++i) {
    if (const Series* s = table_[i].load(std::memory_order_acquire)) {
      all.push_back(s);
    }
  }
  std::string out;
  auto labels = [](const Series& s) {
    std::string l = "plugin=\"" + escape_label(s.plugin) + "\"";
    if (s.hook != kNoHook) {
      l += ",hook=\"" + std::string(to_string(static_cast<Hook>(s.hook))) + "\"";
    }
    return l;
  };
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };

  // One snapshot per series, so that the calls, the histogram's count and
  // its +Inf bucket agree (calls are the sum of the buckets).
  std::vector<CallTotals> totals;
  totals.reserve(all.size());
  for (const Series* s : all) {
    totals.push_back(s->hook != kNoHook ? s->totals() : CallTotals{});
  }
  family("wasmplug_calls_total", "counter", "Hook calls.");
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i]->hook != kNoHook) {
      out += "wasmplug_calls_total{" + labels(*all[i]) + "} " + std::to_string(totals[i].calls()) + "\n";
    }
  }
  family("wasmplug_call_failures_total", "counter", "Failed hook calls by error kind and phase.");
  for (const Series* s : all) {
    for (std::size_t k = 0; k < kKinds; ++k) {
      for (std::size_t p = 0; p < kPhases; ++p) {
        if (std::uint64_t n = s->failures[k][p].load(); n != 0) {
          out += "wasmplug_call_failures_total{" + labels(*s) + ",kind=\"" +
                 std::string(to_string(static_cast<ErrorKind>(k))) + "\",phase=\"" +
                 std::string(to_string(static_cast<Phase>(p))) + "\"} " + std::to_string(n) + "\n";
        }
      }
    }
  }
  family("wasmplug_call_fallbacks_total", "counter", "Calls answered by the slot's failure-policy fallback.");
  for (const Series* s : all) {
    if (s->hook != kNoHook) {
      out += "wasmplug_call_fallbacks_total{" + labels(*s) + "} " + std::to_string(s->fallbacks.load()) + "\n";
    }
  }
  family("wasmplug_call_duration_seconds", "histogram", "Hook call duration.");
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Series* s = all[i];
    if (s->hook == kNoHook) {
      continue;
    }
    const CallTotals& t = totals[i];
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kBucketsNs.size(); ++b) {
      cumulative += t.buckets[b];
      out += "wasmplug_call_duration_seconds_bucket{" + labels(*s) + ",le=\"" + seconds(kBucketsNs[b]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "wasmplug_call_duration_seconds_bucket{" + labels(*s) + ",le=\"+Inf\"} " + std::to_string(t.calls()) + "\n";
    out += "wasmplug_call_duration_seconds_sum{" + labels(*s) + "} " + seconds(t.duration_sum_ns) + "\n";
    out += "wasmplug_call_duration_seconds_count{" + labels(*s) + "} " + std::to_string(t.calls()) + "\n";
  }
  const std::pair<const char*, std::atomic<std::uint64_t> Series::*> per_plugin[] = {
      {"wasmplug_instantiations_total", &Series::instantiations},
      {"wasmplug_pool_saturated_total", &Series::saturated},
      {"wasmplug_swaps_total", &Series::swaps},
  };
  const char* helps[] = {"Instances created.", "Calls refused because no instance slot was free.",
                         "Registry version switches."};
  for (std::size_t f = 0; f < 3; ++f) {
    family(per_plugin[f].first, "counter", helps[f]);
    for (const Series* s : all) {
      if (s->hook == kNoHook) {
        out += std::string(per_plugin[f].first) + "{" + labels(*s) + "} " +
               std::to_string((s->*per_plugin[f].second).load()) + "\n";
      }
    }
  }
  std::vector<GaugeSample> samples;
  {
    std::lock_guard lock(gauges_mutex_);
    for (const auto& g : gauges_) {
      auto more = g.second();
      samples.insert(samples.end(), more.begin(), more.end());
    }
  }
  std::sort(samples.begin(), samples.end(), [](const GaugeSample& a, const GaugeSample& b) {
    return a.name != b.name ? a.name < b.name : a.plugin < b.plugin;
  });
  std::string last;
  for (const GaugeSample& g : samples) {
    if (g.name != last) {
      family(g.name.c_str(), "gauge", "Pool instances.");
      last = g.name;
    }
    char value[32];
    std::snprintf(value, sizeof value, "%.17g", g.value);
    out += g.name + "{plugin=\"" + escape_label(g.plugin) + "\"} " + value + "\n";
  }
  return out;
}

}  // namespace wasmplug
