# cmake -DTEMPLATE_DIR=... -DSOURCE_ROOT=... -DOUTPUT=... -DVERSION=... -P embed_templates.cmake
#
# Writes a C++ source holding every file under TEMPLATE_DIR/<language>/ (each
# folder is one language of `wasmplug new`; files directly in TEMPLATE_DIR,
# like README.md, are documentation and not embedded). Contents are stored as
# \xHH escapes, so any byte is safe. A file `X.include` holds a path relative
# to SOURCE_ROOT and is embedded as X with that file's contents: a template
# carries a guest SDK's sources without a second copy of them in the tree.
file(GLOB languages LIST_DIRECTORIES true RELATIVE "${TEMPLATE_DIR}" "${TEMPLATE_DIR}/*")
list(SORT languages)
set(arrays "")
set(entries "")
set(index 0)
foreach(language IN LISTS languages)
  if(NOT IS_DIRECTORY "${TEMPLATE_DIR}/${language}")
    continue()
  endif()
  file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${TEMPLATE_DIR}/${language}"
       "${TEMPLATE_DIR}/${language}/*")
  list(SORT files)
  if(NOT files)
    message(FATAL_ERROR "template folder ${TEMPLATE_DIR}/${language} has no files")
  endif()
  foreach(path IN LISTS files)
    if(NOT path MATCHES "^[A-Za-z0-9_./{}+-]+$")
      message(FATAL_ERROR "template file name ${language}/${path}: use letters, digits, . _ - + / and {{placeholders}} only")
    endif()
    set(source "${TEMPLATE_DIR}/${language}/${path}")
    if(path MATCHES "\\.include$")
      file(STRINGS "${source}" included LIMIT_COUNT 1)
      set(source "${SOURCE_ROOT}/${included}")
      string(REGEX REPLACE "\\.include$" "" path "${path}")
      if(NOT EXISTS "${source}")
        message(FATAL_ERROR "template file ${language}/${path}.include names ${included}, which does not exist")
      endif()
    endif()
    file(READ "${source}" hex HEX)
    string(LENGTH "${hex}" hex_len)
    math(EXPR size "${hex_len} / 2")
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
    string(APPEND arrays "constexpr char kFile${index}[] = \"${escaped}\";\n")
    string(APPEND entries "    {\"${language}\", \"${path}\", {kFile${index}, ${size}}},\n")
    math(EXPR index "${index} + 1")
  endforeach()
endforeach()
if(index EQUAL 0)
  message(FATAL_ERROR "no templates under ${TEMPLATE_DIR}")
endif()

file(CONFIGURE OUTPUT "${OUTPUT}.tmp" @ONLY CONTENT [=[
// Generated at build time by tools/wasmplug/embed_templates.cmake from
// tools/wasmplug/templates/: do not edit.
#include "templates.hpp"

namespace wasmplug::cli {
namespace {

@arrays@
constexpr TemplateFile kFiles[] = {
@entries@};

}  // namespace

std::span<const TemplateFile> template_files() noexcept { return kFiles; }

std::string_view wasmplug_version() noexcept { return "@VERSION@"; }

}  // namespace wasmplug::cli
]=])
# Only touch OUTPUT when it changed, so an unrelated reconfigure recompiles nothing.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
