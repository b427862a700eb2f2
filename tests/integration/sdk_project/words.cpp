// A C++ plugin using std::string and std::vector, built in Debug (-O0) by
// sdk_build_test.cmake: unoptimised libc++ code must not pull in anything
// that imports WASI (e.g. libc++'s aligned operator new -> std::terminate ->
// stdio).
#include <string>
#include <string_view>
#include <vector>

#include <wasmplug/guest.hpp>

namespace wg = wasmplug::guest;

static wg::Verdict words(std::string_view in, wg::Output& out) {
  std::vector<std::string> list;
  std::string word;
  for (char c : in) {
    if (c == ' ') {
      if (!word.empty()) list.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) list.push_back(word);
  out << std::string_view(std::to_string(list.size()));
  return wg::Verdict::Emit;
}
WP_CPP_TRANSFORM(words)
