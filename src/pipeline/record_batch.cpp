#include "wasmplug/pipeline.hpp"

namespace wasmplug::pipeline {

std::string_view to_string(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::Pending: return "pending";
    case Outcome::Out: return "out";
    case Outcome::Dropped: return "dropped";
    case Outcome::Failed: return "failed";
  }
  return "unknown";
}

void RecordBatch::add(std::string_view bytes, std::uint64_t position, std::uint32_t flow) {
  Entry& e = entries_.emplace_back();
  e.offset = data_.size();
  e.length = bytes.size();
  e.bytes = bytes.size();
  e.position = position;
  e.flow = flow;
  data_.append(bytes);
}

void RecordBatch::add_failed(std::string_view prefix, std::uint64_t full_bytes, std::uint64_t position,
                             RecordError error, std::uint32_t flow) {
  add(prefix, position, flow);
  entries_.back().bytes = full_bytes;
  entries_.back().prefix_only = full_bytes > prefix.size();
  fail(entries_.size() - 1, std::move(error));
}

void RecordBatch::fail(std::size_t i, RecordError error) {
  errors_.push_back(std::move(error));
  entries_[i].outcome = Outcome::Failed;
  entries_[i].error = static_cast<std::uint32_t>(errors_.size());
}

void RecordBatch::set_content_type(std::size_t i, std::string_view type) {
  if (type.empty()) {
    entries_[i].content_type = 0;
    return;
  }
  // A batch holds few distinct types (one, usually): a search beats a map.
  // Most recent first, as records of one type come together.
  for (std::size_t k = content_types_.size(); k > 0; --k) {
    if (content_types_[k - 1] == type) {
      entries_[i].content_type = static_cast<std::uint32_t>(k);
      return;
    }
  }
  content_types_.emplace_back(type);
  entries_[i].content_type = static_cast<std::uint32_t>(content_types_.size());
}

void RecordBatch::clear() noexcept {
  data_.clear();
  next_.clear();
  entries_.clear();
  errors_.clear();
  content_types_.clear();
  sequence = 0;
}

}  // namespace wasmplug::pipeline
