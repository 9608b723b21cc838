#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and ThreadSanitizer, each in its own scratch
# path (.build-asan, .build-tsan: sanitized objects must not mix with .build), and prints one
# summary line per run: tests run, passed/failed, wall time.
#
#   tools/sanitizers.sh [address|thread]...      (default: both)
#
# Environment: ASAN_FILTER / TSAN_FILTER — a `swift test --filter` regex to run a subset
# (default: the whole suite under ASan; under TSan too, which takes a while in a debug build
# on 2 cores — set TSAN_FILTER='Tiled|Verification|HDF5' for the multi-threaded parts only).
# libhdf5 and the Python oracle are not instrumented. ASan's leak checker (LSan) stays on,
# with two suppressions for leaks outside KernelCheck: Foundation's Process.run leaks a weak
# reference side table per child process, and XCTest's runner keeps its suite objects.
set -uo pipefail
cd "$(dirname "$0")/.."
kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(address thread)
status=0
summary=()
suppressions=$(mktemp)
trap 'rm -f "$suppressions"' EXIT
printf 'leak:libFoundation.so\nleak:libXCTest.so\n' > "$suppressions"
for kind in "${kinds[@]}"; do
    case $kind in
        address) scratch=.build-asan; filter=${ASAN_FILTER:-} ;;
        thread) scratch=.build-tsan; filter=${TSAN_FILTER:-} ;;
        *) echo "unknown sanitizer '$kind' (address or thread)"; exit 2 ;;
    esac
    log=$scratch/test.log
    mkdir -p "$scratch"
    args=(--sanitize="$kind" --scratch-path "$scratch")
    [ -n "$filter" ] && args+=(--filter "$filter")
    echo "== swift test ${args[*]}   (log: $log)"
    start=$(date +%s)
    # halt_on_error: the first report fails the run; TSan's second_deadlock_stack gives both
    # stacks of a lock-order inversion.
    # allocator_may_return_null: a corrupt length makes libhdf5 ask for gigabytes; like
    # glibc's malloc under the read probe's address-space cap, the allocator must return NULL
    # (libhdf5 then reports an error) instead of stopping the process.
    ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:allocator_may_return_null=1} \
    LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$suppressions:print_suppressions=0} \
    TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:allocator_may_return_null=1} \
        swift test "${args[@]}" > "$log" 2>&1
    rc=$?
    wall=$(( $(date +%s) - start ))
    reports=$(grep -c -E '^(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer|==[0-9]+==ERROR: LeakSanitizer)' "$log")
    result=$(grep -E '^. Test run with [0-9]+ tests' "$log" | tail -1)
    xctest=$(grep -E 'Executed [0-9]+ tests' "$log" | tail -1)
    line="$kind: exit $rc, ${result:-no Swift Testing summary} ${xctest:+| XCTest: $xctest} | sanitizer reports: $reports | wall ${wall}s${filter:+ | filter '$filter'}"
    summary+=("$line")
    echo "$line"
    [ "$rc" -eq 0 ] && [ "$reports" -eq 0 ] || status=1
    grep -E -A12 '^(==[0-9]+==ERROR|WARNING: ThreadSanitizer)' "$log" | head -60
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
