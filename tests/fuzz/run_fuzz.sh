#!/bin/sh
# run_fuzz.sh FUZZER CORPUS WORKDIR — run one libFuzzer target for a bounded time.
#
# FUZZ_SECONDS (default 20) bounds the run. New inputs go to WORKDIR/new, never into
# the repository's CORPUS, which is read only; with FUZZ_MERGE=1 (make fuzz) the new
# inputs that add coverage are merged into CORPUS afterwards. A crash, a leak or a
# timeout leaves its input in WORKDIR/artifacts and fails the test: copy it into
# CORPUS (and the replay test in tests/reliability runs it from then on).
set -u
fuzzer=$1 corpus=$2 work=$3
secs=${FUZZ_SECONDS:-20}
name=$(basename "$fuzzer")

[ -x "$fuzzer" ] || { echo "$name: not built ($fuzzer)"; exit 1; }
mkdir -p "$corpus" "$work/new" "$work/artifacts"
rm -f "$work/new"/* "$work/artifacts"/*
seeds=$(ls "$corpus" | wc -l)

"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/new" "$corpus" >"$work/log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
crashes=$(ls "$work/artifacts" | wc -l)
found=$(ls "$work/new" | wc -l)
if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$rc" = 0 ] && [ "$found" -gt 0 ]; then
    "$fuzzer" -merge=1 "$corpus" "$work/new" >>"$work/log" 2>&1
fi
echo "$name: ${runs:-0} inputs in ${secs} s, corpus ${seeds} files, ${found} new, ${crashes} failures"
if [ "$rc" != 0 ] || [ "$crashes" != 0 ]; then
    tail -n 60 "$work/log"
    echo "$name: FAILED (exit $rc); inputs kept in $work/artifacts"
    exit 1
fi
exit 0
