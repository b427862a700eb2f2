#include "error_sink.hpp"

#include <openssl/evp.h>

#include "json_out.hpp"

namespace wasmplug::cli {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return "unavailable";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

namespace {

// Cuts at most `max` bytes without splitting a UTF-8 sequence (the errors
// file should stay readable text where the record was).
std::string_view prefix_of(std::string_view text, std::size_t max) {
  if (text.size() <= max) {
    return text;
  }
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return text.substr(0, cut);
}

}  // namespace

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
           ",\"record\":" + json_string(prefix_of(failed.text, max_record_bytes_));
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
