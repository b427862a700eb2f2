#include "pipeline/dead_letter.hpp"

#include <openssl/evp.h>

#include "pipeline/json_out.hpp"

namespace wasmplug::detail {

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

std::string_view utf8_prefix(std::string_view text, std::size_t max) {
  if (text.size() <= max) {
    return text;
  }
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return text.substr(0, cut);
}

void dead_letter_line(const DeadRecord& record, std::size_t max_record_bytes, std::string& out) {
  const bool cut = record.prefix_only || record.text.size() > max_record_bytes;
  out += "{\"position\":" + std::to_string(record.position) + ",\"stage\":" + json_string(record.stage) +
         ",\"kind\":" + json_string(record.kind) + ",\"phase\":" + json_string(record.phase) +
         ",\"message\":" + json_string(record.message) +
         ",\"record\":" + json_string(utf8_prefix(record.text, max_record_bytes));
  if (cut) {
    out += ",\"record_bytes\":" + std::to_string(record.bytes) + ",\"truncated\":true";
    if (!record.prefix_only) {
      out += ",\"record_sha256\":\"" + sha256_hex(record.text) + "\"";
    }
  }
  out += "}";
}

}  // namespace wasmplug::detail
