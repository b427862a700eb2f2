// A Kestrel rule as a keep/drop processor: each record is a JSON object
// turned into a typed event by the schema (as `wasmplug run --abi kestrel`
// does), the rule's verdict keeps or drops it, and the alerts it emits go to
// an alerts file (JSON lines) so that none is lost.
#include <simdjson.h>

#include <mutex>

#include "pipeline/dead_letter.hpp"
#include "pipeline/io.hpp"
#include "pipeline/json_out.hpp"
#include "pipeline/kestrel_events.hpp"
#include "pipeline/kestrel_processor.hpp"
#include "wasmplug/kestrel.hpp"

namespace wasmplug::detail {

namespace {

constexpr std::size_t kAlertRecordBytes = 256;

Error input_error(std::string message) {
  Error e;
  e.kind = ErrorKind::InvalidArgument;
  e.phase = Phase::Call;
  e.message = std::move(message);
  return e;
}

class KestrelProcessor final : public pipeline::Processor {
 public:
  KestrelProcessor(std::unique_ptr<kestrel::Engine> engine, std::string rule, std::string stage,
                   std::unique_ptr<OutFile> alerts)
      : engine_(std::move(engine)), rule_(std::move(rule)), stage_(std::move(stage)), alerts_(std::move(alerts)) {}
  ~KestrelProcessor() override { (void)alerts_->close(); }
  KestrelProcessor(const KestrelProcessor&) = delete;
  KestrelProcessor& operator=(const KestrelProcessor&) = delete;

  Result<pipeline::Verdict> process(std::string_view record, std::string& out) const override {
    (void)out;
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    // parse(ptr, len) copies into the parser's padded buffer: records need no padding.
    if (auto error = parser.parse(record.data(), record.size()).get(doc); error) {
      return input_error(std::string("malformed JSON: ") + simdjson::error_message(error));
    }
    kestrel::Event event;
    if (std::string why = to_event(doc, engine_->schema(), event); !why.empty()) {
      return input_error(std::move(why));
    }
    auto result = engine_->evaluate(rule_, event);
    if (!result) {
      return std::move(result).error();
    }
    if (!result->alerts.empty()) {
      std::lock_guard lock(mutex_);
      for (const kestrel::Alert& alert : result->alerts) {
        alerts_->record("{\"stage\":" + json_string(stage_) + ",\"rule\":" +
                        json_string(alert.rule_id) + ",\"code\":" + std::to_string(alert.code) +
                        ",\"record\":" +
                        json_string(utf8_prefix(record, kAlertRecordBytes)) +
                        "}");
      }
      if (!alerts_->flush()) {
        Error e;
        e.kind = ErrorKind::Io;
        e.phase = Phase::Call;
        e.message = "alerts: " + alerts_->error();
        return e;
      }
    }
    return result->matched ? pipeline::Verdict::Keep : pipeline::Verdict::Drop;
  }

 private:
  std::unique_ptr<kestrel::Engine> engine_;
  std::string rule_;
  std::string stage_;
  mutable std::mutex mutex_;
  std::unique_ptr<OutFile> alerts_;
};

}  // namespace

Result<std::unique_ptr<pipeline::Processor>> make_kestrel_processor(Runtime& runtime, const pipeline::ProcessorSpec& spec,
                                                          std::uint32_t threads) {
  auto schema = load_schema(spec.schema);
  if (!schema) {
    return std::move(schema).error();
  }
  auto wasm = read_file_bounded(spec.path, runtime.config().max_module_bytes, "", "the module limit");
  if (!wasm) {
    return std::move(wasm).error();
  }
  kestrel::EngineConfig config;
  config.deadline = std::chrono::milliseconds(spec.deadline_ms);
  config.max_memory_pages = spec.memory_mb * 16;
  config.instance_pool_size = threads;
  auto engine = std::make_unique<kestrel::Engine>(runtime, std::move(schema).value(), config);
  if (auto compiled = engine->compile_rule(spec.name, *wasm); !compiled) {
    return compiled.error();
  }
  auto alerts = spec.alerts == "-" ? std::make_unique<OutFile>(2, "stderr")
                                   : std::make_unique<OutFile>(spec.alerts);
  if (!alerts->ok()) {
    Error e;
    e.kind = ErrorKind::Io;
    e.phase = Phase::Config;
    e.message = "alerts: " + alerts->error();
    return e;
  }
  return std::unique_ptr<pipeline::Processor>(
      std::make_unique<KestrelProcessor>(std::move(engine), spec.name, spec.name, std::move(alerts)));
}

}  // namespace wasmplug::detail
