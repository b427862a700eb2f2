// Test helper: WebAssembly binaries built byte by byte, for modules that WAT
// files cannot express compactly (a million functions, nesting 100k deep) or
// that must be generated with parameters.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace wasmplug::test {

using Bytes = std::vector<std::uint8_t>;

inline void put_leb(Bytes& out, std::uint64_t v) {
  do {
    std::uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<std::uint8_t>(b | (v != 0 ? 0x80 : 0)));
  } while (v != 0);
}

inline void put_name(Bytes& out, std::string_view name) {
  put_leb(out, name.size());
  out.insert(out.end(), name.begin(), name.end());
}

inline void put_bytes(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

/// Sections are appended in the order given; the caller keeps wasm's order.
class WasmBuilder {
 public:
  static constexpr std::uint8_t kI32 = 0x7f;
  static constexpr std::uint8_t kV128 = 0x7b;
  enum Section : std::uint8_t {
    kType = 1, kImport = 2, kFunction = 3, kMemory = 5, kGlobal = 6, kExport = 7, kCode = 10
  };

  WasmBuilder() : bytes_{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00} {}

  WasmBuilder& section(std::uint8_t id, const Bytes& payload) {
    bytes_.push_back(id);
    put_leb(bytes_, payload.size());
    put_bytes(bytes_, payload);
    return *this;
  }
  /// A section holding `count` items whose encodings are concatenated in `items`.
  WasmBuilder& vec_section(std::uint8_t id, std::uint64_t count, const Bytes& items) {
    Bytes payload;
    put_leb(payload, count);
    put_bytes(payload, items);
    return section(id, payload);
  }
  [[nodiscard]] const Bytes& bytes() const { return bytes_; }

  /// One function type entry: 0x60 params results.
  static Bytes func_type(const Bytes& params, const Bytes& results) {
    Bytes t{0x60};
    put_leb(t, params.size());
    put_bytes(t, params);
    put_leb(t, results.size());
    put_bytes(t, results);
    return t;
  }
  /// One code entry with `locals` i32 locals and the instructions `code`
  /// (the final `end` is added).
  static Bytes body(std::uint64_t locals, const Bytes& code) {
    Bytes b;
    if (locals == 0) {
      b.push_back(0x00);
    } else {
      b.push_back(0x01);
      put_leb(b, locals);
      b.push_back(kI32);
    }
    put_bytes(b, code);
    b.push_back(0x0b);
    Bytes entry;
    put_leb(entry, b.size());
    put_bytes(entry, b);
    return entry;
  }

  /// `functions` functions of type () -> (), each `body_entry`.
  static Bytes many_functions(std::uint64_t functions, const Bytes& body_entry) {
    WasmBuilder m;
    m.vec_section(kType, 1, func_type({}, {}));
    Bytes funcs;
    for (std::uint64_t i = 0; i < functions; ++i) {
      funcs.push_back(0x00);
    }
    m.vec_section(kFunction, functions, funcs);
    Bytes code;
    for (std::uint64_t i = 0; i < functions; ++i) {
      put_bytes(code, body_entry);
    }
    m.vec_section(kCode, functions, code);
    return m.bytes();
  }
  /// Instructions that nest `depth` blocks: block ... block end ... end.
  static Bytes nested_blocks(std::uint64_t depth) {
    Bytes code;
    for (std::uint64_t i = 0; i < depth; ++i) {
      code.push_back(0x02);
      code.push_back(0x40);
    }
    for (std::uint64_t i = 0; i < depth; ++i) {
      code.push_back(0x0b);
    }
    return code;
  }

 private:
  Bytes bytes_;
};

}  // namespace wasmplug::test
