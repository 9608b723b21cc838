#!/usr/bin/env bash
# "Nothing lost": kills `kernelcheck fixtures regenerate` with SIGKILL at random moments and
# checks that every fixture file is still either byte-identical to the original or a complete
# new version (reads, verifies against the reference, holds every manifest case of its
# family), and that the temporary files an interrupted run leaves behind are ignored by
# `verify` and by the next `regenerate`. Then kills `kernelcheck nightly` near the end of its
# run, where it writes its reports: each report file must be the previous one or complete.
#
#   tools/kill_during_write_test.sh [ROUNDS] [SEED]     (defaults 6, 1)
#
# Works on a copy of the repository's fixtures/, manifest and oracle in a temp directory
# (KERNELCHECK_ROOT points the CLI there). Needs the oracle's Python (torch, h5py): without
# it the test is SKIPPED, says so, and exits 77. Uses .build/debug/kernelcheck (built if
# missing).
set -uo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
RANDOM=${2:-1}   # seeded delays: reruns kill at the same moments (modulo machine speed)
if ! python3 -c 'import torch, h5py' 2>/dev/null; then
    echo "SKIPPED: python3 with torch and h5py is not available (pip install -r tools/requirements-oracle.txt)"
    exit 77
fi
swift build --product kernelcheck 2>&1 | tail -1
kc=$PWD/.build/debug/kernelcheck
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/fixtures" "$root/tools"
cp fixtures/*.h5 fixtures/manifest.txt "$root/fixtures/"
cp -r tools/oracle.py tools/kcoracle "$root/tools/"
export KERNELCHECK_ROOT=$root
(cd "$root/fixtures" && sha256sum *.h5) > "$root/original.sha256"

# How long one full regeneration takes, to spread the kills over it.
start=$(date +%s%N)
"$kc" fixtures regenerate > "$root/full.log" 2>&1 || { echo "FAIL: an uninterrupted regenerate failed:"; cat "$root/full.log"; exit 1; }
full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "one uninterrupted regenerate: ${full_ms} ms"
(cd "$root/fixtures" && sha256sum *.h5) > "$root/regenerated.sha256"
if cmp -s "$root/original.sha256" "$root/regenerated.sha256"; then identical=yes; else identical=no; fi
echo "regenerated files byte-identical to the committed ones: $identical"

cases_in_manifest() { grep -v '^#' "$root/fixtures/manifest.txt" | awk -F'|' -v f="$1" 'NF == 4 { gsub(/ /, "", $1); if ($1 == f) n++ } END { print n + 0 }'; }

failures=0
for round in $(seq 1 "$rounds"); do
    delay_ms=$(( 100 + RANDOM % (full_ms > 200 ? full_ms : 200) ))
    "$kc" fixtures regenerate > "$root/round.log" 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    # SIGKILL the CLI and, with it, the oracle subprocess it may be waiting on.
    for child in $(pgrep -P "$pid"); do kill -KILL "$child" 2>/dev/null; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    leftovers=$(ls -A "$root/fixtures" | grep -E '^\..*\.h5\.tmp-' | tr '\n' ' ')
    changed=0; bad=0
    for f in "$root"/fixtures/*.h5; do
        name=$(basename "$f")
        if grep -q "$(sha256sum "$f" | cut -d' ' -f1)  $name" "$root/original.sha256" "$root/regenerated.sha256"; then continue; fi
        changed=$((changed + 1))
        family=${name%.h5}
        out=$("$kc" verify "$f" --impl reference 2>&1); rc=$?
        want=$(cases_in_manifest "$family")
        have=$(python3 -c "import h5py,sys; print(len([k for k in h5py.File(sys.argv[1],'r').keys()]))" "$f" 2>/dev/null || echo "?")
        if [ $rc -ne 0 ] || [ "$have" != "$want" ]; then
            bad=$((bad + 1)); echo "  FAIL $name: verify exit $rc, $have of $want cases"; echo "$out" | tail -3
        fi
    done
    # Leftover temporary files must not disturb a plain `verify` of the directory.
    "$kc" verify --impl reference > "$root/verify.log" 2>&1; verify_rc=$?
    echo "round $round: killed after ${delay_ms} ms; files neither original nor regenerated-identical: $changed (bad: $bad); leftover temp files: ${leftovers:-none}; verify of the directory: exit $verify_rc"
    [ $bad -eq 0 ] && [ $verify_rc -eq 0 ] || failures=$((failures + 1))
done

# A later run must succeed despite the leftovers (each temp name carries its writer's pid)
# and sweep them: every writer that left one is dead.
"$kc" fixtures regenerate > "$root/final.log" 2>&1; final_rc=$?
leftovers=$(ls -A "$root/fixtures" | grep -c -E '^\..*\.h5\.tmp-')
"$kc" verify --impl reference > "$root/verify.log" 2>&1; verify_rc=$?
echo "final regenerate after $rounds kills: exit $final_rc; then verify of the directory: exit $verify_rc; leftover temp files still present: $leftovers"
[ $final_rc -eq 0 ] && [ $verify_rc -eq 0 ] && [ $leftovers -eq 0 ] || failures=$((failures + 1))

# Part 2: the nightly run. A first run writes report.json/.md/.html into one directory; each
# round starts another run into the same directory and kills it near its end, where it writes
# (the kills are spread over 80–105 % of an uninterrupted run). Every report file must then be
# the previous run's bytes or a complete new file, and report.json must still be readable.
night=$root/night
nightly() { "$kc" nightly --out "$night" --phase fixtures --phase sweep --cases 400 --medium-cases 0 --budget 120s --seed "$1"; }
start=$(date +%s%N)
nightly 1 > "$root/night.log" 2>&1; rc=$?
night_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc -le 1 ] && [ -s "$night/report.json" ] || { echo "FAIL: an uninterrupted nightly run failed (exit $rc):"; tail -5 "$root/night.log"; exit 1; }
echo "one uninterrupted nightly run: ${night_ms} ms"
complete() {   # complete FILE: a whole report file of its kind
    case $1 in
        *.json) python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if "schemaVersion" in d or "schema_version" in d else 1)' "$1" ;;
        *.html) [ "$(tail -c 8 "$1")" = "</html>" ] || [ "$(tail -c 9 "$1" | tr -d '\n')" = "</html>" ] ;;
        *.md) [ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] ;;
    esac
}
for round in $(seq 1 "$rounds"); do
    for f in "$night"/report.*; do cp "$f" "$root/before.$(basename "$f")"; done
    delay_ms=$(( night_ms * 80 / 100 + RANDOM % (night_ms * 25 / 100 + 1) ))
    nightly $((round + 1)) > "$root/night-round.log" 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    kill -KILL "$pid" 2>/dev/null && killed=killed || killed="finished before the kill"
    wait "$pid" 2>/dev/null
    states=""; bad=0
    for f in "$night"/report.json "$night"/report.md "$night"/report.html; do
        name=$(basename "$f")
        if cmp -s "$f" "$root/before.$name"; then states="$states $name=previous"
        elif complete "$f"; then states="$states $name=new"
        else states="$states $name=BROKEN"; bad=$((bad + 1)); fi
    done
    "$kc" report diff "$night/report.json" "$night/report.json" > /dev/null 2>&1; diff_rc=$?
    leftovers=$(ls -A "$night" | grep -c -E '\.tmp-')
    echo "nightly round $round: $killed after ${delay_ms} ms;$states; report.json readable: $([ $diff_rc -le 1 ] && echo yes || echo "NO (exit $diff_rc)"); leftover temp files: $leftovers"
    [ $bad -eq 0 ] && [ $diff_rc -le 1 ] || failures=$((failures + 1))
done

if [ $failures -eq 0 ]; then echo "PASS: no file lost or half-written in $rounds + $rounds kills"; else echo "FAIL: $failures round(s) failed"; exit 1; fi
