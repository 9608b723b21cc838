#!/usr/bin/env bash
# A full disk: `fixtures regenerate` and `nightly` writing into a small tmpfs must fail with
# one `kernelcheck: error:` line naming the reason (exit 2), leave the previous files intact
# and leave no temporary file behind — never a traceback, a crash or a half-written file.
#
#   tools/full_disk_test.sh        (needs root to mount a tmpfs; SKIPPED with exit 77 otherwise)
#
# Uses $KERNELCHECK or .build/debug/kernelcheck; regenerate needs the oracle's Python (torch,
# h5py) and is skipped without it.
set -uo pipefail
cd "$(dirname "$0")/.."
kc=${KERNELCHECK:-$PWD/.build/debug/kernelcheck}
[ -x "$kc" ] || swift build --product kernelcheck 2>&1 | tail -1
mnt=$(mktemp -d)
if ! mount -t tmpfs -o size=16k tmpfs "$mnt" 2>/dev/null; then
    rmdir "$mnt"
    echo "SKIPPED: cannot mount a tmpfs here (needs root)"
    exit 77
fi
trap 'umount "$mnt"; rmdir "$mnt"' EXIT
failures=0

# expect NAME STATUS STDERR_FILE: exit 2, exactly one error line naming ENOSPC, no crash.
expect_one_line() {
    local name=$1 status=$2 err=$3
    local lines
    lines=$(grep -c '^kernelcheck: error: ' "$err")
    if [ "$status" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -q -i 'space' "$err" \
        || grep -q -E 'Traceback|Fatal error|Backtrac|crashed' "$err"; then
        echo "FAIL: $name: exit $status, stderr:"; cat "$err"; failures=$((failures + 1))
    else
        echo "ok: $name: exit 2, $(grep '^kernelcheck: error: ' "$err" | cut -c1-160)"
    fi
}

# nightly: a previous set stays, nothing else appears.
mkdir "$mnt/night" && echo previous > "$mnt/night/report.json"
"$kc" nightly --out "$mnt/night" --phase fixtures --fixtures fixtures/activation.h5 --budget 30s \
    > /dev/null 2> "$mnt/../night.err" || status=$?
expect_one_line nightly "${status:-0}" "$mnt/../night.err"
[ "$(cat "$mnt/night/report.json")" = previous ] || { echo "FAIL: nightly replaced the previous report.json"; failures=$((failures + 1)); }
leftovers=$( (ls -A "$mnt"; ls -A "$mnt/night") | grep -c -E '\.tmp-|\.old-' || true)
[ "$leftovers" -eq 0 ] || { echo "FAIL: nightly left $leftovers temporary entries"; ls -A "$mnt" "$mnt/night"; failures=$((failures + 1)); }
rm -f "$mnt/../night.err"

# regenerate: the family file is larger than the filesystem.
if python3 -c 'import torch, h5py' 2>/dev/null; then
    rm -rf "$mnt/night"
    echo previous > "$mnt/conv.h5"
    status=0
    "$kc" fixtures regenerate --op conv --directory "$mnt" > /dev/null 2> "$mnt/../regen.err" || status=$?
    expect_one_line regenerate "$status" "$mnt/../regen.err"
    [ "$(cat "$mnt/conv.h5")" = previous ] || { echo "FAIL: regenerate replaced conv.h5"; failures=$((failures + 1)); }
    leftovers=$(ls -A "$mnt" | grep -c 'tmp' || true)
    [ "$leftovers" -eq 0 ] || { echo "FAIL: regenerate left $leftovers temporary files"; failures=$((failures + 1)); }
    rm -f "$mnt/../regen.err"
else
    echo "skipped: regenerate (no torch/h5py)"
fi

[ $failures -eq 0 ] && echo "PASS: full disk gives one error line and keeps the previous files" || echo "FAIL: $failures"
[ $failures -eq 0 ]
