#include "kafka/offset_tracker.hpp"

#include <algorithm>

namespace wasmplug::kafka {

void OffsetTracker::handed_out(std::int64_t offset) {
  pending_.push_back({offset, false});
  ++unacknowledged_;
}

bool OffsetTracker::acknowledge(std::int64_t offset) {
  auto it = std::lower_bound(pending_.begin(), pending_.end(), offset,
                             [](const Entry& e, std::int64_t o) { return e.offset < o; });
  if (it == pending_.end() || it->offset != offset || it->acknowledged) {
    return false;
  }
  it->acknowledged = true;
  --unacknowledged_;
  while (!pending_.empty() && pending_.front().acknowledged) {
    position_ = pending_.front().offset + 1;
    pending_.pop_front();
  }
  return true;
}

void OffsetTracker::forget_from(std::int64_t offset) {
  while (!pending_.empty() && pending_.back().offset >= offset) {
    unacknowledged_ -= pending_.back().acknowledged ? 0 : 1;
    pending_.pop_back();
  }
}

std::optional<std::int64_t> OffsetTracker::lowest_unacknowledged() const {
  if (pending_.empty()) {
    return std::nullopt;
  }
  return pending_.front().offset;
}

}  // namespace wasmplug::kafka
