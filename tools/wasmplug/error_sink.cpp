#include "error_sink.hpp"

#include "json_out.hpp"

namespace wasmplug::cli {

void ErrorSink::record(const FailedRecord& failed) {
  text_.clear();
  if (human_) {
    text_ += "line " + std::to_string(failed.line) + ": ";
    text_ += failed.kind;
    text_ += " in ";
    text_ += failed.phase;
    text_ += ": ";
    text_ += failed.message;
    file_.record(text_);
    (void)file_.flush();  // interleaves in order with guest log lines on stderr
    return;
  }
  const bool cut = failed.prefix_only || failed.text.size() > max_record_bytes_;
  text_ += "{\"line\":" + std::to_string(failed.line) + ",\"kind\":" + json_string(failed.kind) +
           ",\"phase\":" + json_string(failed.phase) + ",\"message\":" + json_string(failed.message) +
           ",\"record\":" + json_string(detail::utf8_prefix(failed.text, max_record_bytes_));
  if (cut) {
    text_ += ",\"record_bytes\":" + std::to_string(failed.bytes) + ",\"truncated\":true";
    if (!failed.prefix_only) {
      text_ += ",\"record_sha256\":\"" + sha256_hex(failed.text) + "\"";
    }
  }
  text_ += "}";
  file_.record(text_);
}

}  // namespace wasmplug::cli
