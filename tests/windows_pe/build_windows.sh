#!/bin/sh
# Build the Windows artifacts (windows/CMakeLists.txt) for the PE checks.
#   build_windows.sh SOURCE_ROOT BUILD_DIR
# Exit 77 (ctest: skipped) only when the mingw-w64 cross compiler is not installed;
# `make check` installs it, so there the checks always run.
set -eu
root=$1
dir=$2
if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || ! command -v x86_64-w64-mingw32-windmc >/dev/null 2>&1; then
    echo "SKIPPED: mingw-w64 is not installed (apt-get install gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64, or make windows)"
    exit 77
fi
cmake -S "$root/windows" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$root/windows/toolchain-x86_64-w64-mingw32.cmake" >/dev/null
cmake --build "$dir" -j2
