// wasmplug — run, inspect and vet WebAssembly plugins from the command line.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "metrics_endpoint.hpp"
#include "new.hpp"
#include "options.hpp"

namespace {

int run_cli(int argc, char** argv) {
  using namespace wasmplug::cli;
  CLI::App app{"wasmplug: run untrusted WebAssembly plugins over records"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("wasmplug ") + WASMPLUG_VERSION);
  // Every option's default appears in --help.
  app.option_defaults()->always_capture_default();

  RunOptions run_opts;
  CLI::App* run_cmd = app.add_subcommand("run", "Stream newline-delimited records through a plugin hook");
  add_plugin_options(*run_cmd, run_opts.setup);
  run_cmd->add_option("--input,-i", run_opts.input, "Input file, - for stdin");
  run_cmd->add_option("--output,-o", run_opts.output, "Output file, - for stdout");
  run_cmd->add_option("--errors", run_opts.errors, "Failed records as JSON lines (default: stderr, one line each)")
      ->default_str("");
  run_cmd->add_option("--max-error-record-bytes", run_opts.max_error_record_bytes,
                      "Longer failed records are stored in --errors as this many bytes, their length and SHA-256")
      ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 20));
  run_cmd->add_option("--alerts", run_opts.alerts, "kestrel: alerts as JSON lines (default: stderr, one line each)")
      ->default_str("");
  run_cmd->add_option("--format", run_opts.format, "jsonl (validated) | lines")
      ->check(CLI::IsMember({"jsonl", "lines"}));
  run_cmd->add_option("--threads", run_opts.threads,
                      "Threads doing the work, the one reading and writing included (default: the hardware's); "
                      "output keeps the input's order")
      ->check(CLI::Range(1, 256));
  add_metrics_option(*run_cmd, run_opts.metrics_addr);
  add_json_flag(*run_cmd, run_opts.json, "The summary (on stderr)");
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
  add_metrics_option(*bench_cmd, bench_opts.metrics_addr);
  add_json_flag(*bench_cmd, bench_opts.json, "The results");
  bench_cmd->footer("Exit status: 0 every call succeeded, 1 some call failed (the first failure on stderr), 2 setup error.");

  InspectOptions inspect_opts;
  CLI::App* inspect_cmd = app.add_subcommand("inspect", "Show the admission report of a module");
  inspect_cmd->add_option("plugin", inspect_opts.plugin, "Plugin module (.wasm), at most 32 MiB")->required();
  add_abi_option(*inspect_cmd, inspect_opts.abi, true);
  add_json_flag(*inspect_cmd, inspect_opts.json, "The report");
  inspect_cmd->add_flag("--wasi", inspect_opts.wasi, "Admit as if loaded with --wasi");

  PipelineCommandOptions pipe_opts;
  CLI::App* pipe_cmd = app.add_subcommand("pipeline", "Run a pipeline file: source, processors, sink");
  pipe_cmd->require_subcommand(1);
  CLI::App* pipe_run = pipe_cmd->add_subcommand("run", "Run a pipeline file (docs/pipelines.md)");
  CLI::App* pipe_check = pipe_cmd->add_subcommand("check", "Validate a pipeline file and load its plugins");
  for (CLI::App* sub : {pipe_run, pipe_check}) {
    sub->add_option("file", pipe_opts.file, "Pipeline file (TOML)")->required();
    sub->add_option("--cache-dir", pipe_opts.cache_dir, "Compiled-code cache directory")->default_str("");
    sub->add_flag("--no-cache", pipe_opts.no_cache, "Do not use the compiled-code cache");
  }
  pipe_run->add_flag("--dry-run", pipe_opts.dry_run, "Only check the file (as `pipeline check`)");
  add_metrics_option(*pipe_run, pipe_opts.metrics_addr);
  add_json_flag(*pipe_run, pipe_opts.json, "The summary (on stderr)");
  pipe_run->footer(
      "Exit status: 0 every record out or dropped, 1 some record failed (it is in the dead-letter file), 2 setup\n"
      "error or failed I/O, 130 / 143 stopped by SIGINT / SIGTERM: the source stops reading, every record read\n"
      "is processed and written (or dead-lettered), and the summary holds in = out + dropped + failed per stage.");
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
  if (pipe_run->parsed()) {
    return pipeline_run(pipe_opts);
  }
  if (pipe_check->parsed()) {
    return pipeline_check(pipe_opts);
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
