#!/usr/bin/env bash
# libFuzzer run over KernelCheck's parsers of untrusted input (Sources/kernelcheck-fuzz):
# the problem-string parser and the HDF5 fixture reader. Every input must parse or throw a
# typed error; a trap, an overflow or a crash inside libhdf5 stops the run with a reproducer.
#
#   tools/fuzz.sh [SECONDS_PER_MODE]      (default 90; the nightly workflow runs 600)
#
# Its companion inside `swift test`, FuzzTests (mutants of real fixture files through the
# debug replayer), runs a short sample there; KERNELCHECK_FUZZ_BUDGET=<n> multiplies it:
#   KERNELCHECK_FUZZ_BUDGET=25 swift test --filter KernelCheckFixturesTests.FuzzTests   (nightly)
#
# Environment: FUZZ_WORKDIR (default .build-fuzz/work). Needs: Swift with libFuzzer (swift.org Linux toolchains ship
# libclang_rt.fuzzer), libhdf5; python3 with h5py only for the small one-case seed files.
#
# How it builds: `swift build -c release -Xswiftc -sanitize=fuzzer -DKERNELCHECK_LIBFUZZER`
# into its own scratch path .build-fuzz (coverage-instrumented, so it must not share .build).
# SwiftPM renames the executable's `main`, so the target calls `LLVMFuzzerRunDriver` itself
# (see Sources/kernelcheck-fuzz/FuzzMain.swift). A crash leaves `crash-<sha1>` in the work
# directory; replay it in a debug build with `swift run kernelcheck-fuzz <file>`.
#
# Each mode's corpus is kept in its own directory: the first byte of an input picks the mode
# (even: problem string, odd: fixture file), and libFuzzer mutates that byte too, so both
# runs visit both parsers; the seeds decide where each run starts.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-90}
work=${FUZZ_WORKDIR:-.build-fuzz/work}

echo "== building kernelcheck-fuzz (release, -sanitize=fuzzer) and its debug replayer"
swift build --product kernelcheck-fuzz 2>&1 | tail -1
swift build -c release --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DKERNELCHECK_LIBFUZZER --product kernelcheck-fuzz 2>&1 | tail -1
binary=.build-fuzz/release/kernelcheck-fuzz

rm -rf "$work"
mkdir -p "$work/seeds-problem" "$work/seeds-hdf5" "$work/corpus-problem" "$work/corpus-hdf5" "$work/tmp"

# Seeds, mode byte first. Problem strings: every manifest case (its canonical form).
n=0
grep -v '^#' fixtures/manifest.txt | awk -F'|' 'NF == 4 { gsub(/^ +| +$/, "", $2); print $2 }' |
while IFS= read -r problem; do
    n=$((n + 1))
    { printf '\x00'; printf '%s' "$problem"; } > "$work/seeds-problem/manifest-$n"
done
# Fixture files: the committed h5py sample and small one-case files cut from the fixtures
# (a whole fixture file is 70 kB–10 MB; small seeds mutate far faster).
cp_seed() { { printf '\x01'; cat "$1"; } > "$work/seeds-hdf5/$2"; }
cp_seed fixtures/testdata/h5py_sample.h5 h5py_sample
if python3 -c 'import h5py' 2>/dev/null; then
    python3 - "$work/seeds-hdf5" <<'PY'
import sys, h5py
out = sys.argv[1]
picks = [("fixtures/loss.h5", 2), ("fixtures/activation.h5", 2), ("fixtures/linear.h5", 1), ("fixtures/padproj_a.h5", 1)]
for path, count in picks:
    with h5py.File(path, "r") as src:
        names = sorted(src.keys(), key=lambda k: sum(d.size for d in src[k].values()))[:count]
        for i, name in enumerate(names):
            tmp = f"{out}/one.h5"
            with h5py.File(tmp, "w") as dst:
                dst.attrs.update(src.attrs)
                src.copy(src[name], dst, name=name)
            with open(tmp, "rb") as f, open(f"{out}/case-{path.split('/')[-1][:-3]}-{i}", "wb") as g:
                g.write(b"\x01" + f.read())
