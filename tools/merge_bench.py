#!/usr/bin/env python3
"""Merges several `kernelcheck bench --out run.json` files into one Markdown table (median
of the runs' medians, with the range) and checks the speed targets on it.

    for i in $(seq 1 10); do .build/release/kernelcheck bench --runs 5 --out run-$i.json; done
    python3 tools/merge_bench.py run-*.json

Ratios (÷ PyTorch, ÷ numpy, ÷ best peer, ÷ own fwd) are taken within each run, then the
median and range of those per-run ratios are shown (the best peer of a row is, per run, the
fastest of PyTorch, ONNX Runtime and — for matmul — numpy): two timings of one run are seconds apart, two runs can be
minutes apart on a VM whose speed drifts. A target is met when the median ratio (or median
GFLOP/s) meets it; the table shows the range, so a reader sees how close each call was.

The speed targets (fractions of peak use the fp32 FMA peak per core that each run measured
on its machine, `machine.peak_gflops_per_core` in the bench JSON; the median over the runs):
- matmul 1024³ forward: ≥ 90 % of one core's peak on 1 thread, and ≥ 1.85× that on all
  threads, where it is also ≥ the best peer;
- every conv and transposed-conv layer and direction ≥ the best of PyTorch and ONNX Runtime
  at the same thread count (ONNX Runtime times forwards only);
- every backward ≥ 0.8× its own forward;
- every matmul ≥ numpy (OpenBLAS) at the same size, direction and thread count.
"""
import json
import statistics
import sys

# The field of `schemas/bench.schema.json` (machine) that holds the measured peak.
PEAK_KEY = "peak_gflops_per_core"


def peak_per_core(runs):
    """Median of the runs' measured peaks per core (GFLOP/s), or None when no run has one."""
    peaks = [run["machine"][PEAK_KEY] for run in runs
             if isinstance(run.get("machine"), dict) and run["machine"].get(PEAK_KEY, 0) > 0]
    return statistics.median(peaks) if peaks else None


def load(paths):
    return [json.load(open(path)) for path in paths]


def collect(runs):
    """(order of keys, tiled[key][run], reference[key] list, peers[(key, framework)][run])
    with key = (label, direction, threads)."""
    order, tiled, reference, peers = [], {}, {}, {}
    for index, run in enumerate(runs):
        labels = {}
        for record in run["records"]:
            # `bench --dtype` rows (bf16, f16, fp8) are not the float32 rows the targets are about.
            if record.get("dtype", "f32") != "f32":
                continue
            key = (record["label"], record["direction"], record["threads"])
            labels[record["problem"]] = record["label"]
            if record["implementation"] == "tiled":
                if key not in tiled:
                    order.append(key)
                    tiled[key] = {}
                tiled[key][index] = record["gflops"]
            elif record["implementation"] == "reference":
                reference.setdefault(key, []).append(record["gflops"])
        for peer in run.get("peers", []):
            label = labels.get(peer["problem"])
            if label is None:
                continue
            key = (label, peer["direction"], peer["threads"])
            peers.setdefault((key, peer["framework"]), {})[index] = peer["gflops"]
    return order, tiled, reference, peers


def starved(runs, share=0.85):
    """(label, direction, threads, run number from 1, cores used) of every tiled measurement
    whose process had less than `share` of its threads' cores (`cores_used` in the record):
    a thread waited for a CPU, so that sample timed the machine."""
    found = []
    for index, run in enumerate(runs):
        for record in run["records"]:
            used = record.get("cores_used")
            if record["implementation"] == "tiled" and used is not None and used < share * record["threads"]:
                found.append((record["label"], record["direction"], record["threads"], index + 1, used))
    return found


def best_peer(peers, key):
    """Per run, the fastest peer of the row `key`: {run: GFLOP/s}."""
    frameworks = ("torch", "onnxruntime", "numpy") if key[0].startswith("matmul") else ("torch", "onnxruntime")
    best = {}
    for framework in frameworks:
        for index, gflops in peers.get((key, framework), {}).items():
            best[index] = max(best.get(index, 0.0), gflops)
    return best


def ratios(numerator, denominator):
    """Per-run ratios over the runs that have both values."""
    return [numerator[i] / denominator[i] for i in numerator if i in denominator and denominator[i] > 0]


def spread(values, unit=""):
    if not values:
        return "–"
    digits = 2 if unit == "×" else 1
    median, low, high = statistics.median(values), min(values), max(values)
    return f"{median:.{digits}f}{unit} ({low:.{digits}f}–{high:.{digits}f})"


