// Kestrel events and schema registry.
#include <algorithm>

#include "wasmplug/kestrel.hpp"

namespace wasmplug::kestrel {

std::string_view to_string(FieldType type) noexcept {
  switch (type) {
    case FieldType::I64: return "i64";
    case FieldType::U64: return "u64";
    case FieldType::F64: return "f64";
    case FieldType::Bool: return "bool";
    case FieldType::String: return "string";
  }
  return "unknown";
}

Result<std::uint32_t> SchemaRegistry::register_field(std::uint32_t id, std::string name, FieldType type) {
  auto invalid = [](std::string message) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {}, std::move(message)};
  };
  if (name.empty()) {
    return invalid("a field name must not be empty");
  }
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    const FieldInfo& existing = by_id_.at(it->second);
    if (existing.id == id && existing.type == type) {
      return id;
    }
    return invalid("field '" + name + "' is already registered as id " + std::to_string(existing.id) + " (" +
                   std::string(to_string(existing.type)) + ")");
  }
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    return invalid("field id " + std::to_string(id) + " is already '" + it->second.name + "'");
  }
  by_name_.emplace(name, id);
  by_id_.emplace(id, FieldInfo{id, std::move(name), type});
  return id;
}

const FieldInfo* SchemaRegistry::find(std::string_view name) const noexcept {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &by_id_.at(it->second);
}

const FieldInfo* SchemaRegistry::find(std::uint32_t id) const noexcept {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

Event& Event::set(std::uint32_t id, Value value) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  const auto index = it - ids_.begin();
  if (it != ids_.end() && *it == id) {
    values_[static_cast<std::size_t>(index)] = std::move(value);
    return *this;
  }
  ids_.insert(it, id);
  values_.insert(values_.begin() + index, std::move(value));
  // The new id and every direct id after it moved up by one.
  static_assert(kDirectIds <= 255, "direct_ holds 1 + an index below kDirectIds in a byte");
  for (auto i = static_cast<std::size_t>(index); i < ids_.size() && ids_[i] < kDirectIds; ++i) {
    direct_[ids_[i]] = static_cast<std::uint8_t>(i + 1);
  }
  return *this;
}

Result<void> Event::set(const SchemaRegistry& schema, std::string_view name, Value value) {
  const FieldInfo* info = schema.find(name);
  if (info == nullptr) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {},
                 "unknown field '" + std::string(name) + "' (not in the schema)"};
  }
  if (static_cast<std::size_t>(info->type) != value.index()) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {},
                 "field '" + std::string(name) + "' is " + std::string(to_string(info->type)) + ", got a " +
                     std::string(to_string(static_cast<FieldType>(value.index()))) + " value"};
  }
  set(info->id, std::move(value));
  return {};
}

const Value* Event::search(std::uint32_t id) const noexcept {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  return it != ids_.end() && *it == id ? &values_[static_cast<std::size_t>(it - ids_.begin())] : nullptr;
}

}  // namespace wasmplug::kestrel
