#include "pipeline/kestrel_events.hpp"

#include <array>
#include <limits>
#include <utility>

#include "pipeline/io.hpp"

namespace wasmplug::detail {

namespace {

using kestrel::FieldType;

constexpr std::array<std::pair<std::string_view, FieldType>, 5> kTypes{{
    {"i64", FieldType::I64},
    {"u64", FieldType::U64},
    {"f64", FieldType::F64},
    {"bool", FieldType::Bool},
    {"string", FieldType::String},
}};

Error schema_error(const std::string& path, const std::string& message) {
  return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {}, "schema file " + path + ": " + message};
}

std::string_view json_type_name(simdjson::dom::element_type type) {
  switch (type) {
    case simdjson::dom::element_type::ARRAY: return "an array";
    case simdjson::dom::element_type::OBJECT: return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64: return "an integer";
    case simdjson::dom::element_type::DOUBLE: return "a number";
    case simdjson::dom::element_type::STRING: return "a string";
    case simdjson::dom::element_type::BOOL: return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

// The value as the schema's type, or nullopt when it is not one.
std::optional<kestrel::Value> typed(simdjson::dom::element value, FieldType type) {
  using T = simdjson::dom::element_type;
  switch (type) {
    case FieldType::I64:
      if (auto v = value.get_int64(); !v.error()) {
        return kestrel::Value{v.value_unsafe()};
      }
      return std::nullopt;
    case FieldType::U64:
      if (auto v = value.get_uint64(); !v.error()) {
        return kestrel::Value{v.value_unsafe()};
      }
      return std::nullopt;
    case FieldType::F64:
      if (value.type() == T::DOUBLE || value.type() == T::INT64 || value.type() == T::UINT64) {
        return kestrel::Value{value.get_double().value_unsafe()};
      }
      return std::nullopt;
    case FieldType::Bool:
      if (auto v = value.get_bool(); !v.error()) {
        return kestrel::Value{v.value_unsafe()};
      }
      return std::nullopt;
    case FieldType::String:
      if (auto v = value.get_string(); !v.error()) {
        return kestrel::Value{std::string(v.value_unsafe())};
      }
      return std::nullopt;
  }
  return std::nullopt;
}

std::string fill(simdjson::dom::object object, const std::string& prefix, const kestrel::SchemaRegistry& schema,
                 kestrel::Event& event) {
  for (auto [key, value] : object) {
    std::string name = prefix + std::string(key);
    const kestrel::FieldInfo* field = schema.find(name);
    if (field == nullptr) {
      if (value.type() == simdjson::dom::element_type::OBJECT) {
        if (std::string problem = fill(value.get_object().value_unsafe(), name + ".", schema, event);
            !problem.empty()) {
          return problem;
        }
      }
      continue;
    }
    if (value.is_null()) {
      continue;
    }
    auto v = typed(value, field->type);
    if (!v) {
      return "field \"" + name + "\" is " + std::string(json_type_name(value.type())) + "; the schema says " +
             std::string(kestrel::to_string(field->type));
    }
    event.set(field->id, std::move(*v));
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<const kestrel::SchemaRegistry>> load_schema(const std::string& path) {
  auto bytes = read_file_bounded(path, kMaxSchemaBytes, "schema file ",
                                 format_size(kMaxSchemaBytes) + " (the schema file limit)");
  if (!bytes) {
    return std::move(bytes).error();
  }
  simdjson::dom::parser parser;
  simdjson::padded_string text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  simdjson::dom::element doc;
  if (auto error = parser.parse(text).get(doc); error) {
    return schema_error(path, std::string("not valid JSON: ") + simdjson::error_message(error));
  }
  simdjson::dom::object fields;
  if (doc.get_object().get(fields)) {
    return schema_error(path, "expected an object of field name -> {\"id\": N, \"type\": T}");
  }
  auto schema = std::make_shared<kestrel::SchemaRegistry>();
  for (auto [key, entry] : fields) {
    const std::string name(key);
    const std::string where = "field \"" + name + "\": ";
    simdjson::dom::object spec;
    if (entry.get_object().get(spec)) {
      return schema_error(path, where + "expected {\"id\": N, \"type\": T}");
    }
    std::optional<std::uint64_t> id;
    std::optional<FieldType> type;
    for (auto [k, v] : spec) {
      if (k == "id") {
        std::uint64_t n = 0;
        if (v.get_uint64().get(n) || n > std::numeric_limits<std::uint32_t>::max()) {
          return schema_error(path, where + "\"id\" must be an integer in 0..4294967295");
        }
        id = n;
      } else if (k == "type") {
        std::string_view t;
        if (!v.get_string().get(t)) {
          for (const auto& [type_name, field_type] : kTypes) {
            if (type_name == t) {
              type = field_type;
            }
          }
        }
        if (!type) {
          return schema_error(path, where + "\"type\" must be one of i64, u64, f64, bool, string");
        }
      } else {
        return schema_error(path, where + "unknown key \"" + std::string(k) + "\" (expected id and type)");
      }
    }
    if (!id || !type) {
      return schema_error(path, where + (id ? "\"type\" is missing" : "\"id\" is missing"));
    }
    if (auto registered = schema->register_field(static_cast<std::uint32_t>(*id), name, *type); !registered) {
      return schema_error(path, where + registered.error().message);
    }
  }
  if (schema->size() == 0) {
    return schema_error(path, "names no field");
  }
  return std::shared_ptr<const kestrel::SchemaRegistry>(std::move(schema));
}

std::string to_event(simdjson::dom::element doc, const kestrel::SchemaRegistry& schema, kestrel::Event& event) {
  simdjson::dom::object object;
  if (doc.get_object().get(object)) {
    return "an event must be a JSON object, found " + std::string(json_type_name(doc.type()));
  }
  return fill(object, "", schema, event);
}

}  // namespace wasmplug::detail