def table(order, tiled, reference, peers, peak_core=None):
    lines = [
        "| layer | dir | thr | tiled GFLOP/s median (range) | % peak | ref | PyTorch | numpy "
        "| ÷ PyTorch median (range) | ÷ numpy | ÷ own fwd | ONNX Runtime | ÷ best peer |",
        "| --- | --- | ---: | --- | ---: | ---: | --- | --- | --- | --- | --- | --- | --- |",
    ]
    previous = None
    for key in order:
        label, direction, threads = key
        values = tiled[key]
        torch, numpy = peers.get((key, "torch"), {}), peers.get((key, "numpy"), {})
        ort = peers.get((key, "onnxruntime"), {})
        forward = tiled.get((label, "fwd", threads))
        own = spread(ratios(values, forward), "×") if direction != "fwd" and forward else ""
        peak = f"{statistics.median(values.values()) / (peak_core * threads) * 100:.0f}%" if peak_core else "–"
        ref = f"{statistics.median(reference[key]):.1f}" if key in reference else "–"
        lines.append(
            f"| {label if label != previous else ''} | {direction} | {threads} | {spread(list(values.values()))} "
            f"| {peak} | {ref} | {spread(list(torch.values()))} | {spread(list(numpy.values()))} "
            f"| {spread(ratios(values, torch), '×')} | {spread(ratios(values, numpy), '×')} | {own} "
            f"| {spread(list(ort.values()))} | {spread(ratios(values, best_peer(peers, key)), '×')} |")
        previous = label
    return "\n".join(lines)


def targets(order, tiled, peers, peak_core=None):
    """(description, median, required, met) for every target that the runs measure."""
    checks = []

    def check(description, values, required):
        if values:
            median = statistics.median(values)
            checks.append((description, median, required, median >= required))

    threads = sorted({key[2] for key in order})
    one, most = threads[0], threads[-1]
    single = tiled.get(("matmul 1024³", "fwd", one))
    if single and one == 1:
        if peak_core:
            check("matmul 1024³ fwd, 1 thread: fraction of peak", [v / peak_core for v in single.values()], 0.90)
        multi = tiled.get(("matmul 1024³", "fwd", most))
        if multi and most > 1:
            check(f"matmul 1024³ fwd, {most} threads ÷ 1 thread", ratios(multi, single), 1.85)
            check(f"matmul 1024³ fwd, {most} threads ÷ best peer",
                  ratios(multi, best_peer(peers, ("matmul 1024³", "fwd", most))), 1.0)
    for key in order:
        label, direction, count = key
        values = tiled[key]
        name = f"{label} {direction}, {count} thread{'s' if count > 1 else ''}"
        if label.startswith("matmul"):
            check(f"{name} ÷ numpy", ratios(values, peers.get((key, "numpy"), {})), 1.0)
            continue
        check(f"{name} ÷ best of PyTorch and ONNX Runtime", ratios(values, best_peer(peers, key)), 1.0)
        forward = tiled.get((label, "fwd", count))
        if direction != "fwd" and forward:
            check(f"{name} ÷ own fwd", ratios(values, forward), 0.8)
    return checks


def main(paths):
    if not paths:
        sys.exit("usage: merge_bench.py run.json [run.json …]")
    runs = load(paths)
    order, tiled, reference, peers = collect(runs)
    print(f"{len(runs)} runs: {', '.join(paths)}\n")
    peak_core = peak_per_core(runs)
    print(f"measured fp32 peak per core: {peak_core:.1f} GFLOP/s\n" if peak_core
          else "no measured peak in these runs: % of peak is not shown\n")
    print(table(order, tiled, reference, peers, peak_core))
    checks = targets(order, tiled, peers, peak_core)
    missed = [c for c in checks if not c[3]]
    print(f"\nTargets: {len(checks) - len(missed)} of {len(checks)} met (median of the per-run values).")
    for description, median, required, _ in missed:
        print(f"- missed: {description}: {median:.3f} < {required}")
    hungry = starved(runs)
    if hungry:
        print(f"\n{len(hungry)} measurements had less than 85 % of their cores (their runs' values are in the medians):")
        for label, direction, threads, run, used in hungry:
            print(f"- {label} {direction}, {threads} threads, run {run}: {used:.2f} cores")
    if not peak_core and ("matmul 1024³", "fwd", 1) in tiled:
        print(f"- not checked: matmul 1024³ fwd, 1 thread: fraction of peak (no run has machine.{PEAK_KEY})")


if __name__ == "__main__":
    main(sys.argv[1:])
