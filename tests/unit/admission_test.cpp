// Admission: every rule, with the offending item named, before any guest code runs.
#include <gtest/gtest.h>

#include "guests.hpp"

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
}

}  // namespace
}  // namespace wasmplug::test
