#include "profiles.hpp"

#include <algorithm>

#include "loader.hpp"

namespace wasmplug::cli {

namespace {

const std::vector<ProfileEntry>& table() {
  static const std::vector<ProfileEntry> entries{
      {"native",
       AbiProfile::Native,
       {{"transform", Hook::Transform}, {"filter", Hook::Filter}, {"observe", Hook::Observe}},
       "wp_init",
       {"export wp_alloc", "export wp_free", "export wp_transform", "export wp_filter", "export wp_observe",
        "export wasmplug_abi_version_1", "import wasmplug.log", "import wasmplug.fail"},
       &load_hook_plugin},
      {"cc-lb",
       AbiProfile::CcLb,
       {{"filter", Hook::Filter}, {"shape", Hook::Transform}, {"observe", Hook::Observe}},
       "",
       {"export cc_lb_alloc", "export cc_lb_free", "export cc_lb_filter", "export cc_lb_shape",
        "export cc_lb_observe"},
       &load_hook_plugin},
      {"rustcdc",
       AbiProfile::Rustcdc,
       {{"transform", Hook::Transform}},
       "init",
       {"export alloc", "export transform", "export output_len", "import env.log", "import env.get_metric",
        "import env.record_metric"},
       &load_hook_plugin},
      {"kestrel",
       AbiProfile::Kestrel,
       {{"eval", Hook::Filter}},
       "",
       {"export pred_eval", "import env.event_get_i64", "import env.event_get_u64", "import env.event_get_f64",
        "import env.event_get_bool", "import env.event_get_str", "import env.event_has_field",
        "import env.string_contains", "import env.string_starts_with", "import env.string_ends_with", "import env.regex_match", "import env.glob_match", "import env.alert_emit"},
       &load_kestrel_rule},
  };
  return entries;
}

}  // namespace

std::span<const ProfileEntry> profiles() { return table(); }

const ProfileEntry* find_profile(std::string_view name) {
  for (const ProfileEntry& p : table()) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

const ProfileEntry& profile_of(AbiProfile abi) {
  for (const ProfileEntry& p : table()) {
    if (p.abi == abi) {
      return p;
    }
  }
  return table().front();
}

std::vector<std::string> profile_names() {
  std::vector<std::string> out;
  for (const ProfileEntry& p : table()) {
    out.emplace_back(p.name);
  }
  return out;
}

std::vector<std::string> all_hook_names() {
  std::vector<std::string> out;
  for (const ProfileEntry& p : table()) {
    for (const HookName& h : p.hooks) {
      if (std::ranges::find(out, h.name) == out.end()) {
        out.emplace_back(h.name);
      }
    }
  }
  return out;
}

const HookName* find_hook(const ProfileEntry& profile, std::string_view name) {
  if (name.empty()) {
    return &profile.hooks.front();
  }
  for (const HookName& h : profile.hooks) {
    if (h.name == name) {
      return &h;
    }
  }
  return nullptr;
}

std::string hook_list(const ProfileEntry& profile) {
  std::string out;
  for (const HookName& h : profile.hooks) {
    out += (out.empty() ? "" : ", ") + std::string(h.name);
  }
  return out;
}

ProfileGuess guess_profile(const AdmissionReport& report) {
  std::vector<std::string> present;
  present.reserve(report.exports.size() + report.imports.size());
  for (const ExternInfo& e : report.exports) {
    present.push_back("export " + e.name);
  }
  for (const ExternInfo& e : report.imports) {
    present.push_back("import " + e.module + "." + e.name);
  }
  ProfileGuess best;
  std::size_t best_score = 0;
  std::string best_marks;
  for (const ProfileEntry& p : table()) {
    std::size_t score = 0;
    std::string marks;
    for (std::string_view mark : p.marks) {
      if (std::ranges::find(present, mark) != present.end()) {
        ++score;
        marks += (marks.empty() ? "" : ", ") + std::string(mark);
      }
    }
    if (score > best_score) {
      best_score = score;
      best.profile = &p;
      best_marks = std::move(marks);
    }
  }
  if (best.profile == nullptr) {
    best.profile = &table().front();
    best.reason = "no export or import typical of any profile; native by default";
  } else {
    best.reason = std::to_string(best_score) + " mark(s) of the " + std::string(best.profile->name) +
                  " profile: " + best_marks;
  }
  return best;
}

}  // namespace wasmplug::cli
