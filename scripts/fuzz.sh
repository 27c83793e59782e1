#!/usr/bin/env bash
# Runs every libFuzzer target of a -DWITH_FUZZ=ON build for a short, bounded time each.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS. A crash, leak or sanitizer report fails the run.
set -euo pipefail
build=${1:-build-asan}
secs=${2:-20}
shopt -s nullglob
targets=("$build"/test/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz: no fuzz targets in $build/test (configure with -DWITH_FUZZ=ON)" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    mkdir -p "$work/$name"
    seeds=()
    [ -d "test/fuzz/corpus/$name" ] && seeds=("test/fuzz/corpus/$name")
    if ! "$t" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
            "$work/$name" "${seeds[@]}" > "$work/$name.log" 2>&1; then
        echo "fuzz: $name FAILED" >&2
        tail -n 40 "$work/$name.log" >&2
        exit 1
    fi
    echo "fuzz: $name ok ($(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$work/$name.log" | awk '{print $2}') runs in ${secs}s)"
done
