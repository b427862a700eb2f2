// Admission: every rule, with the offending item named, before any guest code runs.
#include <gtest/gtest.h>

#include "guests.hpp"
#include "wasm_builder.hpp"

namespace wasmplug::test {
namespace {

class Admission : public ::testing::Test {
 protected:
  std::unique_ptr<Runtime> rt_ = make_runtime();

  Error rejected(std::string_view stem, LoadOptions options = {}) {
    options.name = std::string(stem);
    auto p = rt_->load(guest_bytes(stem), options);
    EXPECT_FALSE(p.ok()) << stem << " was admitted";
    return p.ok() ? Error{} : p.error();
  }
};

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

TEST_F(Admission, GoodModuleReport) {
  auto plugin = load_guest(*rt_, "echo");
  ASSERT_TRUE(plugin);
  const AdmissionReport& r = plugin->report();
  EXPECT_TRUE(r.admitted());
  EXPECT_EQ(r.abi_version, 1u);
  EXPECT_TRUE(plugin->has_hook(Hook::Transform));
  EXPECT_TRUE(plugin->has_hook(Hook::Filter));
  EXPECT_TRUE(plugin->has_hook(Hook::Observe));
  ASSERT_EQ(r.imports.size(), 1u);
  EXPECT_EQ(r.imports[0].module, "wasmplug");
  EXPECT_EQ(r.imports[0].name, "log");
  EXPECT_EQ(r.imports[0].signature, "(i32, i32, i32) -> ()");
  EXPECT_EQ(r.memory_min_pages, 1u);
  EXPECT_EQ(r.content_hash.size(), 64u);
  EXPECT_EQ(plugin->name(), "echo");
  EXPECT_GT(plugin->version_id(), 0u);
}

TEST_F(Admission, ForbiddenImportIsNamed) {
  Error e = rejected("forbidden_import");
  EXPECT_EQ(e.kind, ErrorKind::Rejected);
  EXPECT_EQ(e.phase, Phase::Admit);
  EXPECT_EQ(e.plugin, "forbidden_import");
  EXPECT_TRUE(contains(e.message, "import env.system (i32) -> (i32) is not provided")) << e.message;
  EXPECT_TRUE(contains(e.message, "allowed: wasmplug.log, wasmplug.fail")) << e.message;
}

TEST_F(Admission, MistypedImportIsNamed) {
  Error e = rejected("mistyped_import");
  EXPECT_EQ(e.kind, ErrorKind::Rejected);
  EXPECT_TRUE(contains(e.message, "import wasmplug.log has type (i32, i32) -> ()")) << e.message;
  EXPECT_TRUE(contains(e.message, "provides (i32, i32, i32) -> ()")) << e.message;
}

TEST_F(Admission, MissingExportsAreEachNamed) {
  Error e = rejected("missing_export");
  EXPECT_EQ(e.kind, ErrorKind::Rejected);
  EXPECT_TRUE(contains(e.message, "missing required export wp_alloc")) << e.message;
  EXPECT_TRUE(contains(e.message, "missing ABI marker")) << e.message;
}

TEST_F(Admission, MistypedExportIsNamed) {
  Error e = rejected("mistyped_export");
  EXPECT_TRUE(contains(e.message, "export wp_transform has type (i32, i32) -> (i32)")) << e.message;
  EXPECT_TRUE(contains(e.message, "requires (i32, i32) -> (i64)")) << e.message;
}

TEST_F(Admission, UnsupportedAbiVersion) {
  Error e = rejected("wrong_version");
  EXPECT_TRUE(contains(e.message, "ABI version 2")) << e.message;
}

TEST_F(Admission, OversizedTable) {
  Error e = rejected("big_table");
  EXPECT_TRUE(contains(e.message, "a table declares 100000 elements; the limit is 10000")) << e.message;
  LoadOptions generous;
  generous.limits.table_elements = 20'000;
  EXPECT_EQ(rejected("big_table", generous).kind, ErrorKind::Rejected);
}

TEST_F(Admission, HugeDeclaredMemory) {
  Error e = rejected("huge_memory");
  EXPECT_TRUE(contains(e.message, "declares at least 1000 pages")) << e.message;
  LoadOptions generous;
  generous.limits.memory_bytes = 64u << 20;  // 1024 pages
  EXPECT_TRUE(rt_->load(guest_bytes("huge_memory"), generous).ok());
}

TEST_F(Admission, SharedMemoryIsRefused) {
  Error e = rejected("shared_memory");
  // The engine has threads off, so validation already refuses it.
  EXPECT_TRUE(e.kind == ErrorKind::CompileFailed || e.kind == ErrorKind::Rejected) << e.to_string();
  EXPECT_TRUE(contains(e.message, "shared") || contains(e.message, "threads")) << e.message;
}

TEST_F(Admission, NotWasmBytes) {
  std::string elf = "\x7f" "ELF\x02\x01\x01";
  auto p = rt_->load(bytes(elf));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::CompileFailed);
  EXPECT_TRUE(contains(p.error().message, "not a WebAssembly module")) << p.error().message;
  EXPECT_TRUE(contains(p.error().message, "7f 45 4c 46")) << p.error().message;
  EXPECT_EQ(rt_->load(std::span<const std::uint8_t>{}).error().kind, ErrorKind::CompileFailed);
}

TEST_F(Admission, TruncatedModules) {
  std::vector<std::uint8_t> wasm = guest_bytes("echo");
  // 8 bytes (the header alone) is a valid empty module: Rejected, tested elsewhere.
  for (std::size_t cut : {std::size_t{9}, std::size_t{10}, std::size_t{20}, wasm.size() / 2, wasm.size() - 1}) {
    std::vector<std::uint8_t> part(wasm.begin(), wasm.begin() + static_cast<std::ptrdiff_t>(cut));
    auto p = rt_->load(part);
    ASSERT_FALSE(p.ok()) << "cut at " << cut;
    EXPECT_EQ(p.error().kind, ErrorKind::CompileFailed) << p.error().to_string();
  }
}

TEST_F(Admission, SameContentIsCached) {
  auto a = load_guest(*rt_, "echo");
  auto b = load_guest(*rt_, "echo");
  EXPECT_EQ(a.get(), b.get());
  LoadOptions other;
  other.limits.deadline = std::chrono::milliseconds(20);
  auto c = load_guest(*rt_, "echo", other);
  EXPECT_NE(a.get(), c.get());
  EXPECT_NE(a->content_hash(), c->content_hash());
  EXPECT_GT(c->version_id(), a->version_id());
}

TEST_F(Admission, InspectReportsEveryProblem) {
  auto report = rt_->inspect(guest_bytes("missing_export"));
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->admitted());
  EXPECT_GE(report->problems.size(), 2u);
  EXPECT_EQ(rt_->inspect(bytes("nope")).error().kind, ErrorKind::CompileFailed);
}

