# Sourced by the build and test scripts: cargo on PATH, and ccache (when
# installed) as the compiler launcher of every new build tree, with its cache
# in ~/.cache/ccache, outside the clone, so that a second clone on the same
# machine compiles little. CMake reads CMAKE_<LANG>_COMPILER_LAUNCHER from the
# environment when it first configures a build directory.
export PATH="$HOME/.cargo/bin:$PATH"
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR="$PWD" CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
fi
