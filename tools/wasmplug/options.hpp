// Command-line options shared by the subcommands, declared in one place.
#pragma once

#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace wasmplug::cli {

/// --abi (the profile table's names); required when `guessable` is false.
void add_abi_option(CLI::App& cmd, std::string& abi, bool guessable);
/// The plugin argument and every option that shapes how it is loaded.
void add_plugin_options(CLI::App& cmd, PluginSetup& setup);
/// --json: machine-readable output.
void add_json_flag(CLI::App& cmd, bool& json, const std::string& what);

}  // namespace wasmplug::cli
