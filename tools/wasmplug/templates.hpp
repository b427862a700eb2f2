// The project templates of `wasmplug new`, embedded at build time from
// tools/wasmplug/templates/<language>/ (embed_templates.cmake).
#pragma once

#include <span>
#include <string_view>

namespace wasmplug::cli {

/// One file of a template: `path` is relative to the new project's folder and,
/// like `content`, may hold placeholders (templates/README.md).
struct TemplateFile {
  std::string_view language;  ///< the folder under templates/: c, cpp, ...
  std::string_view path;
  std::string_view content;
};

/// Every embedded file of every language, grouped by language.
[[nodiscard]] std::span<const TemplateFile> template_files() noexcept;

/// The wasmplug version the templates were embedded with (the project version).
[[nodiscard]] std::string_view wasmplug_version() noexcept;

}  // namespace wasmplug::cli
