// Test guest in C++ (guest.hpp over libc++): transform title-cases words,
// filter keeps inputs containing a configured needle (default "wasm"),
// input "fail" fails the call. The static std::string needs its constructor
// run (by _initialize), and std::vector needs operator new.
#include <wasmplug/guest.hpp>

#include <string>
#include <vector>

namespace wg = wasmplug::guest;

static std::string needle = "wasm";

static bool init(std::string_view config) {
  if (config.empty()) {
    return true;
  }
  if (config.size() > 64) {
    wg::log(WP_ERROR, "needle longer than 64 bytes");
    return false;
  }
  needle.assign(config);
  return true;
}
WP_CPP_INIT(init)

static wg::Verdict title(std::string_view in, wg::Output& out) {
  if (in == "fail") {
    wg::fail("asked to fail from C++");
  }
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start <= in.size()) {
    std::size_t end = in.find(' ', start);
    if (end == std::string_view::npos) {
      end = in.size();
    }
    std::string word(in.substr(start, end - start));
    if (!word.empty() && word[0] >= 'a' && word[0] <= 'z') {
      word[0] = static_cast<char>(word[0] - 32);
    }
    words.push_back(std::move(word));
    start = end + 1;
  }
  for (std::size_t i = 0; i < words.size(); ++i) {
    out << (i == 0 ? "" : " ") << words[i];
  }
  return wg::Verdict::Emit;
}
WP_CPP_TRANSFORM(title)

static bool contains(std::string_view in) { return in.find(needle) != std::string_view::npos; }
WP_CPP_FILTER(contains)
