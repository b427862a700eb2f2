// component_check: asserts that a file is a WebAssembly component whose
// top-level imports and exports are exactly the expected names. The build
// runs it on every torvyn test guest (so a no-WASI guest that picked up a
// wasi: import fails the build) and CTest runs it again on the installed files.
//
//   component_check FILE [--imports NAME,...] [--exports NAME,...] [--wasi] [--quiet]
//
// Names are full interface names (torvyn:streaming/types@0.1.0). Without
// --wasi, any import starting with "wasi:" is an error; with --wasi, the file
// must import at least one wasi: interface and those are not listed in
// --imports. Prints the imports and exports found (not with --quiet).
// Exit 0 on a match; otherwise 1 with what differs on stderr.
//
// Only the component binary format's outer layer is read (preamble, section
// headers, the import and export sections); nested components and core
// modules are skipped by their section sizes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::uint8_t kImportSection = 10;
constexpr std::uint8_t kExportSection = 11;

/// A bounds-checked reader over the file's bytes; any overrun sets failed_.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool failed() const { return failed_; }
  bool at_end() const { return pos_ >= size_; }
  std::size_t pos() const { return pos_; }

  std::uint8_t byte() {
    if (pos_ >= size_) {
      failed_ = true;
      return 0;
    }
    return data_[pos_++];
  }

  std::uint64_t leb_u(unsigned max_bits) {
    std::uint64_t value = 0;
    for (unsigned shift = 0; shift < max_bits + 7; shift += 7) {
      const std::uint8_t b = byte();
      value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0 || failed_) return value;
    }
    failed_ = true;
    return 0;
  }

  /// s33 (a type index or a negative primitive type): only its extent matters.
  void skip_leb() { (void)leb_u(35); }

  std::string name() {
    const std::uint64_t len = leb_u(32);
    if (failed_ || len > size_ - pos_) {
      failed_ = true;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(len));
    pos_ += static_cast<std::size_t>(len);
    return s;
  }

  void skip(std::uint64_t n) {
    if (n > size_ - pos_) {
      failed_ = true;
      return;
    }
    pos_ += static_cast<std::size_t>(n);
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

/// importname' / exportname': 0x00 name, or 0x01 name + a version suffix.
std::string extern_name(Reader& r) {
  const std::uint8_t tag = r.byte();
  std::string n = r.name();
  if (tag == 0x01) {
    (void)r.name();
  } else if (tag != 0x00) {
    std::fprintf(stderr, "component_check: unknown extern name tag 0x%02x\n", tag);
    r.skip(UINT64_MAX);
  }
  return n;
}

void skip_externdesc(Reader& r) {
  switch (r.byte()) {
    case 0x00:  // core module: 0x11 typeidx
      (void)r.byte();
      (void)r.leb_u(32);
      break;
    case 0x01:  // func
    case 0x04:  // component
    case 0x05:  // instance
      (void)r.leb_u(32);
      break;
    case 0x02:  // value: 0x00 valueidx | 0x01 valtype
      (void)r.byte();
      r.skip_leb();
      break;
    case 0x03:  // type: 0x00 eq typeidx | 0x01 sub resource
      if (r.byte() == 0x00) (void)r.leb_u(32);
      break;
    default:
      r.skip(UINT64_MAX);
  }
}

struct Interface {
  std::vector<std::string> imports;
  std::vector<std::string> exports;
};

std::optional<Interface> read_component(const std::vector<std::uint8_t>& bytes, std::string& error) {
  static constexpr std::uint8_t kPreamble[] = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
  if (bytes.size() < sizeof kPreamble || !std::equal(std::begin(kPreamble), std::end(kPreamble), bytes.begin())) {
    error = "not a WebAssembly component (no component preamble: a core module, or not wasm)";
    return std::nullopt;
  }
  Reader r(bytes.data() + sizeof kPreamble, bytes.size() - sizeof kPreamble);
  Interface out;
  while (!r.at_end() && !r.failed()) {
    const std::uint8_t id = r.byte();
    const std::uint64_t size = r.leb_u(32);
    if (r.failed()) break;
    Reader section_start = r;
    if (id == kImportSection || id == kExportSection) {
      const std::uint64_t count = r.leb_u(32);
      for (std::uint64_t i = 0; i < count && !r.failed(); ++i) {
        if (id == kImportSection) {
          out.imports.push_back(extern_name(r));
          skip_externdesc(r);
        } else {
          out.exports.push_back(extern_name(r));
          // sortidx: sort (0x00 + core sort byte, or one byte) then index.
          if (r.byte() == 0x00) (void)r.byte();
          (void)r.leb_u(32);
          if (r.byte() == 0x01) skip_externdesc(r);
        }
      }
      if (!r.failed() && r.pos() - section_start.pos() != size) {
        error = "section " + std::to_string(id) + " has " + std::to_string(size) + " bytes but its entries take " +
                std::to_string(r.pos() - section_start.pos());
        return std::nullopt;
      }
    } else {
      r.skip(size);
    }
  }
  if (r.failed()) {
    error = "truncated or malformed component";
    return std::nullopt;
  }
  return out;
}

std::set<std::string> split(std::string_view list) {
  std::set<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = list.substr(0, comma);
    if (!item.empty()) out.emplace(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

bool compare(const char* what, const std::set<std::string>& expected, const std::set<std::string>& actual) {
  bool ok = true;
  for (const auto& n : expected) {
    if (!actual.contains(n)) {
      std::fprintf(stderr, "component_check: missing %s %s\n", what, n.c_str());
      ok = false;
    }
  }
  for (const auto& n : actual) {
    if (!expected.contains(n)) {
      std::fprintf(stderr, "component_check: unexpected %s %s\n", what, n.c_str());
      ok = false;
    }
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: component_check FILE [--imports A,B] [--exports C] [--wasi] [--quiet]\n");
    return 2;
  }
  const std::string path = argv[1];
  std::set<std::string> want_imports;
  std::set<std::string> want_exports;
  bool wasi = false;
  bool quiet = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--wasi") {
      wasi = true;
    } else if (arg == "--quiet") {
      quiet = true;
    } else if ((arg == "--imports" || arg == "--exports") && i + 1 < argc) {
      (arg == "--imports" ? want_imports : want_exports) = split(argv[++i]);
    } else {
      std::fprintf(stderr, "component_check: unknown argument %s\n", argv[i]);
      return 2;
    }
  }

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "component_check: cannot open %s\n", path.c_str());
    return 1;
  }
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::string error;
  const auto component = read_component(bytes, error);
  if (!component) {
    std::fprintf(stderr, "component_check: %s: %s\n", path.c_str(), error.c_str());
    return 1;
  }

  std::set<std::string> imports;
  std::size_t wasi_imports = 0;
  bool ok = true;
  for (const auto& n : component->imports) {
    if (!quiet) std::printf("import %s\n", n.c_str());
    if (n.starts_with("wasi:")) {
      ++wasi_imports;
      if (!wasi) {
        std::fprintf(stderr, "component_check: %s imports WASI (%s), which a no-WASI guest must not\n",
                     path.c_str(), n.c_str());
        ok = false;
      }
    } else {
      imports.insert(n);
    }
  }
  for (const auto& n : component->exports) {
    if (!quiet) std::printf("export %s\n", n.c_str());
  }
  if (wasi && wasi_imports == 0) {
    std::fprintf(stderr, "component_check: %s was expected to import WASI but imports no wasi: interface\n",
                 path.c_str());
    ok = false;
  }
  ok = compare("import", want_imports, imports) && ok;
  ok = compare("export", want_exports, {component->exports.begin(), component->exports.end()}) && ok;
  if (!ok) {
    std::fprintf(stderr, "component_check: %s does not have the expected imports/exports\n", path.c_str());
    return 1;
  }
  return 0;
}
