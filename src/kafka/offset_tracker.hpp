// Which consumed offsets of one partition may be committed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace wasmplug::kafka {

/// The offsets of one partition handed to the pipeline, in order, and which
/// of them are acknowledged (their output is on the broker, or they went to
/// the dead-letter topic). The commit position is one past the contiguous
/// acknowledged prefix: a record is never committed before every record
/// before it is acknowledged (at-least-once). Not thread-safe.
class OffsetTracker {
 public:
  /// `offset` was handed out. Offsets must increase (gaps are fine:
  /// compacted or transaction-marker offsets are never handed out).
  void handed_out(std::int64_t offset);
  /// `offset` is acknowledged. Returns false if it was never handed out or
  /// was acknowledged before (nothing changes then).
  bool acknowledge(std::int64_t offset);
  /// Forgets the offsets from `offset` on, acknowledged or not: they will be
  /// consumed again (by the partition's next owner), so they neither hold
  /// back nor advance the commit position.
  void forget_from(std::int64_t offset);
  /// The offset to commit (the next one to read), if any offset was acknowledged.
  [[nodiscard]] std::optional<std::int64_t> commit_position() const { return position_; }
  /// The lowest offset handed out and not acknowledged, if any.
  [[nodiscard]] std::optional<std::int64_t> lowest_unacknowledged() const;
  /// Offsets handed out and not acknowledged.
  [[nodiscard]] std::size_t unacknowledged() const { return unacknowledged_; }

 private:
  struct Entry {
    std::int64_t offset;
    bool acknowledged;
  };
  std::deque<Entry> pending_;  // increasing offsets; the front is never acknowledged
  std::optional<std::int64_t> position_;
  std::size_t unacknowledged_ = 0;
};

}  // namespace wasmplug::kafka
