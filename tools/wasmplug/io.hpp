// The CLI's file I/O lives in the library (src/pipeline/io.hpp), shared with
// pipelines; these are its names in the CLI.
#pragma once

#include "pipeline/io.hpp"

namespace wasmplug::cli {

using detail::flush_stdout;
using detail::format_size;
using detail::LineReader;
using detail::open_input;
using detail::OutFile;
using detail::read_file_bounded;

}  // namespace wasmplug::cli
