// Kestrel's host functions, module "env" (docs/profiles/kestrel.md). Field
// functions take (field_id) without an event handle: one event per call,
// passed in a KestrelCall host context.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "instance/call_state.hpp"
#include "host/host_func.hpp"
#include "host/kestrel_patterns.hpp"
#include "wasmplug/kestrel.hpp"

namespace wasmplug::detail {

/// Alerts one evaluation may emit before the call fails (LimitExceeded).
inline constexpr std::size_t kMaxAlertsPerEvaluation = 1024;

struct KestrelCall : HostContext {
  KestrelCall(const kestrel::Event* e, kestrel::PatternCache* p, std::string_view rule, std::vector<kestrel::Alert>* a)
      : HostContext{Kind::Kestrel}, event(e), patterns(p), rule_id(rule), alerts(a) {}
  const kestrel::Event* event;
  kestrel::PatternCache* patterns;
  std::string_view rule_id;
  std::vector<kestrel::Alert>* alerts;
};

[[nodiscard]] std::span<const HostFuncDef> kestrel_host_functions();

}  // namespace wasmplug::detail
