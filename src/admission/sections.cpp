#include "admission/sections.hpp"

#include <algorithm>
#include <array>

namespace wasmplug::detail {

namespace {

constexpr std::array<std::uint8_t, 8> kHeader = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

enum SectionId : std::uint8_t { kCustom = 0, kTable = 4, kMemory = 5, kStart = 8 };

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  [[nodiscard]] bool done() const { return pos_ >= bytes_.size(); }
  [[nodiscard]] std::size_t pos() const { return pos_; }

  std::optional<std::uint8_t> byte() {
    if (pos_ >= bytes_.size()) {
      return std::nullopt;
    }
    return bytes_[pos_++];
  }
  std::optional<std::uint64_t> leb(unsigned max_bits) {
    std::uint64_t value = 0;
    // At most ceil(max_bits / 7) bytes: shifts 0, 7, ... below max_bits (never 64 or more).
    for (unsigned shift = 0; shift < max_bits; shift += 7) {
      auto b = byte();
      if (!b) {
        return std::nullopt;
      }
      value |= static_cast<std::uint64_t>(*b & 0x7f) << shift;
      if ((*b & 0x80) == 0) {
        return value;
      }
    }
    return std::nullopt;
  }
  std::optional<std::span<const std::uint8_t>> take(std::uint64_t n) {
    if (n > bytes_.size() - pos_) {
      return std::nullopt;
    }
    auto out = bytes_.subspan(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

Error malformed(const std::string& what) {
  return Error{ErrorKind::CompileFailed, Phase::Admit, {}, {}, "malformed module: " + what};
}

std::optional<LimitsDecl> read_limits(Reader& r) {
  auto flags = r.byte();
  if (!flags || *flags > 0x07) {
    return std::nullopt;
  }
  LimitsDecl decl;
  decl.shared = (*flags & 0x02) != 0;
  decl.is64 = (*flags & 0x04) != 0;
  const unsigned bits = decl.is64 ? 64 : 32;
  auto min = r.leb(bits);
  if (!min) {
    return std::nullopt;
  }
  decl.min = *min;
  if ((*flags & 0x01) != 0) {
    auto max = r.leb(bits);
    if (!max) {
      return std::nullopt;
    }
    decl.max = max;
  }
  return decl;
}

Result<std::vector<LimitsDecl>> read_tables(Reader& r) {
  auto count = r.leb(32);
  if (!count) {
    return malformed("table section count");
  }
  std::vector<LimitsDecl> tables;
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto ref = r.byte();
    // 0x70 funcref, 0x6f externref. Typed references (and tables with an
    // init expression, 0x40) need function-references, which the engine
    // config disables, so a validated module cannot contain them.
    if (!ref || (*ref != 0x70 && *ref != 0x6f)) {
      return malformed("unsupported table type encoding");
    }
    auto limits = read_limits(r);
    if (!limits) {
      return malformed("table limits");
    }
    tables.push_back(*limits);
  }
  return tables;
}

Result<std::vector<LimitsDecl>> read_memories(Reader& r) {
  auto count = r.leb(32);
  if (!count) {
    return malformed("memory section count");
  }
  std::vector<LimitsDecl> memories;
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto limits = read_limits(r);
    if (!limits) {
      return malformed("memory limits");
    }
    memories.push_back(*limits);
  }
  return memories;
}

}  // namespace

bool has_wasm_header(std::span<const std::uint8_t> bytes) noexcept {
  return bytes.size() >= kHeader.size() && std::equal(kHeader.begin(), kHeader.end(), bytes.begin());
}

Result<SectionSummary> read_sections(std::span<const std::uint8_t> bytes) {
  if (!has_wasm_header(bytes)) {
    return malformed("missing wasm header");
  }
  Reader r(bytes.subspan(kHeader.size()));
  SectionSummary summary;
  while (!r.done()) {
    auto id = r.byte();
    auto size = r.leb(32);
    if (!id || !size) {
      return malformed("section header at offset " + std::to_string(r.pos() + kHeader.size()));
    }
    auto body = r.take(*size);
    if (!body) {
      return malformed("section " + std::to_string(*id) + " runs past the end of the module");
    }
    Reader section(*body);
    switch (*id) {
      case kTable: {
        auto tables = read_tables(section);
        if (!tables) {
          return std::move(tables).error();
        }
        summary.tables = std::move(*tables);
        break;
      }
      case kMemory: {
        auto memories = read_memories(section);
        if (!memories) {
          return std::move(memories).error();
        }
        summary.memories = std::move(*memories);
        break;
      }
      case kStart: summary.has_start = true; break;
      case kCustom: {
        auto len = section.leb(32);
        auto name = len ? section.take(*len) : std::nullopt;
        if (!name) {
          return malformed("custom section name");
        }
        summary.custom_sections.emplace_back(name->begin(), name->end());
        break;
      }
      default: break;
    }
  }
  return summary;
}

}  // namespace wasmplug::detail
