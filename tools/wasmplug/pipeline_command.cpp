// wasmplug pipeline run|check FILE: a pipeline file through the library
// (wasmplug/pipeline.hpp). The pipeline runs on its own threads; this thread
// watches SIGINT/SIGTERM (the self-pipe of StopSignals), asks the pipeline
// to stop (the source stops reading, everything read is drained to the sink
// or the dead-letter file), refreshes the progress line on a terminal, and
// prints the summary: per stage, in = out + dropped + failed.
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "commands.hpp"
#include "interrupt.hpp"
#include "json_out.hpp"
#include "metrics_endpoint.hpp"
#include "wasmplug/pipeline.hpp"
#ifdef WASMPLUG_HAVE_KAFKA
#include "kafka/stages.hpp"
#endif

namespace wasmplug::cli {

namespace {

std::unique_ptr<Runtime> pipeline_runtime(const PipelineCommandOptions& options,
                                          std::shared_ptr<PrometheusMetrics> metrics = nullptr) {
  RuntimeConfig config;
  config.metrics = std::move(metrics);
  config.log_sink = [](const LogRecord& r) {
    std::fprintf(stderr, "[%.*s %.*s] %.*s\n", static_cast<int>(r.plugin.size()), r.plugin.data(),
                 static_cast<int>(to_string(r.level).size()), to_string(r.level).data(),
                 static_cast<int>(r.message.size()), r.message.data());
  };
  PluginSetup setup;
  setup.cache_dir = options.cache_dir;
  setup.no_cache = options.no_cache;
  config.module_cache.directory = cache_directory(setup);
  auto runtime = Runtime::create(config);
  if (!runtime) {
    complain(runtime.error().to_string());
    return nullptr;
  }
  return std::move(runtime).value();
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

bool print_summary(const std::string& file, const pipeline::PipelineStats& st, int signo, int status, bool json) {
  const double rate = st.seconds > 0 ? static_cast<double>(st.records_in) / st.seconds : 0.0;
  std::string text;
  if (json) {
    text = "{\"pipeline\":" + json_string(file) + ",\"records_in\":" + std::to_string(st.records_in) +
           ",\"out\":" + std::to_string(st.out) + ",\"dropped\":" + std::to_string(st.dropped) +
           ",\"failed\":" + std::to_string(st.failed) + ",\"threads\":" + std::to_string(st.threads) +
           ",\"seconds\":" + fixed(st.seconds, 3) + ",\"records_per_second\":" + fixed(rate, 0) +
           ",\"interrupted_by\":" + (signo != 0 ? json_string(signal_name(signo)) : std::string("null")) +
           ",\"exit_status\":" + std::to_string(status) + ",\"stages\":[";
    bool first = true;
    for (const pipeline::StageStats& s : st.stages) {
      text += (first ? "" : ",") + std::string("{\"name\":") + json_string(s.name) + ",\"type\":" +
              json_string(s.type) + ",\"in\":" + std::to_string(s.in) + ",\"out\":" + std::to_string(s.out) +
              ",\"dropped\":" + std::to_string(s.dropped) + ",\"failed\":" + std::to_string(s.failed) +
              ",\"busy_seconds\":" + fixed(s.busy_seconds, 3) + ",\"paused_seconds\":" + fixed(s.paused_seconds, 3) +
              "}";
      first = false;
    }
    text += "]}";
  } else {
    text = "records in: " + std::to_string(st.records_in) + ", out: " + std::to_string(st.out) +
           ", dropped: " + std::to_string(st.dropped) + ", failed: " + std::to_string(st.failed) + "; " +
           fixed(st.seconds, 3) + " s, " + fixed(rate, 0) + " records/s, " + std::to_string(st.threads) + " threads";
    for (const pipeline::StageStats& s : st.stages) {
      text += "\n  " + s.name + " (" + s.type + "): in " + std::to_string(s.in) + ", out " + std::to_string(s.out) +
              ", dropped " + std::to_string(s.dropped) + ", failed " + std::to_string(s.failed);
      if (s.paused_seconds >= 0.0005) {
        text += ", paused " + fixed(s.paused_seconds, 3) + " s";
      }
    }
  }
  return std::fprintf(stderr, "%s\n", text.c_str()) >= 0;
}

}  // namespace

int pipeline_check(const PipelineCommandOptions& options) {
  auto spec = pipeline::load_pipeline_file(options.file);
  if (!spec) {
    complain(spec.error().message);
    return kExitSetup;
  }
  auto runtime = pipeline_runtime(options);
  if (!runtime) {
    return kExitSetup;
  }
  auto processors = pipeline::check_pipeline(*spec, *runtime);
  if (!processors) {
    complain(processors.error().to_string());
    return kExitSetup;
  }
  std::fprintf(stderr, "%s: ok (source %s %s, %zu processor(s), sink %s %s)\n", options.file.c_str(),
               spec->source_type.c_str(), spec->source_path.c_str(), *processors, spec->sink_type.c_str(),
               spec->sink_path.c_str());
  (void)runtime->quiesce();
  return kExitOk;
}

int pipeline_run(const PipelineCommandOptions& options) {
  if (options.dry_run) {
    return pipeline_check(options);
  }
  StopSignals stop;  // from the start: a signal while plugins compile ends the run too
  auto spec = pipeline::load_pipeline_file(options.file);
  if (!spec) {
    complain(spec.error().message);
    return kExitSetup;
  }
  // Before the plugins load: a bad or busy --metrics-addr fails fast.
  auto endpoint = start_metrics_endpoint(options.metrics_addr);
  if (!endpoint) {
    return kExitSetup;
  }
  auto runtime = pipeline_runtime(options, endpoint->metrics);
  if (!runtime) {
    return kExitSetup;
  }
  pipeline::StageFactory stages;
#ifdef WASMPLUG_HAVE_KAFKA
  stages = &kafka::make_kafka_stages;
#endif
  auto built = pipeline::build_pipeline(*spec, *runtime, {}, stages);
  if (!built) {
    complain(built.error().to_string());
    return kExitSetup;
  }
  pipeline::Pipeline& p = **built;
  // The pipeline's per-stage series beside the plugins' call metrics; removed
  // (a scrape in progress waited for) before the pipeline is freed.
  std::uint64_t renderer = 0;
  if (endpoint->server) {
    renderer = endpoint->server->add_renderer([&p](std::string& out) { p.render_metrics(out); });
  }
  if (stop.received() != 0) {
    p.stop();  // nothing is read: the summary is all zeros
  }
  std::atomic<bool> finished{false};
  std::optional<Result<pipeline::PipelineStats>> result;
  std::thread runner([&] {
    result.emplace(p.run());
    finished = true;
  });
  const bool progress = isatty(STDERR_FILENO) != 0;
  bool stop_sent = false;
  while (!finished) {
    pollfd fd{stop.wake_fd(), POLLIN, 0};
    (void)::poll(&fd, 1, progress ? 500 : 100);
    if (stop.received() != 0 && !stop_sent) {
      stop_sent = true;
      p.stop();
    }
    if (progress && !finished) {
      const pipeline::PipelineStats st = p.stats();
      std::fprintf(stderr, "\r\033[K%llu in, %llu out, %llu dropped, %llu failed, queue %u/%u",
                   static_cast<unsigned long long>(st.records_in), static_cast<unsigned long long>(st.out),
                   static_cast<unsigned long long>(st.dropped), static_cast<unsigned long long>(st.failed),
                   st.queue_batches, st.queue_capacity);
    }
  }
  runner.join();
  if (progress) {
    std::fputs("\r\033[K", stderr);
  }
  int status = kExitOk;
  if (!result.has_value() || !*result) {
    complain(result.has_value() ? result->error().to_string() : std::string("the pipeline did not finish"));
    status = kExitSetup;
  }
  const pipeline::PipelineStats st = p.stats();
  if (status == kExitOk && st.failed != 0) {
    status = kExitFailures;
  }
  const int signo = stop.received();
  if (signo != 0) {
    std::fprintf(stderr, "wasmplug: interrupted by %s: the source stopped, every record read was drained\n",
                 signal_name(signo));
    if (status != kExitSetup) {
      status = 128 + signo;
    }
  }
  if (!print_summary(options.file, st, signo, status, options.json) && status < kExitSetup) {
    status = kExitSetup;
  }
  if (endpoint->server) {
    endpoint->server->remove_renderer(renderer);
  }
  built->reset();
  (void)runtime->quiesce();
  return status;
}

}  // namespace wasmplug::cli