PY
    rm -f "$work/seeds-hdf5/one.h5"
else
    echo "(python3 h5py missing: seeding with loss.h5 only)"
    cp_seed fixtures/loss.h5 loss
fi
echo "seeds: $(ls "$work/seeds-problem" | wc -l) problem strings, $(ls "$work/seeds-hdf5" | wc -l) fixture files"

# Every regression input seeds the HDF5 run too (all are typed errors now).
cp tools/fuzz-regressions/hdf5-* "$work/seeds-hdf5/"

# Both modes must never crash: libFuzzer stops at the first crash and leaves the input.
# The HDF5 mode forks a probe process per input (HDF5ReadProbe) that meets libhdf5's own
# crashes, hangs and huge allocations, so a crash, timeout or OOM artifact is a bug. Each
# artifact is replayed in the debug build (no crash guard) to show what it does there.
status=0
for mode in problem hdf5; do
    echo "== mode $mode: ${seconds}s"
    log="$work/fuzz-$mode.log"
    art="$work/artifacts-$mode"
    mkdir -p "$art"
    flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=200000 -artifact_prefix="$art/" -print_final_stats=1)
    start=$(date +%s)
    set +e
    # SWIFT_BACKTRACE=enable=no: Swift's backtracer would catch the trap before libFuzzer
    # writes the crash input.
    # The probe's own timeout (5 s) stays under libFuzzer's per-input -timeout (10 s), and the
    # memory budget (1 GiB: what a corrupt file may make the reader allocate) under its
    # -rss_limit_mb (4 GiB); with the default 4 GiB budget, a file whose corrupt string length
    # claims 4 GB is within budget, gets read, and trips libFuzzer's RSS limit.
    SWIFT_BACKTRACE=enable=no KERNELCHECK_HDF5_PROBE_TIMEOUT=5 KERNELCHECK_MEMORY_BUDGET=1G KERNELCHECK_FUZZ_TMP="$PWD/$work/tmp" "$binary" "$work/corpus-$mode" "$work/seeds-$mode" \
        "${flags[@]}" > "$log" 2>&1
    rc=$?
    set -e
    end=$(date +%s)
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
    artifacts=$(ls "$art" | wc -l)
    bugs=0; hangs=0
    for a in "$art"/*; do
        [ -e "$a" ] || continue
        code=0
        out=$(SWIFT_BACKTRACE=enable=no KERNELCHECK_MEMORY_BUDGET=1G KERNELCHECK_FUZZ_TMP="$PWD/$work/tmp" timeout 20 .build/debug/kernelcheck-fuzz "$a" 2>&1) || code=$?
        if [ $code -eq 124 ]; then hangs=$((hangs + 1)); echo "  HANG   $a"
        elif [ $code -ne 0 ]; then bugs=$((bugs + 1)); echo "  CRASH (replay exit $code)  $a"; echo "$out" | tail -5
        else bugs=$((bugs + 1)); echo "  ARTIFACT that replays cleanly (a libFuzzer timeout or OOM?)  $a"
        fi
    done
    echo "mode=$mode libfuzzer_exit=$rc wall=$((end - start))s executions=${execs:-?} corpus=$(ls "$work/corpus-$mode" | wc -l) artifacts=$artifacts hangs=$hangs crashes=$bugs"
    # What the HDF5 inputs came to: the replayer's outcome classes over the final corpus.
    if [ "$mode" = hdf5 ]; then
        find "$work/corpus-hdf5" -type f | head -2000 | xargs -r env KERNELCHECK_MEMORY_BUDGET=1G KERNELCHECK_FUZZ_TMP="$PWD/$work/tmp" .build/debug/kernelcheck-fuzz 2>/dev/null |
            cut -f1 | sed 's/^read [0-9]* cases/read/' | sort | uniq -c | sort -rn | head -20
    fi
    [ "$rc" -eq 0 ] && [ "$artifacts" -eq 0 ] || status=1
done
exit $status
