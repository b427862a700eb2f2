// `wasmplug new`: scaffold a plugin project from an embedded template.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace wasmplug::cli {

struct NewOptions {
  std::string name;      ///< plugin name: [A-Za-z][A-Za-z0-9_-]*, at most 64 characters
  std::string language;  ///< a folder under tools/wasmplug/templates
  std::string dir;       ///< empty: ./NAME
};

/// Adds the `new` subcommand to `app`, filling `options`.
CLI::App* add_new_command(CLI::App& app, NewOptions& options);

/// Writes the project; returns the exit status (0, or 2 with a message on stderr).
int scaffold(const NewOptions& options);

}  // namespace wasmplug::cli
