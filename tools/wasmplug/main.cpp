// wasmplug — run, inspect and vet WebAssembly plugins from the command line.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "new.hpp"

namespace {

// The options every subcommand that loads a plugin takes.
void add_plugin_options(CLI::App& cmd, wasmplug::cli::PluginSetup& setup) {
  cmd.add_option("plugin", setup.plugin, "Plugin module (.wasm)")->required();
  cmd.add_option("--hook", setup.hook, "transform | filter | observe")
      ->check(CLI::IsMember({"transform", "filter", "observe"}));
  cmd.add_option("--config", setup.config, "File handed to the plugin's wp_init (at most 1 MiB)");
  cmd.add_option("--isolation", setup.isolation, "fresh (new instance per call) | warm (pooled)")
      ->check(CLI::IsMember({"fresh", "warm"}));
  cmd.add_option("--deadline-ms", setup.deadline_ms, "Per-call deadline")->check(CLI::Range(1, 600'000));
  cmd.add_option("--memory-mb", setup.memory_mb, "Guest memory limit")->check(CLI::Range(1, 64));
  cmd.add_flag("--wasi", setup.wasi,
               "Allow wasmplug's WASI capability set (stdout/stderr to the log, clocks, random; no files, "
               "sockets or environment): Go, Rust wasip1 and C stdio plugins need it");
  cmd.add_option("--cache-dir", setup.cache_dir,
                 "Compiled-code cache (default: $XDG_CACHE_HOME/wasmplug/modules or ~/.cache/wasmplug/modules)");
  cmd.add_flag("--no-cache", setup.no_cache, "Compile the plugin without the compiled-code cache");
}

int run_cli(int argc, char** argv) {
  using namespace wasmplug::cli;
  CLI::App app{"wasmplug: run untrusted WebAssembly plugins over records"};
  app.require_subcommand(1);

  RunOptions run_opts;
  CLI::App* run_cmd = app.add_subcommand("run", "Stream newline-delimited records through a plugin hook");
  add_plugin_options(*run_cmd, run_opts.setup);
  run_cmd->add_option("--input,-i", run_opts.input, "Input file, - for stdin");
  run_cmd->add_option("--output,-o", run_opts.output, "Output file, - for stdout");
  run_cmd->add_option("--errors", run_opts.errors, "Failed records as JSON lines (default: stderr)");
  run_cmd->add_option("--format", run_opts.format, "jsonl (validated) | lines")
      ->check(CLI::IsMember({"jsonl", "lines"}));
  run_cmd->footer(
      "A record longer than the plugin's input limit (1 MiB) is a failed record (LimitExceeded), never held in\n"
      "memory. Exit status: 0 all records ok, 1 some record failed, 2 setup error or any failed write (named,\n"
      "with the reason), 130 / 143 stopped by SIGINT / SIGTERM: the record in flight finishes, the output is\n"
      "flushed and ends on a whole record, and the summary counts records read but not processed.");

  BenchOptions bench_opts;
  CLI::App* bench_cmd = app.add_subcommand("bench", "Latency percentiles and throughput of a hook");
  add_plugin_options(*bench_cmd, bench_opts.setup);
  bench_cmd->add_option("--input,-i", bench_opts.input,
                        "Records to cycle through, at most 64 MiB (default: one 64-byte JSON record)");
  bench_cmd->add_option("--threads", bench_opts.threads, "Calling threads")->check(CLI::Range(1, 256));
  bench_cmd->add_option("--seconds", bench_opts.seconds, "How long to run")->check(CLI::Range(0.1, 600.0));

  InspectOptions inspect_opts;
  CLI::App* inspect_cmd = app.add_subcommand("inspect", "Show the admission report of a module");
  inspect_cmd->add_option("plugin", inspect_opts.plugin, "Plugin module (.wasm), at most 32 MiB")->required();
  inspect_cmd->add_flag("--json", inspect_opts.json, "Machine-readable output");
  inspect_cmd->add_flag("--wasi", inspect_opts.wasi, "Admit as if loaded with --wasi");

  NewOptions new_opts;
  CLI::App* new_cmd = add_new_command(app, new_opts);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitSetup;
  }
  if (run_cmd->parsed()) {
    return run(run_opts);
  }
  if (bench_cmd->parsed()) {
    return bench(bench_opts);
  }
  if (new_cmd->parsed()) {
    return scaffold(new_opts);
  }
  return inspect(inspect_opts);
}

}  // namespace

int main(int argc, char** argv) {
  // The library reports errors as values; what can still throw here is the
  // standard library (allocation, streams). One line, never an abort.
  try {
    return run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wasmplug: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "wasmplug: internal error\n");
  }
  return wasmplug::cli::kExitSetup;
}
