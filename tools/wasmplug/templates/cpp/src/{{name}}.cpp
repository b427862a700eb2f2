// {{name}} — a wasmplug transform plugin in C++ (scaffolded by `wasmplug new`).
//
// Adds "tagged_by":"{{name}}" to every JSON object it is given:
//
//   {"user":"ann","action":"login"}  ->  {"user":"ann","action":"login","tagged_by":"{{name}}"}
//
// A blank record is dropped; a record that is not a JSON object fails the call
// (the host reports GuestError with the message below). Plugins are built
// without exceptions or RTTI; wasmplug::guest::fail() ends the call instead.
#include <string_view>

#include <wasmplug/guest.hpp>

namespace wg = wasmplug::guest;

namespace {

constexpr std::string_view kSpace = " \t\r\n";
constexpr std::string_view kTag = R"("tagged_by":"{{name}}")";

wg::Verdict tag(std::string_view in, wg::Output& out) {
  const std::size_t first = in.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return wg::Verdict::Drop;
  const std::string_view record = in.substr(first, in.find_last_not_of(kSpace) - first + 1);
  if (record.size() < 2 || record.front() != '{' || record.back() != '}') wg::fail("record is not a JSON object");

  // The members between the braces, without trailing blanks.
  const std::string_view body = record.substr(1, record.size() - 2);
  const std::size_t body_end = body.find_last_not_of(kSpace);
  out << '{';
  if (body_end != std::string_view::npos) out << body.substr(0, body_end + 1) << ',';
  out << kTag << '}';
  return wg::Verdict::Emit;
}

}  // namespace

WP_CPP_TRANSFORM(tag)
