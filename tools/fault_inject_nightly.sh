#!/usr/bin/env bash
# Fault injection for `kernelcheck nightly`'s output directory: SIGKILLs a tiny nightly at
# random moments, N times, and after each kill checks that --out holds a complete set —
# report.json, report.md and report.html all of the previous run (old-complete) or all of
# the killed run (new-complete), never a mix, never missing. Then: the next run sweeps what
# the killed ones left (no .out.tmp-PID / .out.old-PID / .report.*.tmp-PID remains), and
# two runs started together on the same --out: one writes, the other fails at once (exit 2,
# "is in use"), the set stays complete.
#
#   tools/fault_inject_nightly.sh [N] [SEED]      (defaults 50, 1)
#
# Uses $KERNELCHECK or .build/debug/kernelcheck (built if missing); needs python3 (stdlib).
# Prints one summary line; exit 0 when every check holds, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
RANDOM=${2:-1}   # seeded kill moments: reruns kill at the same points (modulo machine speed)
kc=${KERNELCHECK:-$PWD/.build/debug/kernelcheck}
[ -x "$kc" ] || swift build --product kernelcheck 2>&1 | tail -1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/out
tiny=(--phase sweep --cases 20 --medium-cases 0 --budget 2s)
failures=0

# The seed of each file of the set, "json md html", or "missing".
seeds() {
    python3 - "$out" <<'PY'
import json, re, sys, os
d = sys.argv[1]
try:
    j = json.load(open(os.path.join(d, "report.json")))["settings"]["seed"]
    md = re.search(r"seed (\d+)", open(os.path.join(d, "report.md")).readline()).group(1)
    html = re.search(r"seed (\d+)", open(os.path.join(d, "report.html")).read()).group(1)
    print(j, md, html)
except Exception as e:
    print("missing", type(e).__name__)
PY
}

"$kc" nightly --out "$out" --seed 1 "${tiny[@]}" >/dev/null 2>&1 || { echo "FAIL: the first run failed"; exit 1; }
old=1 oldc=0 newc=0
start=$(date +%s%N)
for i in $(seq 1 "$n"); do
    seed=$((i + 1))
    "$kc" nightly --out "$out" --seed "$seed" "${tiny[@]}" >/dev/null 2>&1 &
    pid=$!
    # 0–899 ms: a tiny run takes ~0.4–0.7 s here, so kills land before, during and after
    # the write (a run that already finished is a new-complete case too).
    sleep "0.$(printf %03d $((RANDOM % 900)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    read -r a b c <<<"$(seeds)"
    if [ "$a" = "$old" ] && [ "$b" = "$old" ] && [ "$c" = "$old" ]; then
        oldc=$((oldc + 1))
    elif [ "$a" = "$seed" ] && [ "$b" = "$seed" ] && [ "$c" = "$seed" ]; then
        newc=$((newc + 1)); old=$seed
    else
        echo "FAIL: kill $i (seed $seed, previous $old): set is '$a $b $c'"; failures=$((failures + 1))
        # Go on from whatever is there.
        [ "$a" != missing ] && old=$a
    fi
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
leftover=$(ls -A "$work" "$out" | grep -cE '\.tmp-|\.old-')
"$kc" nightly --out "$out" --seed 999 "${tiny[@]}" >/dev/null 2>&1 || { echo "FAIL: clean run failed"; failures=$((failures + 1)); }
swept=$(ls -A "$work" "$out" | grep -cE '\.tmp-|\.old-')
[ "$swept" -eq 0 ] || { echo "FAIL: $swept stale temporaries after a clean run"; failures=$((failures + 1)); }

# Two runs at once on the same --out.
"$kc" nightly --out "$out" --seed 1001 "${tiny[@]}" >"$work/a.log" 2>&1 &
pa=$!
"$kc" nightly --out "$out" --seed 1002 "${tiny[@]}" >"$work/b.log" 2>&1 &
pb=$!
wait "$pa"; ra=$?
wait "$pb"; rb=$?
busy=$(cat "$work/a.log" "$work/b.log" | grep -c "is in use")
read -r a b c <<<"$(seeds)"
if ! { [ "$((ra + rb))" -eq 2 ] && [ "$busy" -eq 1 ] && [ "$a" = "$b" ] && [ "$b" = "$c" ]; }; then
    echo "FAIL: concurrent runs: exits $ra/$rb, $busy 'is in use', set '$a $b $c'"; failures=$((failures + 1))
fi
printf 'fault_inject_nightly: %d kills in %d.%d s: %d old-complete, %d new-complete, %d mixed or missing; ' \
    "$n" "$((elapsed_ms / 1000))" "$((elapsed_ms % 1000 / 100))" "$oldc" "$newc" "$((n - oldc - newc))"
printf '%d temporaries left by kills, %d after the next run; concurrent runs: exits %d and %d (set %s)\n' \
    "$leftover" "$swept" "$ra" "$rb" "$a"
[ "$failures" -eq 0 ]
