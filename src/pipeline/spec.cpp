// Pipeline files: TOML (toml++, header-only, without exceptions) into a
// PipelineSpec, every key checked against a table of known keys so that a
// typo is an error naming the file, line and key instead of a silent
// default; then a spec into a running Pipeline through the public API.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "pipeline/errors.hpp"
#include "pipeline/io.hpp"
#include "pipeline/kestrel_processor.hpp"
#include "wasmplug/pipeline.hpp"

namespace wasmplug::pipeline {

namespace {

constexpr std::size_t kMaxPipelineFileBytes = 1u << 20;
constexpr std::size_t kMaxConfigBytes = 1u << 20;
// How long a pipeline worker waits for a warm instance of a plugin whose
// every instance is busy (shared with another pipeline): bounded, and long
// enough for any call under its deadline to finish.
constexpr std::chrono::milliseconds kInstanceWait{5000};

class Reader {
 public:
  Reader(std::string file, std::filesystem::path dir) : file_(std::move(file)), dir_(std::move(dir)) {}

  [[nodiscard]] Error at(const toml::node& node, const std::string& what) const {
    return config_error(file_ + ":" + std::to_string(node.source().begin.line) + ": " + what);
  }
  [[nodiscard]] Error at_line(int line, const std::string& what) const {
    return config_error(file_ + ":" + std::to_string(line) + ": " + what);
  }

  /// Every key of `table` must be one of `known`.
  [[nodiscard]] std::optional<Error> only(const toml::table& table, std::string_view where,
                                          std::initializer_list<std::string_view> known) const {
    for (const auto& [key, node] : table) {
      if (std::ranges::find(known, key.str()) == known.end()) {
        std::string list;
        for (std::string_view k : known) {
          list += (list.empty() ? "" : ", ") + std::string(k);
        }
        return at(node, std::string(where) + " key '" + std::string(key.str()) + "' is unknown (known keys: " + list +
                            ")");
      }
    }
    return std::nullopt;
  }

  [[nodiscard]] std::optional<Error> string(const toml::table& table, std::string_view where, std::string_view key,
                                            std::string& out) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return std::nullopt;
    }
    const auto* value = node->as_string();
    if (value == nullptr) {
      return at(*node, std::string(where) + " key '" + std::string(key) + "' must be a string");
    }
    out = value->get();
    return std::nullopt;
  }

  [[nodiscard]] std::optional<Error> integer(const toml::table& table, std::string_view where, std::string_view key,
                                             std::int64_t min, std::int64_t max, std::uint32_t& out) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return std::nullopt;
    }
    const auto* value = node->as_integer();
    if (value == nullptr || value->get() < min || value->get() > max) {
      return at(*node, std::string(where) + " key '" + std::string(key) + "' must be an integer in " +
                           std::to_string(min) + ".." + std::to_string(max));
    }
    out = static_cast<std::uint32_t>(value->get());
    return std::nullopt;
  }

  [[nodiscard]] std::optional<Error> boolean(const toml::table& table, std::string_view where, std::string_view key,
                                             bool& out) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return std::nullopt;
    }
    const auto* value = node->as_boolean();
    if (value == nullptr) {
      return at(*node, std::string(where) + " key '" + std::string(key) + "' must be true or false");
    }
    out = value->get();
    return std::nullopt;
  }

  /// A string key whose value must be one of `allowed`.
  [[nodiscard]] std::optional<Error> choice(const toml::table& table, std::string_view where, std::string_view key,
                                            std::initializer_list<std::string_view> allowed, std::string& out) const {
    if (auto e = string(table, where, key, out)) {
      return e;
    }
    if (table.get(key) != nullptr && std::ranges::find(allowed, out) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) {
        list += (list.empty() ? "" : ", ") + std::string(a);
      }
      return at(*table.get(key), std::string(where) + " key '" + std::string(key) + "' must be one of " + list +
                                     ", got '" + out + "'");
    }
    return std::nullopt;
  }

  /// A path relative to the pipeline file's directory ("-" stays).
  [[nodiscard]] std::string resolve(const std::string& path) const {
    if (path.empty() || path == "-" || std::filesystem::path(path).is_absolute()) {
      return path;
    }
    return (dir_ / path).lexically_normal().string();
  }

  [[nodiscard]] const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::filesystem::path dir_;
};

