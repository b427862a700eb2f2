// The ABI profiles the CLI knows, as one table: the --abi name, the hook
// names a user types, which export takes --config, the exports and imports
// that identify a module written to it (for `inspect` without --abi), and how
// a plugin of the profile is loaded. A new profile is one more entry.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wasmplug/plugin.hpp"

namespace wasmplug::cli {

struct Loaded;
struct PluginSetup;

/// A hook as the profile's documentation names it, and the library hook it maps to.
struct HookName {
  std::string_view name;
  Hook hook;
};

struct ProfileEntry {
  std::string_view name;  ///< --abi value
  AbiProfile abi;
  std::vector<HookName> hooks;  ///< the first is the default
  std::string_view init_export;  ///< export that receives --config; empty: the profile has none
  std::vector<std::string_view> marks;  ///< "export NAME" / "import MODULE.NAME" typical of the profile
  /// Loads a plugin of this profile for `run` and `bench`; prints one line and
  /// returns nullopt on failure.
  std::optional<Loaded> (*load)(const PluginSetup& setup, const ProfileEntry& profile, const HookName& hook);
};

/// Every profile, native first.
[[nodiscard]] std::span<const ProfileEntry> profiles();
/// The entry named `name` (an --abi value), or null.
[[nodiscard]] const ProfileEntry* find_profile(std::string_view name);
/// The entry for a library profile (every AbiProfile has one).
[[nodiscard]] const ProfileEntry& profile_of(AbiProfile abi);
/// The --abi values, in table order.
[[nodiscard]] std::vector<std::string> profile_names();
/// Every hook name of every profile, once each (for --hook's check).
[[nodiscard]] std::vector<std::string> all_hook_names();
/// `name` among `profile`'s hooks (empty: its default), or null.
[[nodiscard]] const HookName* find_hook(const ProfileEntry& profile, std::string_view name);
/// "filter, shape, observe".
[[nodiscard]] std::string hook_list(const ProfileEntry& profile);

/// The profile a module was most likely written to, and why.
struct ProfileGuess {
  const ProfileEntry* profile = nullptr;
  std::string reason;
};
/// Scores each profile by how many of its marks the module's imports and
/// exports (from any profile's admission report) carry; the highest wins, ties
/// go to the earlier entry. No mark at all: native, saying so.
[[nodiscard]] ProfileGuess guess_profile(const AdmissionReport& report);

}  // namespace wasmplug::cli
