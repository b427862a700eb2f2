// The Prometheus text exposition format's small pieces, shared by every
// renderer (PrometheusMetrics, the pipeline's per-stage series): one escaping
// rule for label values and one way to print a float sample.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace wasmplug::detail {

/// A label value with `\`, `"` and newline escaped as the format requires.
inline std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

/// A sample value: shortest of 9 significant digits ("0.000299632", "1e-06").
inline std::string sample_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace wasmplug::detail
