// A processor that calls one hook of a plugin through the public Runtime API
// (any profile with a bytes-in/bytes-out or keep/drop hook).
#include "wasmplug/pipeline.hpp"

namespace wasmplug::pipeline {

namespace {

class PluginProcessor final : public Processor {
 public:
  PluginProcessor(const Runtime& runtime, std::shared_ptr<const Plugin> plugin, Hook hook)
      : runtime_(runtime), plugin_(std::move(plugin)), hook_(hook) {}

  Result<Verdict> process(std::string_view record, std::string& out) const override {
    Result<Output> result = runtime_.call(
        *plugin_, hook_, {reinterpret_cast<const std::uint8_t*>(record.data()), record.size()});
    if (!result) {
      return std::move(result).error();
    }
    switch (result->kind) {
      case Output::Kind::Bytes: out.append(result->text()); return Verdict::Emit;
      case Output::Kind::Keep: return Verdict::Keep;
      case Output::Kind::Drop: return Verdict::Drop;
      case Output::Kind::Done: return Verdict::Keep;  // observe: the record passes on
    }
    return Verdict::Keep;
  }

 private:
  const Runtime& runtime_;
  std::shared_ptr<const Plugin> plugin_;
  Hook hook_;
};

}  // namespace

std::unique_ptr<Processor> make_plugin_processor(const Runtime& runtime, std::shared_ptr<const Plugin> plugin,
                                                 Hook hook) {
  return std::make_unique<PluginProcessor>(runtime, std::move(plugin), hook);
}

}  // namespace wasmplug::pipeline
