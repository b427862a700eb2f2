// `wasmplug new NAME --lang L [--dir D]`: writes a plugin project from the
// templates embedded in the binary (templates.hpp).
#include "new.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "templates.hpp"

namespace wasmplug::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxNameLength = 64;

std::vector<std::string> languages() {
  std::vector<std::string> out;
  for (const TemplateFile& file : template_files()) {
    if (std::find(out.begin(), out.end(), file.language) == out.end()) {
      out.emplace_back(file.language);
    }
  }
  return out;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The name becomes a CMake target, a file name, a crate/package name and part
// of C string literals in the templates, so it is kept to a portable subset.
std::string name_problem(std::string_view name) {
  if (name.empty()) {
    return "it is empty";
  }
  if (name.size() > kMaxNameLength) {
    return "it is longer than " + std::to_string(kMaxNameLength) + " characters";
  }
  if (!is_alpha(name.front())) {
    return "it must start with a letter";
  }
  for (char c : name) {
    if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-') {
      return std::string("'") + c + "' is not allowed (letters, digits, '_' and '-' only)";
    }
  }
  // Targets CMake reserves or generates itself; a plugin target of that name
  // would not configure.
  static constexpr std::array<std::string_view, 10> kReserved = {
      "all", "clean", "help", "install", "test", "package", "package_source", "edit_cache", "rebuild_cache",
      "depend"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  if (std::find(kReserved.begin(), kReserved.end(), lower) != kReserved.end()) {
    return "it is a target name CMake reserves";
  }
  return {};
}

// {{key}} for a known key becomes its value; anything else, including other
// uses of braces (Rust format strings, Go templates), is copied as it is.
std::string render(std::string_view text, const std::vector<std::pair<std::string_view, std::string>>& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      break;
    }
    out.append(text.substr(pos, open - pos));
    const std::size_t close = text.find("}}", open + 2);
    const std::string_view key =
        close == std::string_view::npos ? std::string_view{} : text.substr(open + 2, close - open - 2);
    const auto match = std::find_if(values.begin(), values.end(), [&](const auto& kv) { return kv.first == key; });
    if (match == values.end()) {
      out.append("{{");
      pos = open + 2;
      continue;
    }
    out.append(match->second);
    pos = close + 2;
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

// Creates `path` exclusively (never replaces a file) and writes `content`.
bool write_new_file(const fs::path& path, std::string_view content) {
  std::FILE* file = std::fopen(path.c_str(), "wx");
  if (file == nullptr) {
    std::fprintf(stderr, "wasmplug new: cannot create %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  const bool wrote = std::fwrite(content.data(), 1, content.size(), file) == content.size();
  const int write_errno = errno;
  if (std::fclose(file) != 0 || !wrote) {
    std::fprintf(stderr, "wasmplug new: cannot write %s: %s\n", path.c_str(),
                 std::strerror(wrote ? errno : write_errno));
    return false;
  }
  return true;
}

}  // namespace

CLI::App* add_new_command(CLI::App& app, NewOptions& options) {
  const std::vector<std::string> langs = languages();
  std::string lang_list;
  for (const std::string& lang : langs) {
    lang_list += (lang_list.empty() ? "" : " | ") + lang;
  }
  CLI::App* cmd = app.add_subcommand("new", "Create a plugin project (CMake/SDK, sample input, README) to build and run");
  cmd->add_option("name", options.name, "Plugin name: a letter, then letters, digits, '_' or '-' (at most 64)")
      ->required();
  cmd->add_option("--lang", options.language, lang_list)->required()->check(CLI::IsMember(langs));
  cmd->add_option("--dir", options.dir, "Folder to create (default: ./NAME); must not exist or be empty");
  return cmd;
}

int scaffold(const NewOptions& options) {
  if (const std::string problem = name_problem(options.name); !problem.empty()) {
    std::fprintf(stderr, "wasmplug new: invalid plugin name '%s': %s\n", options.name.c_str(), problem.c_str());
    return kExitSetup;
  }
  const fs::path dir = options.dir.empty() ? fs::path(options.name) : fs::path(options.dir);
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      std::fprintf(stderr, "wasmplug new: %s exists and is not a directory\n", dir.c_str());
      return kExitSetup;
    }
    const bool empty = fs::is_empty(dir, ec);
    if (ec) {
      std::fprintf(stderr, "wasmplug new: cannot read %s: %s\n", dir.c_str(), ec.message().c_str());
      return kExitSetup;
    }
    if (!empty) {
      std::fprintf(stderr, "wasmplug new: %s is not empty; refusing to overwrite (choose another --dir)\n",
                   dir.c_str());
      return kExitSetup;
    }
  } else if (ec && ec != std::errc::no_such_file_or_directory) {
    std::fprintf(stderr, "wasmplug new: cannot access %s: %s\n", dir.c_str(), ec.message().c_str());
    return kExitSetup;
  }

  std::string ident = options.name;
  std::replace(ident.begin(), ident.end(), '-', '_');
  const std::vector<std::pair<std::string_view, std::string>> values = {
      {"name", options.name},
      {"name_ident", ident},
      {"lang", options.language},
      {"wasmplug_version", std::string(wasmplug_version())},
  };

  std::size_t written = 0;
  bool has_readme = false;
  for (const TemplateFile& file : template_files()) {
    if (file.language != options.language) {
      continue;
    }
    const fs::path path = dir / render(file.path, values);
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      std::fprintf(stderr, "wasmplug new: cannot create %s: %s\n", path.parent_path().c_str(), ec.message().c_str());
      return kExitSetup;
    }
    if (!write_new_file(path, render(file.content, values))) {
      return kExitSetup;
    }
    std::printf("  %s\n", path.c_str());
    ++written;
    has_readme = has_readme || path == dir / "README.md";
  }
  if (written == 0) {
    std::fprintf(stderr, "wasmplug new: no template for language '%s'\n", options.language.c_str());
    return kExitSetup;
  }
  std::printf("created %s: a %s plugin project '%s' (%zu files)%s%s\n", dir.c_str(), options.language.c_str(),
              options.name.c_str(), written, has_readme ? "; next steps are in " : "",
              has_readme ? (dir / "README.md").c_str() : "");
  return kExitOk;
}

}  // namespace wasmplug::cli
