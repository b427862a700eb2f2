// Kestrel events from JSON lines (the CLI's `run --abi kestrel` and pipelines): a schema file maps field names to ids and
// types, and each JSON object becomes a typed kestrel::Event.
#pragma once

#include <cstddef>
#include <memory>
#include <simdjson.h>
#include <string>

#include "wasmplug/kestrel.hpp"

namespace wasmplug::detail {

/// Largest schema file.
inline constexpr std::size_t kMaxSchemaBytes = 1u << 20;


/// Reads a schema file: a JSON object of field name -> {"id": N, "type":
/// "i64"|"u64"|"f64"|"bool"|"string"}, e.g. {"process.pid": {"id": 2, "type":
/// "i64"}}. Io naming the file and errno text; InvalidArgument naming the
/// field and what is wrong with it.
[[nodiscard]] Result<std::shared_ptr<const kestrel::SchemaRegistry>> load_schema(const std::string& path);

/// Fills `event` from a JSON object. Nested objects are addressed by dotted
/// names ({"process":{"pid":1}} is "process.pid"); fields the schema does not
/// name are not visible to predicates and are skipped; null is an absent field.
/// Returns an empty string, or why the record is not a valid event (a
/// non-object, a value of another type than the schema's, naming the field).
[[nodiscard]] std::string to_event(simdjson::dom::element doc, const kestrel::SchemaRegistry& schema,
                                   kestrel::Event& event);

}  // namespace wasmplug::detail