TEST_F(Admission, ModuleSizeLimit) {
  RuntimeConfig config;
  config.max_module_bytes = 64;
  auto small = make_runtime(config);
  auto p = small->load(guest_bytes("echo"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::Rejected);
  EXPECT_TRUE(contains(p.error().message, "exceeds the limit of 64")) << p.error().message;
}

TEST_F(Admission, LoadFileErrors) {
  auto p = rt_->load_file("/nonexistent/plugin.wasm");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::Io);
  EXPECT_TRUE(contains(p.error().message, "/nonexistent/plugin.wasm"));
  EXPECT_TRUE(contains(p.error().message, "No such file or directory")) << p.error().message;
}

// A directory used to throw std::ios_base::failure out of the API.
TEST_F(Admission, LoadFileOnADirectoryIsAnIoError) {
  auto p = rt_->load_file("/tmp");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::Io);
  EXPECT_EQ(p.error().phase, Phase::Load);
  EXPECT_TRUE(contains(p.error().message, "/tmp: Is a directory")) << p.error().message;
}

// /dev/zero has no size and no end: reading stops one byte past the limit.
TEST_F(Admission, LoadFileReadsNoMoreThanTheModuleLimit) {
  RuntimeConfig config;
  config.max_module_bytes = 4u << 20;
  auto small = make_runtime(config);
  const std::size_t before = rss_bytes();
  auto p = small->load_file("/dev/zero", named("zero"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(p.error().phase, Phase::Load);
  EXPECT_TRUE(contains(p.error().message, "max_module_bytes")) << p.error().message;
  EXPECT_LT(rss_bytes() - std::min(before, rss_bytes()), std::size_t{64} << 20);
}

// ---- Types the engine's C API cannot describe (it used to abort the host)

Bytes v128_func_type() { return WasmBuilder::func_type({WasmBuilder::kV128}, {}); }

TEST_F(Admission, V128ImportIsRejectedByName) {
  WasmBuilder m;
  m.vec_section(WasmBuilder::kType, 1, v128_func_type());
  Bytes import;
  put_name(import, "wasmplug");
  put_name(import, "log");
  import.insert(import.end(), {0x00, 0x00});
  m.vec_section(WasmBuilder::kImport, 1, import);
  auto p = rt_->load(m.bytes(), named("v128"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(p.error().phase, Phase::Admit);
  EXPECT_TRUE(contains(p.error().message, "import wasmplug.log has a v128 in its type")) << p.error().message;
  auto report = rt_->inspect(m.bytes());
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->admitted());
}

TEST_F(Admission, V128ExportIsRejectedByName) {
  WasmBuilder m;
  m.vec_section(WasmBuilder::kType, 1, v128_func_type());
  m.vec_section(WasmBuilder::kFunction, 1, {0x00});
  Bytes exp;
  put_name(exp, "helper");
  exp.insert(exp.end(), {0x00, 0x00});
  m.vec_section(WasmBuilder::kExport, 1, exp);
  m.vec_section(WasmBuilder::kCode, 1, WasmBuilder::body(0, {}));
  auto p = rt_->load(m.bytes(), named("v128"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::Rejected);
  EXPECT_TRUE(contains(p.error().message, "export helper has a v128 in its type")) << p.error().message;
  auto report = rt_->inspect(m.bytes());
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->exports.size(), 1u);
  EXPECT_EQ(report->exports[0].signature, "(v128) -> ()");
}

TEST_F(Admission, V128GlobalsAreRejectedByName) {
  // An exported v128 global, then an imported one.
  WasmBuilder exported;
  Bytes global{WasmBuilder::kV128, 0x00, 0xfd, 0x0c};
  global.insert(global.end(), 16, 0);
  global.push_back(0x0b);
  exported.vec_section(WasmBuilder::kGlobal, 1, global);
  Bytes exp;
  put_name(exp, "g");
  exp.insert(exp.end(), {0x03, 0x00});
  exported.vec_section(WasmBuilder::kExport, 1, exp);
  auto p = rt_->load(exported.bytes(), named("v128"));
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(contains(p.error().message, "export g has a v128 in its type")) << p.error().message;

  WasmBuilder imported;
  Bytes import;
  put_name(import, "env");
  put_name(import, "g");
  import.insert(import.end(), {0x03, WasmBuilder::kV128, 0x00});
  imported.vec_section(WasmBuilder::kImport, 1, import);
  auto q = rt_->load(imported.bytes(), named("v128"));
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().kind, ErrorKind::Rejected);
  EXPECT_TRUE(contains(q.error().message, "import env.g has a v128 in its type")) << q.error().message;
}

// ---- Compile cost is bounded before the engine compiles anything

class CompileCost : public ::testing::Test {
 protected:
  Error rejected(const Bytes& wasm, RuntimeConfig config = {}) {
    auto rt = make_runtime(std::move(config));
    auto p = rt->load(wasm, named("bomb"));
    EXPECT_FALSE(p.ok());
    if (p.ok()) {
      return {};
    }
    EXPECT_EQ(p.error().kind, ErrorKind::Rejected);
    EXPECT_EQ(p.error().phase, Phase::Admit);
    EXPECT_EQ(p.error().plugin, "bomb");
    auto report = rt->inspect(wasm);  // inspect is bounded the same way
    EXPECT_FALSE(report.ok());
    return p.error();
  }
};

// 1M tiny functions (4 MB) once took 163 s and 5.5 GB to compile.
TEST_F(CompileCost, AMillionFunctionsAreRejectedWithoutCompiling) {
  const Bytes wasm = WasmBuilder::many_functions(1'000'000, WasmBuilder::body(0, {}));
  const std::size_t before = rss_bytes();
  Error e = rejected(wasm);
  EXPECT_TRUE(contains(e.message, "defines 1000000 functions; the limit is 20000 (RuntimeConfig::compile.max_functions)"))
      << e.message;
  EXPECT_LT(rss_bytes() - std::min(before, rss_bytes()), std::size_t{64} << 20);
}

TEST_F(CompileCost, FunctionBodySize) {
  RuntimeConfig config;
  config.compile.max_function_bytes = 1000;
  Error e = rejected(WasmBuilder::many_functions(2, WasmBuilder::body(0, Bytes(2000, 0x01))), config);
  EXPECT_TRUE(contains(e.message, "function 0 has a body of 2002 bytes; the limit is 1000")) << e.message;
}

TEST_F(CompileCost, CodeBytesInAll) {
  RuntimeConfig config;
  config.compile.max_code_bytes = 10'000;
  Error e = rejected(WasmBuilder::many_functions(20, WasmBuilder::body(0, Bytes(1000, 0x01))), config);
  EXPECT_TRUE(contains(e.message, "bodies hold 20040 bytes of code; the limit is 10000")) << e.message;
}

TEST_F(CompileCost, LocalsPerFunctionAndInAll) {
  Error one = rejected(WasmBuilder::many_functions(1, WasmBuilder::body(4'000'000'000, {})));
  EXPECT_TRUE(contains(one.message, "function 0 declares 4000000000 locals; the limit is 10000")) << one.message;
  Error all = rejected(WasmBuilder::many_functions(60, WasmBuilder::body(9'000, {})));
  EXPECT_TRUE(contains(all.message, "declare 540000 locals in all; the limit is 500000")) << all.message;
}

TEST_F(CompileCost, Nesting) {
  Error e = rejected(WasmBuilder::many_functions(1, WasmBuilder::body(0, WasmBuilder::nested_blocks(100'000))));
  EXPECT_TRUE(contains(e.message, "function 0 nests blocks 100001 deep; the limit is 1000")) << e.message;
  // At the limit the module compiles (inspect reports on it: it is no plugin).
  auto rt = make_runtime();
  auto report = rt->inspect(WasmBuilder::many_functions(1, WasmBuilder::body(0, WasmBuilder::nested_blocks(999))));
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_FALSE(report->admitted());
}

TEST_F(CompileCost, Globals) {
  WasmBuilder m;
  Bytes globals;
  for (int i = 0; i < 10'001; ++i) {
    globals.insert(globals.end(), {WasmBuilder::kI32, 0x00, 0x41, 0x00, 0x0b});
  }
  m.vec_section(WasmBuilder::kGlobal, 10'001, globals);
  Error e = rejected(m.bytes());
  EXPECT_TRUE(contains(e.message, "defines 10001 globals; the limit is 10000")) << e.message;
}

TEST_F(CompileCost, LimitsAreValidated) {
  RuntimeConfig config;
  config.compile.max_nesting = 0;
  auto rt = Runtime::create(config);
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.error().kind, ErrorKind::InvalidArgument);
  EXPECT_TRUE(contains(rt.error().message, "RuntimeConfig::compile")) << rt.error().message;
}

}  // namespace
}  // namespace wasmplug::test
