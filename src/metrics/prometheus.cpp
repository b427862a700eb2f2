#include <sched.h>

#include <algorithm>
#include <array>
#include <cstdio>

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

// Per-call counters are kept per CPU (each on its own cache lines) so that
// threads calling the same plugin do not bounce one line between cores;
// render() adds the cells up. Rare events (failures, swaps) are not sharded.
constexpr std::size_t kCells = 16;

struct alignas(64) CallCell {
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> duration_sum_ns{0};
  std::array<std::atomic<std::uint64_t>, kBucketsNs.size()> buckets{};
};

std::size_t cell_index() noexcept {
  const int cpu = sched_getcpu();
  return cpu < 0 ? 0 : static_cast<std::size_t>(cpu) % kCells;
}

struct PrometheusMetrics::Series {
  std::string plugin;
  std::uint8_t hook;
  std::array<CallCell, kCells> cells;
  std::atomic<std::uint64_t> fallbacks{0};
  std::array<std::array<std::atomic<std::uint64_t>, kPhases>, kKinds> failures{};
  std::atomic<std::uint64_t> instantiations{0};
  std::atomic<std::uint64_t> saturated{0};
  std::atomic<std::uint64_t> swaps{0};

  Series(std::string_view p, std::uint8_t h) : plugin(p), hook(h) {}

  [[nodiscard]] std::uint64_t calls() const noexcept {
    std::uint64_t n = 0;
    for (const CallCell& c : cells) {
      n += c.calls.load(std::memory_order_relaxed);
    }
    return n;
  }
  [[nodiscard]] std::uint64_t duration_sum_ns() const noexcept {
    std::uint64_t n = 0;
    for (const CallCell& c : cells) {
      n += c.duration_sum_ns.load(std::memory_order_relaxed);
    }
    return n;
  }
  [[nodiscard]] std::uint64_t bucket(std::size_t b) const noexcept {
    std::uint64_t n = 0;
    for (const CallCell& c : cells) {
      n += c.buckets[b].load(std::memory_order_relaxed);
    }
    return n;
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
  CallCell& cell = s->cells[cell_index()];
  cell.calls.fetch_add(1, std::memory_order_relaxed);
  const auto ns = static_cast<std::uint64_t>(event.duration.count() < 0 ? 0 : event.duration.count());
  cell.duration_sum_ns.fetch_add(ns, std::memory_order_relaxed);
  for (std::size_t b = 0; b < kBucketsNs.size(); ++b) {
    if (ns <= kBucketsNs[b]) {
      cell.buckets[b].fetch_add(1, std::memory_order_relaxed);
      break;
    }
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

  family("wasmplug_calls_total", "counter", "Hook calls.");
  for (const Series* s : all) {
    if (s->hook != kNoHook) {
      out += "wasmplug_calls_total{" + labels(*s) + "} " + std::to_string(s->calls()) + "\n";
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
  for (const Series* s : all) {
    if (s->hook == kNoHook) {
      continue;
    }
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kBucketsNs.size(); ++b) {
      cumulative += s->bucket(b);
      out += "wasmplug_call_duration_seconds_bucket{" + labels(*s) + ",le=\"" + seconds(kBucketsNs[b]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "wasmplug_call_duration_seconds_bucket{" + labels(*s) + ",le=\"+Inf\"} " +
           std::to_string(s->calls()) + "\n";
    out += "wasmplug_call_duration_seconds_sum{" + labels(*s) + "} " + seconds(s->duration_sum_ns()) + "\n";
    out += "wasmplug_call_duration_seconds_count{" + labels(*s) + "} " + std::to_string(s->calls()) + "\n";
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
