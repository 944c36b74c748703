#!/bin/sh
# The driver sources compile warning-free under clang as well as gcc (the Linux
# build) and mingw-w64 gcc (the Windows build, -Werror there too), checked and free.
#   driver_clang.sh SOURCE_ROOT GENERATED_HEADER_DIR
set -eu
root=$1
gen=$2
if ! command -v clang >/dev/null 2>&1; then
    echo "SKIPPED: clang is not installed"
    exit 77
fi
status=0
# The drivers the Windows build makes: donglpt.sys (with ddklib) and the reference parport.sys.
for f in "$root"/driver/*.c "$root"/ddklib/*.c "$root"/parport/*.c; do
    for dbg in 0 1; do
        clang -fsyntax-only -std=c11 -Wall -Wextra -Werror -fshort-wchar -D_GNU_SOURCE -DDBG=$dbg \
            -fno-builtin -I"$root/nthost/include/ddk" -I"$root/nthost/include/common" -I"$root/nthost/include" -I"$root/include" \
            -I"$root/ddklib" -I"$(dirname "$f")" -I"$gen" "$f" || { echo "FAILED: $f (DBG=$dbg)"; status=1; }
    done
done
exit $status
