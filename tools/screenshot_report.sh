#!/usr/bin/env bash
# Renders a nightly report.html in a real headless Chromium: takes a screenshot, fails on any
# console error or failed resource load, and checks that the DOM parsed (every inline SVG chart
# of the source survives into the DOM).
#
#   tools/screenshot_report.sh [REPORT_DIR] [OUT.png]
#
# Without REPORT_DIR it first writes a small report (release build, 45 s budget) into a
# temporary directory. The screenshot defaults to REPORT_DIR/report.png. Needs chromium
# (Debian: apt-get install -y chromium). Exit 0 clean, 1 console errors or a broken page,
# 2 no browser / no report.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-}"
if [ -z "$dir" ]; then
    dir="$(mktemp -d)"
    (cd "$root" && swift build -c release >/dev/null)
    # Exit 1 means failures were found: the report is still written and still worth a look.
    "$root/.build/release/kernelcheck" nightly --out "$dir" --budget 45s --cases 400 --medium-cases 10 \
        --gradient-cases 40 --bench-runs 1 >/dev/null || [ $? -eq 1 ]
fi
dir="$(cd "$dir" && pwd)"
html="$dir/report.html"
png="${2:-$dir/report.png}"
[ -f "$html" ] || { echo "screenshot_report: no $html" >&2; exit 2; }
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$browser" ] || { echo "screenshot_report: no chromium on PATH (apt-get install -y chromium)" >&2; exit 2; }

profile="$(mktemp -d)"
log="$(mktemp)"
trap 'rm -rf "$profile" "$log"' EXIT
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --no-default-browser-check
       --disable-extensions --disable-background-networking --user-data-dir="$profile")

"$browser" "${flags[@]}" --enable-logging=stderr --v=0 --window-size=1280,2000 \
    --screenshot="$png" "file://$html" 2>"$log" >/dev/null || true
dom="$("$browser" "${flags[@]}" --dump-dom "file://$html" 2>>"$log" || true)"

status=0
# Console messages are logged as "...:INFO:CONSOLE:line] message" (older builds: "CONSOLE(line)"); failed loads as net::ERR_*.
if grep -E ":CONSOLE|CONSOLE\(|Uncaught|net::ERR_|Refused to" "$log" >/dev/null; then
    echo "screenshot_report: console errors:" >&2
    grep -E ":CONSOLE|CONSOLE\(|Uncaught|net::ERR_|Refused to" "$log" >&2
    status=1
fi
if [ ! -s "$png" ]; then echo "screenshot_report: no screenshot written" >&2; status=1; fi
want="$(grep -o "<svg" "$html" | wc -l)"
got="$(printf '%s' "$dom" | grep -o "<svg" | wc -l)"
if [ "$want" -eq 0 ] || [ "$got" -ne "$want" ] || ! printf '%s' "$dom" | grep -q "</html>"; then
    echo "screenshot_report: DOM has $got of $want SVG charts" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "screenshot_report: $png ($(wc -c <"$png") bytes), $got SVG charts, no console errors"
exit "$status"
