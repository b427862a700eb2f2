#include "host/wasi.hpp"

#include <sys/random.h>
#include <time.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/log_queue.hpp"

namespace wasmplug::detail {

namespace {

static_assert(std::endian::native == std::endian::little, "WASI values are little-endian in guest memory");

// WASI preview1 errno values (wasi/api.h).
constexpr std::int32_t kSuccess = 0;
constexpr std::int32_t kBadf = 8;
constexpr std::int32_t kInval = 28;
constexpr std::int32_t kNotsup = 58;
constexpr std::int32_t kSpipe = 70;

constexpr std::uint8_t kFiletypeCharacterDevice = 2;
constexpr std::uint64_t kRightFdWrite = 1u << 6;
constexpr std::uint32_t kClockRealtime = 0;
constexpr std::uint32_t kClockMonotonic = 1;
constexpr std::uint8_t kEventClock = 0;
constexpr std::uint8_t kEventFdRead = 1;
constexpr std::uint8_t kEventFdWrite = 2;
constexpr std::uint16_t kSubclockAbstime = 1;
constexpr std::uint64_t kIovecSize = 8;
constexpr std::uint64_t kSubscriptionSize = 48;
constexpr std::uint64_t kEventSize = 32;

// Host work that grows with guest-chosen sizes looks at the deadline this
// often (HostCall::check_deadline).
constexpr std::size_t kDeadlineEveryItems = 1024;
// poll_oneoff subscriptions in one call: the host copies them before writing
// events (the arrays may overlap), so their count bounds host memory; wasi-libc
// and Go pass one to a few.
constexpr std::uint32_t kMaxSubscriptions = 4096;
constexpr std::size_t kDeadlineEveryBytes = 1u << 20;

bool is_output(std::uint32_t fd) { return fd == 1 || fd == 2; }

Result<std::span<std::uint8_t>> guest_range(HostCall& call, const char* function, const char* what,
                                            std::uint64_t ptr, std::uint64_t len) {
  GuestMemory memory = call.memory_covering(ptr, len);
  auto bytes = memory.slice(ptr, len);
  if (!bytes) {
    return call.error(ErrorKind::AbiViolation, std::string(function) + ": " + what + " " +
                                                   memory.describe_out_of_bounds(ptr, len));
  }
  return *bytes;
}

template <class T>
T load(std::span<const std::uint8_t> bytes, std::size_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

template <class T>
void store(std::span<std::uint8_t> bytes, std::size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

template <class T>
Result<void> store_at(HostCall& call, const char* function, const char* what, std::uint32_t ptr, T value) {
  auto out = guest_range(call, function, what, ptr, sizeof(T));
  if (!out) {
    return std::move(out).error();
  }
  store(*out, 0, value);
  return {};
}

// Splits what a guest writes to fd 1/2 into log lines. A line may come in
// several writes (Go's runtime prints a panic piece by piece): it is kept in
// the call's LogBudget::Partial until its newline, a write to the other fd,
// or the end of the call. A line is kept up to max_log_message_bytes (the
// rest is counted, not copied); once the call's log budget refuses a line,
// the rest of this write is counted as dropped without being scanned.
class LineWriter {
 public:
  LineWriter(HostCall& call, LogLevel level) : call_(call), line_(call.state().log_budget.partial()) {
    if (line_.open && line_.level != level) {
      emit();
    }
    line_.level = level;
  }

  void feed(std::span<const std::uint8_t> bytes) {
    while (!bytes.empty()) {
      if (refused_) {
        refused_bytes_ += bytes.size();
        return;
      }
      const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
      const std::size_t n =
          nl == nullptr ? bytes.size() : static_cast<std::size_t>(static_cast<const std::uint8_t*>(nl) - bytes.data());
      append(bytes.first(n));
      if (nl == nullptr) {
        return;
      }
      emit();
      bytes = bytes.subspan(n + 1);
    }
  }

  void finish() {
    if (refused_bytes_ != 0) {
      call_.state().log_budget.drop(refused_bytes_);
    }
  }

 private:
  void append(std::span<const std::uint8_t> piece) {
    const std::size_t max = call_.state().config->max_log_message_bytes;
    const std::size_t room = line_.text.size() < max ? max - line_.text.size() : 0;
    line_.text.append(reinterpret_cast<const char*>(piece.data()), std::min(room, piece.size()));
    line_.raw += piece.size();
    line_.open = true;
  }

  void emit() {
    CallState& state = call_.state();
    const LogLevel level = line_.level;
    line_.open = true;  // an empty line ("\n" alone) is a line too
    refused_ = !state.log_budget.deliver_partial(*state.logs, state.plugin->name(), *state.config);
    line_.level = level;
  }

  HostCall& call_;
  LogBudget::Partial& line_;
  bool refused_ = false;
  std::uint64_t refused_bytes_ = 0;
};

Result<std::int32_t> fd_write(HostCall& call, std::uint32_t fd, std::uint32_t iovs, std::uint32_t iovs_len,
                              std::uint32_t nwritten_ptr) {
  if (!is_output(fd)) {
    return kBadf;
  }
  auto table = guest_range(call, "fd_write", "iovec array", iovs, std::uint64_t{iovs_len} * kIovecSize);
  if (!table) {
    return std::move(table).error();
  }
  auto nwritten = guest_range(call, "fd_write", "nwritten", nwritten_ptr, 4);
  if (!nwritten) {
    return std::move(nwritten).error();
  }
  // First every iovec is checked and summed, so that a bad one fails the
  // call before anything was logged.
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < iovs_len; ++i) {
    const auto ptr = load<std::uint32_t>(*table, i * kIovecSize);
    const auto len = load<std::uint32_t>(*table, i * kIovecSize + 4);
    if (GuestMemory memory = call.memory_covering(ptr, len); !memory.slice(ptr, len)) {
      return call.error(ErrorKind::AbiViolation, "fd_write: iovec " + std::to_string(i) + " " +
                                                     memory.describe_out_of_bounds(ptr, len));
    }
    total += len;
    if (i % kDeadlineEveryItems == kDeadlineEveryItems - 1) {
      if (auto in_time = call.check_deadline(); !in_time) {
        return std::move(in_time).error();
      }
    }
  }
  if (total > std::numeric_limits<std::uint32_t>::max()) {
    return kInval;  // the count would not fit the result (writev: EINVAL)
  }
  LineWriter writer(call, fd == 1 ? LogLevel::Info : LogLevel::Warn);
  std::size_t since_check = 0;
  for (std::uint32_t i = 0; i < iovs_len; ++i) {
    const auto ptr = load<std::uint32_t>(*table, i * kIovecSize);
    const auto len = load<std::uint32_t>(*table, i * kIovecSize + 4);
    // Checked in the first pass; memory never shrinks or moves.
    if (auto bytes = call.memory_covering(ptr, len).slice(ptr, len)) {
      writer.feed(*bytes);
    }
    since_check += len + 1;
    if (since_check >= kDeadlineEveryBytes || i % kDeadlineEveryItems == kDeadlineEveryItems - 1) {
      since_check = 0;
      if (auto in_time = call.check_deadline(); !in_time) {
        return std::move(in_time).error();
      }
    }
  }
  writer.finish();
  store(*nwritten, 0, static_cast<std::uint32_t>(total));
  return kSuccess;
}

Result<std::int32_t> fd_fdstat_get(HostCall& call, std::uint32_t fd, std::uint32_t stat_ptr) {
  if (!is_output(fd)) {
    return kBadf;
  }
  auto stat = guest_range(call, "fd_fdstat_get", "fdstat", stat_ptr, 24);
  if (!stat) {
    return std::move(stat).error();
  }
  // A write-only character device (what a terminal looks like): C stdio then
  // line-buffers, so each printed line is one fd_write.
  std::fill(stat->begin(), stat->end(), std::uint8_t{0});
  store<std::uint8_t>(*stat, 0, kFiletypeCharacterDevice);
  store<std::uint64_t>(*stat, 8, kRightFdWrite);
  return kSuccess;
}

Result<std::int32_t> fd_fdstat_set_flags(HostCall& /*call*/, std::uint32_t fd, std::uint32_t flags) {
  if (!is_output(fd)) {
    return kBadf;
  }
  return flags == 0 ? kSuccess : kNotsup;
}

Result<std::int32_t> fd_close(HostCall& /*call*/, std::uint32_t fd) {
  // Closing the log would change nothing the guest can observe but later
  // writes; the log stays open.
  return is_output(fd) ? kSuccess : kBadf;
}

Result<std::int32_t> fd_seek(HostCall& /*call*/, std::uint32_t fd, std::int64_t /*offset*/, std::uint32_t /*whence*/,
                             std::uint32_t /*newoffset_ptr*/) {
  return is_output(fd) ? kSpipe : kBadf;
}

// No preopened directories: wasi-libc and Go probe fds from 3 upwards until
// the first EBADF.
Result<std::int32_t> fd_prestat_get(HostCall& /*call*/, std::uint32_t /*fd*/, std::uint32_t /*ptr*/) { return kBadf; }

Result<std::int32_t> fd_prestat_dir_name(HostCall& /*call*/, std::uint32_t /*fd*/, std::uint32_t /*ptr*/,
                                         std::uint32_t /*len*/) {
  return kBadf;
}

std::optional<clockid_t> host_clock(std::uint32_t id) {
  switch (id) {
    case kClockRealtime: return CLOCK_REALTIME;
    case kClockMonotonic: return CLOCK_MONOTONIC;
    default: return std::nullopt;  // no process or thread CPU clocks
  }
}

std::uint64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

Result<std::int32_t> clock_time_get(HostCall& call, std::uint32_t id, std::uint64_t /*precision*/,
                                    std::uint32_t time_ptr) {
  auto clock = host_clock(id);
  if (!clock) {
    return kInval;
  }
  if (auto stored = store_at(call, "clock_time_get", "time", time_ptr, now_ns(*clock)); !stored) {
    return std::move(stored).error();
  }
  return kSuccess;
}

Result<std::int32_t> clock_res_get(HostCall& call, std::uint32_t id, std::uint32_t res_ptr) {
  auto clock = host_clock(id);
  if (!clock) {
    return kInval;
  }
  timespec ts{};
  clock_getres(*clock, &ts);
  const auto res = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
  if (auto stored = store_at(call, "clock_res_get", "resolution", res_ptr, res); !stored) {
    return std::move(stored).error();
  }
  return kSuccess;
}

Result<std::int32_t> random_get(HostCall& call, std::uint32_t buf, std::uint32_t len) {
  auto out = guest_range(call, "random_get", "buffer", buf, len);
  if (!out) {
    return std::move(out).error();
  }
  std::size_t done = 0;
  while (done < out->size()) {
    const std::size_t chunk = std::min(out->size() - done, std::size_t{64} << 10);
    const ssize_t n = ::getrandom(out->data() + done, chunk, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return call.error(ErrorKind::Trap, std::string("random_get: the host's getrandom failed: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
    if (auto in_time = call.check_deadline(); !in_time) {
      return std::move(in_time).error();
    }
  }
  return kSuccess;
}

// Arguments and environment are empty: nothing of the host's leaks in.
Result<std::int32_t> sizes_get(HostCall& call, const char* function, std::uint32_t count_ptr, std::uint32_t size_ptr) {
  if (auto count = store_at(call, function, "count", count_ptr, std::uint32_t{0}); !count) {
    return std::move(count).error();
  }
  if (auto size = store_at(call, function, "buffer size", size_ptr, std::uint32_t{0}); !size) {
    return std::move(size).error();
  }
  return kSuccess;
}

Result<std::int32_t> args_sizes_get(HostCall& call, std::uint32_t argc_ptr, std::uint32_t size_ptr) {
  return sizes_get(call, "args_sizes_get", argc_ptr, size_ptr);
}

Result<std::int32_t> environ_sizes_get(HostCall& call, std::uint32_t count_ptr, std::uint32_t size_ptr) {
  return sizes_get(call, "environ_sizes_get", count_ptr, size_ptr);
}

// With zero entries there is nothing to write at either pointer.
Result<std::int32_t> args_get(HostCall& /*call*/, std::uint32_t /*argv*/, std::uint32_t /*buf*/) { return kSuccess; }
Result<std::int32_t> environ_get(HostCall& /*call*/, std::uint32_t /*env*/, std::uint32_t /*buf*/) { return kSuccess; }

Result<std::int32_t> sched_yield(HostCall& /*call*/) { return kSuccess; }

// Only clock subscriptions wait; fd subscriptions are answered at once with
// EBADF (there are no readable or writable fds to wait on). A wait never
// outlasts the call's wall deadline: one that would ends the call with
// Timeout at the deadline instead.
Result<std::int32_t> poll_oneoff(HostCall& call, std::uint32_t in, std::uint32_t out, std::uint32_t nsubscriptions,
                                 std::uint32_t nevents_ptr) {
  if (nsubscriptions == 0 || nsubscriptions > kMaxSubscriptions) {
    return kInval;
  }
  auto subs = guest_range(call, "poll_oneoff", "subscriptions", in, std::uint64_t{nsubscriptions} * kSubscriptionSize);
  if (!subs) {
    return std::move(subs).error();
  }
  auto events = guest_range(call, "poll_oneoff", "events", out, std::uint64_t{nsubscriptions} * kEventSize);
  if (!events) {
    return std::move(events).error();
  }
  auto nevents = guest_range(call, "poll_oneoff", "nevents", nevents_ptr, 4);
  if (!nevents) {
    return std::move(nevents).error();
  }
  // The subscriptions are read before any event is written: the two arrays
  // may overlap in guest memory.
  struct Pending {
    std::uint64_t userdata;
    std::uint8_t type;
    std::uint16_t error;
    std::uint64_t wait_ns;  // clock subscriptions
  };
  std::vector<Pending> pending;
  pending.reserve(nsubscriptions);
  std::uint64_t shortest = std::numeric_limits<std::uint64_t>::max();
  bool any_ready = false;
  for (std::uint32_t i = 0; i < nsubscriptions; ++i) {
    const std::size_t base = i * kSubscriptionSize;
    Pending p{load<std::uint64_t>(*subs, base), load<std::uint8_t>(*subs, base + 8), kSuccess, 0};
    if (p.type == kEventClock) {
      const auto clock = host_clock(load<std::uint32_t>(*subs, base + 16));
      const auto timeout = load<std::uint64_t>(*subs, base + 24);
      const auto flags = load<std::uint16_t>(*subs, base + 40);
      if (!clock) {
        p.error = kInval;
        any_ready = true;
      } else if ((flags & kSubclockAbstime) != 0) {
        const std::uint64_t now = now_ns(*clock);
        p.wait_ns = timeout > now ? timeout - now : 0;
      } else {
        p.wait_ns = timeout;
      }
      if (p.error == kSuccess) {
        shortest = std::min(shortest, p.wait_ns);
      }
    } else if (p.type == kEventFdRead || p.type == kEventFdWrite) {
      p.error = kBadf;
      any_ready = true;
    } else {
      return kInval;
    }
    pending.push_back(p);
    if (i % kDeadlineEveryItems == kDeadlineEveryItems - 1) {
      if (auto in_time = call.check_deadline(); !in_time) {
        return std::move(in_time).error();
      }
    }
  }
  std::uint64_t waited = 0;
  if (!any_ready && shortest != 0) {
    CallState& state = call.state();
    const std::uint64_t now = CycleClock::ticks();
    const auto left = state.engine->clock().between(now, state.started + state.deadline_ticks);
    const auto left_ns = static_cast<std::uint64_t>(std::max<std::int64_t>(left.count(), 0));
    const std::uint64_t sleep_ns = std::min(shortest, left_ns);
    const std::uint64_t until = now_ns(CLOCK_MONOTONIC) + sleep_ns;
    timespec ts{static_cast<time_t>(until / 1'000'000'000u), static_cast<long>(until % 1'000'000'000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    if (sleep_ns < shortest) {
      return state.deadline_error(CallState::Overrun::Wall);
    }
    waited = sleep_ns;
  }
  std::uint32_t count = 0;
  for (const Pending& p : pending) {
    const bool ready = p.type != kEventClock || p.error != kSuccess || p.wait_ns <= waited;
    if (!ready) {
      continue;
    }
    const std::size_t base = count * kEventSize;
    std::fill_n(events->begin() + static_cast<std::ptrdiff_t>(base), kEventSize, std::uint8_t{0});
    store<std::uint64_t>(*events, base, p.userdata);
    store<std::uint16_t>(*events, base + 8, p.error);
    store<std::uint8_t>(*events, base + 10, p.type);
    ++count;
  }
  store<std::uint32_t>(*nevents, 0, count);
  return kSuccess;
}

// Exit status 0 ends the call normally; the ABI layer decides what that
// means for the entry point that was running (see abi_invoke).
Result<void> proc_exit(HostCall& call, std::uint32_t status) {
  if (status == 0) {
    call.state().exited = true;
    return call.error(ErrorKind::GuestError, "the plugin called proc_exit(0)");
  }
  return call.error(ErrorKind::GuestError, "the plugin exited with status " + std::to_string(status) + " (proc_exit)");
}

}  // namespace

std::span<const HostFuncDef> wasi_host_functions() {
  static const std::vector<HostFuncDef> defs = {
      host_func<&fd_write>(kWasiModule, "fd_write"),
      host_func<&fd_fdstat_get>(kWasiModule, "fd_fdstat_get"),
      host_func<&fd_fdstat_set_flags>(kWasiModule, "fd_fdstat_set_flags"),
      host_func<&fd_close>(kWasiModule, "fd_close"),
      host_func<&fd_seek>(kWasiModule, "fd_seek"),
      host_func<&fd_prestat_get>(kWasiModule, "fd_prestat_get"),
      host_func<&fd_prestat_dir_name>(kWasiModule, "fd_prestat_dir_name"),
      host_func<&clock_time_get>(kWasiModule, "clock_time_get"),
      host_func<&clock_res_get>(kWasiModule, "clock_res_get"),
      host_func<&random_get>(kWasiModule, "random_get"),
      host_func<&args_sizes_get>(kWasiModule, "args_sizes_get"),
      host_func<&args_get>(kWasiModule, "args_get"),
      host_func<&environ_sizes_get>(kWasiModule, "environ_sizes_get"),
      host_func<&environ_get>(kWasiModule, "environ_get"),
      host_func<&sched_yield>(kWasiModule, "sched_yield"),
      host_func<&poll_oneoff>(kWasiModule, "poll_oneoff"),
      host_func<&proc_exit>(kWasiModule, "proc_exit"),
  };
  return defs;
}

}  // namespace wasmplug::detail
