// libFuzzer target: the C guest SDK's JSON reader and writer (sdk/c), built
// natively. Arbitrary bytes through parse, lookups, iteration, string and
// number decoding; every value read is written back with the writer and must
// parse again. The reader must never read outside the input (ASan) and never
// recurse (a deep input is refused, not a stack overflow).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>

#include <wasmplug/buf.h>
#include <wasmplug/json.h>

namespace {

void must(bool ok) {
  if (!ok) {
    std::abort();  // an invariant of the SDK broke: libFuzzer reports it with the input
  }
}

// Writes `v` back through the writer and checks the output is one JSON value.
void round_trip(wp_json_value v) {
  wp_buf out{};
  if (v.type == WP_JSON_STRING) {
    char text[256];
    std::size_t len = 0;
    if (wp_json_string(v, text, sizeof text, &len) == WP_JSON_OK) {
      must(wp_json_write_string(&out, text, len) != 0);
    }
  } else {
    must(wp_json_write_value(&out, v) != 0);
  }
  if (out.len > 0) {
    wp_json_value again{};
    must(wp_json_parse(out.data, out.len, &again) == WP_JSON_OK);
  }
  std::free(out.data);
}

void visit(wp_json_value v) {
  std::int64_t i = 0;
  double d = 0;
  (void)wp_json_int64(v, &i);
  (void)wp_json_double(v, &d);
  (void)wp_json_bool(v);
  round_trip(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wp_json_value root{};
  if (wp_json_parse(data, size, &root) != WP_JSON_OK) {
    return 0;
  }
  visit(root);
  wp_json_value found{};
  for (const char* path : {"a", "level", "a.b", "a.0.c", "0", "user.email"}) {
    if (wp_json_path(root, path, &found) == WP_JSON_OK) {
      visit(found);
    }
  }
  if (wp_json_index(root, 1, &found) == WP_JSON_OK) {
    visit(found);
  }
  wp_json_iter it{};
  if (wp_json_iter_init(root, &it) == WP_JSON_OK) {
    wp_json_value key{};
    wp_json_value value{};
    for (int n = 0; n < 1000 && wp_json_iter_next(&it, &key, &value) == WP_JSON_OK; ++n) {
      visit(value);
    }
  }
  return 0;
}