std::optional<Error> framing(const Reader& r, const toml::table& table, std::string_view where, Framing& out) {
  std::string text = "lines";
  if (auto e = r.choice(table, where, "framing", {"lines", "length-prefixed"}, text)) {
    return e;
  }
  out = text == "lines" ? Framing::Lines : Framing::LengthPrefixed;
  return std::nullopt;
}

std::string node_text(const toml::node& node) {
  if (const auto* s = node.as_string()) {
    return s->get();
  }
  if (const auto* i = node.as_integer()) {
    return std::to_string(i->get());
  }
  if (const auto* b = node.as_boolean()) {
    return b->get() ? "true" : "false";
  }
  if (const auto* f = node.as_floating_point()) {
    return std::to_string(f->get());
  }
  return {};
}

/// The keys every component stage takes, besides `type` (and a processor's `name`/`abi`, a sink's `pause_ms`).
std::optional<Error> parse_component(const Reader& r, const toml::table& table, const std::string& where,
                                     std::initializer_list<std::string_view> worlds, ComponentSpec& c) {
  c.world = std::string(*worlds.begin());
  for (auto e : {r.string(table, where, "path", c.path), r.choice(table, where, "world", worlds, c.world),
                 r.string(table, where, "config", c.config),
                 r.integer(table, where, "deadline_ms", 1, 60'000, c.deadline_ms),
                 r.integer(table, where, "memory_mb", 1, 4096, c.memory_mb),
                 r.integer(table, where, "max_record_bytes", 1, 16 << 20, c.max_record_bytes),
                 r.integer(table, where, "buffer_budget_mb", 1, 4096, c.buffer_budget_mb),
                 r.integer(table, where, "breaker_failures", 0, 1'000'000, c.breaker_failures),
                 r.integer(table, where, "breaker_cooldown_ms", 1, 3'600'000, c.breaker_cooldown_ms),
                 r.integer(table, where, "pause_ms", 1, 60'000, c.pause_ms)}) {
    if (e) {
      return e;
    }
  }
  if (c.path.empty()) {
    return r.at(table, where + " of type \"component\" needs key 'path' (the component's .wasm file)");
  }
  c.path = r.resolve(c.path);
  return std::nullopt;
}

std::optional<Error> parse_processor(const Reader& r, const toml::table& table, std::size_t index,
                                     ProcessorSpec& p) {
  p.line = static_cast<int>(table.source().begin.line);
  const std::string where = "[[processor]] #" + std::to_string(index + 1);
  if (auto e = r.string(table, where, "type", p.type)) {
    return e;
  }
  if (auto e = r.string(table, where, "name", p.name)) {
    return e;
  }
  for (const auto& [key, node] : table) {
    p.keys[std::string(key.str())] = node_text(node);
  }
  if (p.type == "plugin" && table.get("abi") != nullptr && node_text(*table.get("abi")) == "torvyn") {
    p.type = "component";  // abi = "torvyn": the same stage as type = "component"
  }
  if (p.type == "component") {
    if (auto e = r.only(table, where, {"type", "name", "abi", "path", "world", "config", "deadline_ms", "memory_mb",
                                       "max_record_bytes", "buffer_budget_mb", "breaker_failures",
                                       "breaker_cooldown_ms"})) {
      return e;
    }
    p.abi = "torvyn";
    if (auto e = r.choice(table, where, "abi", {"torvyn"}, p.abi)) {
      return e;
    }
    if (auto e = parse_component(r, table, where, {"transform", "managed-transform"}, p.component)) {
      return e;
    }
    p.path = p.component.path;
    if (p.name.empty()) {
      p.name = std::filesystem::path(p.path).stem().string();
    }
    return std::nullopt;
  }
  if (p.type != "plugin") {
    return std::nullopt;  // a factory's type: its keys are its own to check
  }
  if (auto e = r.only(table, where, {"type", "name", "path", "abi", "hook", "isolation", "instances", "deadline_ms",
                                     "memory_mb", "max_record_bytes", "config", "wasi", "schema", "alerts"})) {
    return e;
  }
  if (auto e = r.string(table, where, "path", p.path)) {
    return e;
  }
  if (p.path.empty()) {
    return r.at_line(p.line, where + " needs key 'path' (the plugin's .wasm file)");
  }
  p.path = r.resolve(p.path);
  if (auto e = r.choice(table, where, "abi", {"native", "cc-lb", "rustcdc", "kestrel", "torvyn"}, p.abi)) {
    return e;
  }
  if (auto e = r.string(table, where, "hook", p.hook)) {
    return e;
  }
  if (auto e = r.choice(table, where, "isolation", {"warm", "fresh"}, p.isolation)) {
    return e;
  }
  if (auto e = r.choice(table, where, "instances", {"per-partition", "shared"}, p.instances)) {
    return e;
  }
  if (auto e = r.integer(table, where, "deadline_ms", 1, 60'000, p.deadline_ms)) {
    return e;
  }
  if (auto e = r.integer(table, where, "memory_mb", 1, 4096, p.memory_mb)) {
    return e;
  }
  if (auto e = r.integer(table, where, "max_record_bytes", 1, 1 << 30, p.max_record_bytes)) {
    return e;
  }
  if (auto e = r.string(table, where, "config", p.config)) {
    return e;
  }
  p.config = r.resolve(p.config);
  if (auto e = r.boolean(table, where, "wasi", p.wasi)) {
    return e;
  }
  if (auto e = r.string(table, where, "schema", p.schema)) {
    return e;
  }
  if (auto e = r.string(table, where, "alerts", p.alerts)) {
    return e;
  }
  p.schema = r.resolve(p.schema);
  p.alerts = r.resolve(p.alerts);
  if (p.abi == "kestrel") {
    // The engine's own settings: warm instances, no WASI, the rule takes no config.
    for (const char* key : {"config", "wasi", "isolation", "instances", "max_record_bytes"}) {
      if (table.get(key) != nullptr) {
        return r.at(*table.get(key), where + " key '" + key + "' does not apply to abi \"kestrel\"");
      }
    }
    if (p.schema.empty()) {
      return r.at_line(p.line, where + " with abi \"kestrel\" needs key 'schema' (the event schema file)");
    }
  } else {
    for (const char* key : {"schema", "alerts"}) {
      if (table.get(key) != nullptr) {
        return r.at(*table.get(key), where + " key '" + key + "' applies only to abi \"kestrel\"");
      }
    }
  }
  if (p.name.empty()) {
    p.name = std::filesystem::path(p.path).stem().string();
  }
  return std::nullopt;
}

constexpr std::string_view kExternalTypes[] = {"kafka"};

// A [source]/[sink]/[dead_letter] table of an external type (kafka): its keys
// as text for the StageFactory, which checks them. nullopt: not an external
// type (the built-in parsing checks the type then).
Result<std::optional<StageSpec>> external_stage(const Reader& r, const toml::table& t, std::string_view where) {
  const toml::node* type = t.get("type");
  if (type == nullptr || type->as_string() == nullptr ||
      std::ranges::find(kExternalTypes, type->as_string()->get()) == std::end(kExternalTypes)) {
    return std::optional<StageSpec>{};
  }
  StageSpec stage;
  stage.type = type->as_string()->get();
  stage.line = static_cast<int>(t.source().begin.line);
  for (const auto& [key, node] : t) {
    if (key.str() == "type") {
      continue;
    }
    if (key.str() == "properties") {
      const toml::table* props = node.as_table();
      if (props == nullptr) {
        return r.at(node, std::string(where) + " key 'properties' must be a table of strings");
      }
      for (const auto& [name, value] : *props) {
        if (value.as_string() == nullptr && value.as_integer() == nullptr && value.as_boolean() == nullptr) {
          return r.at(value, std::string(where) + " property '" + std::string(name.str()) +
                                 "' must be a string, integer or boolean");
        }
        stage.properties[std::string(name.str())] = node_text(value);
      }
      continue;
    }
    std::string text;
    if (const toml::array* list = node.as_array()) {
      for (const toml::node& item : *list) {
        if (item.as_string() == nullptr || item.as_string()->get().empty()) {
          return r.at(item, std::string(where) + " key '" + std::string(key.str()) +
                                "' must be a string or an array of non-empty strings");
        }
        text += (text.empty() ? "" : ",") + item.as_string()->get();
      }
    } else if (node.as_table() != nullptr || node.as_array() != nullptr) {
      return r.at(node, std::string(where) + " key '" + std::string(key.str()) + "' must be a value");
    } else {
      text = node_text(node);
    }
    stage.keys[std::string(key.str())] = text;
  }
  return std::optional<StageSpec>{std::move(stage)};
}

/// The library hook a profile's hook name means; nullopt when the profile has no such hook.
std::optional<Hook> hook_of(std::string_view abi, std::string_view name) {
  if (abi == "native") {
    return name.empty() ? std::optional(Hook::Transform) : parse_hook(name);
  }
  if (abi == "cc-lb") {
    if (name.empty() || name == "filter") {
      return Hook::Filter;
    }
    if (name == "shape") {
      return Hook::Transform;
    }
    if (name == "observe") {
      return Hook::Observe;
    }
    return std::nullopt;
  }
  if (abi == "rustcdc" && (name.empty() || name == "transform")) {
    return Hook::Transform;
  }
  if (abi == "kestrel" && (name.empty() || name == "eval")) {
    return Hook::Filter;
  }
  return std::nullopt;
}

AbiProfile profile_of(std::string_view abi) {
  if (abi == "cc-lb") {
    return AbiProfile::CcLb;
  }
  if (abi == "rustcdc") {
    return AbiProfile::Rustcdc;
  }
  return AbiProfile::Native;
}

/// Loads a component stage's component (admission, compile, through the runtime's cache).
Result<std::shared_ptr<const torvyn::Component>> load_component_stage(Runtime& runtime, const ComponentSpec& c,
                                                                      const std::string& name,
                                                                      const std::string& where) {
  torvyn::ComponentOptions options;
  options.name = name;
  options.world = torvyn::parse_world(c.world).value_or(torvyn::World::Transform);
  options.limits.deadline = std::chrono::milliseconds(c.deadline_ms);
  options.limits.memory_bytes = std::uint64_t{c.memory_mb} << 20;
  options.limits.max_input_bytes = c.max_record_bytes;
  options.limits.max_output_bytes = c.max_record_bytes;
  options.buffers.budget_bytes = std::uint64_t{c.buffer_budget_mb} << 20;
  options.errors.breaker_failures = c.breaker_failures;
  options.errors.breaker_cooldown = std::chrono::milliseconds(c.breaker_cooldown_ms);
  options.config = c.config;
  auto component = runtime.load_component_file(c.path, options);
  if (!component) {
    Error e = std::move(component).error();
    e.message = where + ": " + e.message;
    return e;
  }
  return std::move(component).value();
}

template <class T>
Result<T> in_stage(Result<T> made, const std::string& where) {
  if (!made) {
    Error e = std::move(made).error();
    e.message = where + ": " + e.message;
    return e;
  }
  return made;
}

}  // namespace

Result<PipelineSpec> parse_pipeline(std::string_view text, const std::string& file) {
  toml::parse_result parsed = toml::parse(text, file);
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    return config_error(file + ":" + std::to_string(error.source().begin.line) + ":" +
                        std::to_string(error.source().begin.column) + ": " + std::string(error.description()));
  }
  const toml::table& root = parsed.table();
  const Reader r(file, std::filesystem::path(file).parent_path());
  PipelineSpec spec;
  spec.file = file;
  if (auto e = r.only(root, "top-level", {"pipeline", "source", "processor", "sink", "dead_letter"})) {
    return *e;
  }
  if (const toml::node* node = root.get("pipeline")) {
    const toml::table* t = node->as_table();
    if (t == nullptr) {
      return r.at(*node, "'pipeline' must be a table ([pipeline])");
    }
    const std::string where = "[pipeline]";
    if (auto e = r.only(*t, where, {"threads", "batch_records", "batch_bytes", "queue_batches", "dead_letter",
                                    "max_dead_letter_record_bytes", "max_batch_output_bytes"})) {
      return *e;
    }
    PipelineOptions& o = spec.options;
    for (auto e : {r.integer(*t, where, "threads", 0, 256, o.threads),
                   r.integer(*t, where, "batch_records", 1, 1'000'000, o.batch_records),
                   r.integer(*t, where, "batch_bytes", 1024, 64 << 20, o.batch_bytes),
                   r.integer(*t, where, "max_dead_letter_record_bytes", 0, 16 << 20, o.max_dead_letter_record_bytes),
                   r.integer(*t, where, "max_batch_output_bytes", 1 << 20, 1 << 30, o.max_batch_output_bytes),
                   r.string(*t, where, "dead_letter", o.dead_letter)}) {
      if (e) {
        return *e;
      }
    }
    if (auto e = r.integer(*t, where, "queue_batches", 0, 4096, o.queue_batches)) {
      return *e;
    }
    if (o.queue_batches == 1) {
      return r.at(*t->get("queue_batches"), "[pipeline] key 'queue_batches' must be 0 (2 x threads + 2) or 2..4096");
    }
    if (o.dead_letter.empty()) {
      return r.at(*t->get("dead_letter"), "[pipeline] key 'dead_letter' must name a file, or \"-\" for stderr");
    }
    o.dead_letter = r.resolve(o.dead_letter);
  }
  if (const toml::node* node = root.get("dead_letter")) {
    if (node->as_table() == nullptr) {
      return r.at(*node, "'dead_letter' must be a table ([dead_letter])");
    }
    auto external = external_stage(r, *node->as_table(), "[dead_letter]");
    if (!external) {
      return std::move(external).error();
    }
    std::optional<StageSpec>& ext = external.value();
    if (!ext.has_value()) {
      const toml::node* type = node->as_table()->get("type");
      if (type == nullptr) {
        return r.at(*node, "[dead_letter] needs key 'type' (\"kafka\"); the dead-letter file is "
                           "[pipeline] dead_letter");
      }
      return r.at(*type, "[dead_letter] key 'type' must be \"kafka\", got '" + node_text(*type) +
                              "' (the dead-letter file is [pipeline] dead_letter)");
    }
    spec.dead_letter_stage = std::move(ext);
  }
  const toml::node* source = root.get("source");
  if (source == nullptr || source->as_table() == nullptr) {
    return source == nullptr ? r.at_line(1, "missing [source] table") : r.at(*source, "'source' must be a table");
  }
  auto source_external = external_stage(r, *source->as_table(), "[source]");
  if (!source_external) {
    return std::move(source_external).error();
  }
  if (std::optional<StageSpec>& ext = source_external.value(); ext.has_value()) {
    spec.source_type = ext->type;
    spec.source_stage = std::move(ext);
  } else {
    const toml::table& t = *source->as_table();
    // "kafka" was taken above; it is listed so that a typo's message names it.
    if (auto e = r.choice(t, "[source]", "type", {"file", "stdin", "component", "kafka"}, spec.source_type)) {
      return *e;
    }
    if (spec.source_type == "component") {
      if (auto e = r.only(t, "[source]", {"type", "path", "world", "config", "deadline_ms", "memory_mb",
                                          "max_record_bytes", "buffer_budget_mb", "breaker_failures",
                                          "breaker_cooldown_ms"})) {
        return *e;
      }
      if (auto e = parse_component(r, t, "[source]", {"data-source"}, spec.source_component)) {
        return *e;
      }
      spec.source_path = spec.source_component.path;
    } else if (auto e = r.only(t, "[source]", {"type", "path", "framing", "max_record_bytes"})) {
      return *e;
    }
  }
  if (spec.source_type != "component" && !spec.source_stage) {
    const toml::table& t = *source->as_table();
    for (auto e : {r.string(t, "[source]", "path", spec.source_path),
                   framing(r, t, "[source]", spec.source_framing),
                   r.integer(t, "[source]", "max_record_bytes", 1, 1 << 30, spec.source_max_record_bytes)}) {
      if (e) {
        return *e;
      }
    }
    if (spec.source_type == "file" && spec.source_path.empty()) {
      return r.at(t, "[source] of type \"file\" needs key 'path'");
    }
    if (spec.source_type == "stdin") {
      if (!spec.source_path.empty()) {
        return r.at(*t.get("path"), "[source] of type \"stdin\" takes no 'path'");
      }
      spec.source_path = "-";
    }
    spec.source_path = r.resolve(spec.source_path);
  }
  if (const toml::node* node = root.get("processor")) {
    const toml::array* list = node->as_array();
    if (list == nullptr) {
      return r.at(*node, "'processor' must be an array of tables ([[processor]])");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const toml::table* t = list->get(i)->as_table();
      if (t == nullptr) {
        return r.at(*list->get(i), "every 'processor' must be a table ([[processor]])");
      }
      ProcessorSpec& p = spec.processors.emplace_back();
      if (auto e = parse_processor(r, *t, i, p)) {
        return *e;
      }
      if (p.name.empty()) {
        return r.at_line(p.line, "[[processor]] #" + std::to_string(i + 1) + " needs key 'name'");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (spec.processors[j].name == p.name || p.name == "source" || p.name == "sink") {
          return r.at_line(p.line, "[[processor]] #" + std::to_string(i + 1) + ": name '" + p.name +
                                       "' is taken (names must be unique and not 'source' or 'sink')");
        }
      }
      if (p.type == "plugin" && !hook_of(p.abi, p.hook)) {
        return r.at(*t->get("hook"), "[[processor]] '" + p.name + "': the " + p.abi + " profile has no hook '" +
                                         p.hook + "'");
      }
    }
  }
  const toml::node* sink = root.get("sink");
  if (sink == nullptr || sink->as_table() == nullptr) {
    return sink == nullptr ? r.at_line(1, "missing [sink] table") : r.at(*sink, "'sink' must be a table");
  }
  auto sink_external = external_stage(r, *sink->as_table(), "[sink]");
  if (!sink_external) {
    return std::move(sink_external).error();
  }
  if (std::optional<StageSpec>& ext = sink_external.value(); ext.has_value()) {
    spec.sink_type = ext->type;
    spec.sink_stage = std::move(ext);
  } else {
    const toml::table& t = *sink->as_table();
    if (auto e = r.choice(t, "[sink]", "type", {"file", "stdout", "component", "kafka"}, spec.sink_type)) {
      return *e;
    }
    if (spec.sink_type == "component") {
      if (auto e = r.only(t, "[sink]", {"type", "path", "world", "config", "deadline_ms", "memory_mb",
                                        "max_record_bytes", "buffer_budget_mb", "breaker_failures",
                                        "breaker_cooldown_ms", "pause_ms"})) {
        return *e;
      }
      if (auto e = parse_component(r, t, "[sink]", {"data-sink"}, spec.sink_component)) {
        return *e;
      }
      spec.sink_path = spec.sink_component.path;
      return spec;
    }
    if (auto e = r.only(t, "[sink]", {"type", "path", "framing"})) {
      return *e;
    }
    for (auto e : {r.choice(t, "[sink]", "type", {"file", "stdout"}, spec.sink_type),
                   r.string(t, "[sink]", "path", spec.sink_path), framing(r, t, "[sink]", spec.sink_framing)}) {
      if (e) {
        return *e;
      }
    }
    if (spec.sink_type == "file" && spec.sink_path.empty()) {
      return r.at(t, "[sink] of type \"file\" needs key 'path'");
    }
    if (spec.sink_type == "stdout") {
      if (!spec.sink_path.empty()) {
        return r.at(*t.get("path"), "[sink] of type \"stdout\" takes no 'path'");
      }
      spec.sink_path = "-";
    }
    spec.sink_path = r.resolve(spec.sink_path);
  }
  return spec;
}

Result<PipelineSpec> load_pipeline_file(const std::string& path) {
  auto bytes = detail::read_file_bounded(path, kMaxPipelineFileBytes, "pipeline file ", "1 MiB");
  if (!bytes) {
    return std::move(bytes).error();
  }
  return parse_pipeline({reinterpret_cast<const char*>(bytes->data()), bytes->size()}, path);
}

Result<std::vector<NamedProcessor>> make_processors(const PipelineSpec& spec, Runtime& runtime,
                                                    const std::map<std::string, ProcessorFactory>& factories) {
  const std::uint32_t threads =
      spec.options.threads != 0 ? spec.options.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<NamedProcessor> processors;
  for (const ProcessorSpec& p : spec.processors) {
    const std::string where = spec.file + ":" + std::to_string(p.line) + ": processor '" + p.name + "'";
    if (p.type == "component") {
      auto component = load_component_stage(runtime, p.component, p.name, where);
      if (!component) {
        return std::move(component).error();
      }
      auto made = in_stage(make_component_processor(std::move(component).value()), where);
      if (!made) {
        return std::move(made).error();
      }
      processors.push_back(NamedProcessor{p.name, "component:" + p.component.world, std::move(made).value()});
      continue;
    }
    if (p.type != "plugin") {
      auto factory = factories.find(p.type);
      if (factory == factories.end()) {
        return config_error(where + ": unknown type '" + p.type + "' (known: plugin" +
                            [&] {
                              std::string list;
                              for (const auto& [name, f] : factories) {
                                list += ", " + name;
                              }
                              return list;
                            }() +
                            ")");
      }
      auto made = factory->second(p.name, p.keys);
      if (!made) {
        Error e = std::move(made).error();
        e.message = where + ": " + e.message;
        return e;
      }
      processors.push_back(NamedProcessor{p.name, p.type, std::move(made).value()});
      continue;
    }
    if (p.abi == "kestrel") {
      auto made = detail::make_kestrel_processor(runtime, p, threads);
      if (!made) {
        Error e = std::move(made).error();
        e.message = where + ": " + e.message;
        return e;
      }
      processors.push_back(NamedProcessor{p.name, "plugin:kestrel", std::move(made).value()});
      continue;
    }
    LoadOptions load;
    load.name = p.name;
    load.abi = profile_of(p.abi);
    const Hook hook = hook_of(p.abi, p.hook).value_or(Hook::Transform);
    load.required_hooks = {hook};
    load.limits.deadline = std::chrono::milliseconds(p.deadline_ms);
    load.limits.memory_bytes = std::uint64_t{p.memory_mb} << 20;
    load.limits.max_input_bytes = p.max_record_bytes;
    load.limits.max_output_bytes = p.max_record_bytes;
    load.isolation = p.isolation == "fresh" ? Isolation::Fresh : Isolation::Warm;
    load.pool.max_instances = threads;  // one warm instance per worker thread
    // Loading the same plugin again (a second pipeline in this Runtime) returns
    // the same Plugin and pool: its workers wait for an instance rather than
    // failing records with PoolSaturated.
    load.pool.acquire_timeout = kInstanceWait;
    load.wasi = p.wasi;
    if (!p.config.empty()) {
      auto config = detail::read_file_bounded(p.config, kMaxConfigBytes, "config file ", "1 MiB");
      if (!config) {
        Error e = std::move(config).error();
        e.message = where + ": " + e.message;
        return e;
      }
      load.config = std::move(config).value();
    }
    auto plugin = runtime.load_file(p.path, load);
    if (!plugin) {
      Error e = std::move(plugin).error();
      e.message = where + ": " + e.message;
      return e;
    }
    // Runs the initialisers once: a plugin that rejects its config fails here, not on every record.
    if (auto ready = runtime.prepare(**plugin); !ready) {
      Error e = ready.error();
      e.message = where + ": " + e.message;
      return e;
    }
    // A Kafka source's partitions are flows: by default each gets instances of its own.
    const bool kafka_source = spec.source_stage && spec.source_stage->type == "kafka";
    const Instances instances = p.instances == "per-partition" || (p.instances.empty() && kafka_source)
                                    ? Instances::PerFlow
                                    : Instances::Shared;
    processors.push_back(
        NamedProcessor{p.name, "plugin:" + p.abi, make_plugin_processor(runtime, *plugin, hook, instances)});
  }
  return processors;
}

namespace {

// A component source or sink: loaded, admitted for its world, instantiated
// (init with its config).
Result<std::unique_ptr<Source>> component_source(const PipelineSpec& spec, Runtime& runtime) {
  const std::string where = spec.file + ": [source]";
  auto component = load_component_stage(runtime, spec.source_component, "source", where);
  if (!component) {
    return std::move(component).error();
  }
  return in_stage(make_component_source(std::move(component).value()), where);
}

Result<std::unique_ptr<Sink>> component_sink(const PipelineSpec& spec, Runtime& runtime) {
  const std::string where = spec.file + ": [sink]";
  auto component = load_component_stage(runtime, spec.sink_component, "sink", where);
  if (!component) {
    return std::move(component).error();
  }
  return in_stage(
      make_component_sink(std::move(component).value(), std::chrono::milliseconds(spec.sink_component.pause_ms)),
      where);
}

Result<std::unique_ptr<Source>> built_in_source(const PipelineSpec& spec, Runtime& runtime) {
  if (spec.source_type == "component") {
    return component_source(spec, runtime);
  }
  return make_file_source(spec.source_path, spec.source_framing, spec.source_max_record_bytes);
}

Result<std::unique_ptr<Sink>> built_in_sink(const PipelineSpec& spec, Runtime& runtime) {
  if (spec.sink_type == "component") {
    return component_sink(spec, runtime);
  }
  return make_file_sink(spec.sink_path, spec.sink_framing);
}

// A spec with a stage of an external type (kafka): the factory makes those,
// the other side is a built-in stage (file, stdin/stdout, component).
Result<std::unique_ptr<Pipeline>> build_with_external_stages(const PipelineSpec& spec, Runtime& runtime,
                                                             const std::map<std::string, ProcessorFactory>& factories,
                                                             const StageFactory& stages) {
  if (!stages) {
    for (const std::optional<StageSpec>* s : {&spec.source_stage, &spec.sink_stage, &spec.dead_letter_stage}) {
      if (const StageSpec* stage = s->has_value() ? &s->value() : nullptr; stage != nullptr) {
        return config_error(spec.file + ":" + std::to_string(stage->line) + ": type '" + stage->type +
                            "' is not available in this build (wasmplug was built without librdkafka)");
      }
    }
    return config_error(spec.file + ": Kafka stages are not available in this build");
  }
  auto processors = make_processors(spec, runtime, factories);
  if (!processors) {
    return std::move(processors).error();
  }
  auto made = stages(spec);
  if (!made) {
    return std::move(made).error();
  }
  ExternalStages external = std::move(made).value();
  std::unique_ptr<Source> source = std::move(external.source);
  if (!source) {
    auto built_in = built_in_source(spec, runtime);
    if (!built_in) {
      return std::move(built_in).error();
    }
    source = std::move(built_in).value();
  }
  std::unique_ptr<Sink> sink = std::move(external.sink);
  if (!sink) {
    auto built_in = built_in_sink(spec, runtime);
    if (!built_in) {
      return std::move(built_in).error();
    }
    sink = std::move(built_in).value();
  }
  return Pipeline::create(spec.options, std::move(source), std::move(processors).value(), std::move(sink),
                          spec.source_type, spec.sink_type);
}

}  // namespace

Result<std::size_t> check_pipeline(const PipelineSpec& spec, Runtime& runtime,
                                   const std::map<std::string, ProcessorFactory>& factories) {
  auto processors = make_processors(spec, runtime, factories);
  if (!processors) {
    return std::move(processors).error();
  }
  // Made and dropped again (teardown runs): a component that is refused or
  // rejects its config fails the check, as it would fail the run.
  if (spec.source_type == "component") {
    if (auto source = component_source(spec, runtime); !source) {
      return std::move(source).error();
    }
  }
  if (spec.sink_type == "component") {
    if (auto sink = component_sink(spec, runtime); !sink) {
      return std::move(sink).error();
    }
  }
  return processors->size();
}

Result<std::unique_ptr<Pipeline>> build_pipeline(const PipelineSpec& spec, Runtime& runtime,
                                                 const std::map<std::string, ProcessorFactory>& factories,
                                                 const StageFactory& stages) {
  if (spec.source_stage || spec.sink_stage || spec.dead_letter_stage) {
    return build_with_external_stages(spec, runtime, factories, stages);
  }
  auto processors = make_processors(spec, runtime, factories);
  if (!processors) {
    return std::move(processors).error();
  }
  Result<std::unique_ptr<Source>> source = built_in_source(spec, runtime);
  if (!source) {
    return std::move(source).error();
  }
  Result<std::unique_ptr<Sink>> sink = built_in_sink(spec, runtime);
  if (!sink) {
    return std::move(sink).error();
  }
  return Pipeline::create(spec.options, std::move(source).value(), std::move(processors).value(), std::move(sink).value(),
                          spec.source_type, spec.sink_type);
}

}  // namespace wasmplug::pipeline
