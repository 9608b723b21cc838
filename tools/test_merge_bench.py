"""Tests of tools/merge_bench.py on hand-made runs (expected values worked out by hand)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import merge_bench  # noqa: E402

MATMUL = "matmul a=1024x1024 b=1024x1024 ta=0 tb=0"
CONV = "conv2d n=8 ic=64 oc=64 g=1 in=56x56 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=0"


def record(label, problem, direction, threads, gflops, implementation="tiled"):
    return {"label": label, "problem": problem, "direction": direction, "threads": threads,
            "gflops": gflops, "implementation": implementation}


def peer(framework, problem, direction, threads, gflops):
    return {"framework": framework, "problem": problem, "direction": direction, "threads": threads,
            "gflops": gflops}


def run(matmul_1t, matmul_2t, numpy_1t, conv_fwd, conv_bwd, torch_fwd, torch_bwd, peak=262.0):
    return {
        "machine": {merge_bench.PEAK_KEY: peak},
        "records": [
            record("matmul 1024³", MATMUL, "fwd", 1, matmul_1t),
            record("matmul 1024³", MATMUL, "fwd", 2, matmul_2t),
            record("matmul 1024³", MATMUL, "fwd", 1, 1.5, implementation="reference"),
            record("ResNet", CONV, "fwd", 1, conv_fwd),
            record("ResNet", CONV, "bwd_data", 1, conv_bwd),
        ],
        "peers": [
            peer("numpy", MATMUL, "fwd", 1, numpy_1t),
            peer("torch", CONV, "fwd", 1, torch_fwd),
            peer("torch", CONV, "bwd_data", 1, torch_bwd),
        ],
    }


def test_ratios_are_taken_within_each_run():
    # Run 0: 262/262 = 1.0; run 1: 200/250 = 0.8; run 2: 240/200 = 1.2 → median 1.0.
    assert merge_bench.ratios({0: 262, 1: 200, 2: 240}, {0: 262, 1: 250, 2: 200}) == [1.0, 0.8, 1.2]
    # A run without the peer is left out.
    assert merge_bench.ratios({0: 100, 1: 100}, {1: 50}) == [2.0]


def test_targets_median_of_runs():
    runs = [
        # 1 thread: 248.9 / 262 = 0.95; 2 threads: 480 / 248.9 = 1.93; numpy 248.9 / 240 = 1.037;
        # ResNet bwd 180 / 200 = 0.9 of fwd; fwd 200 / 210 = 0.952 of PyTorch; bwd 180 / 170 = 1.059.
        run(248.9, 480.0, 240.0, 200.0, 180.0, 210.0, 170.0),
        # 1 thread: 236 / 262 = 0.901; 2 threads: 400 / 236 = 1.695; numpy 236 / 250 = 0.944;
        # ResNet bwd 150 / 200 = 0.75 of fwd; fwd 200 / 190 = 1.053; bwd 150 / 160 = 0.9375.
        run(236.0, 400.0, 250.0, 200.0, 150.0, 190.0, 160.0),
        # 1 thread: 222.7 / 262 = 0.85; 2 threads: 450 / 222.7 = 2.02; numpy 222.7 / 200 = 1.1135;
        # ResNet bwd 170 / 200 = 0.85 of fwd; fwd 200 / 180 = 1.111; bwd 170 / 180 = 0.944.
        run(222.7, 450.0, 200.0, 200.0, 170.0, 180.0, 180.0),
    ]
    order, tiled, reference, peers = merge_bench.collect(runs)
    checks = {description: (round(median, 3), required, met)
              for description, median, required, met in merge_bench.targets(order, tiled, peers, merge_bench.peak_per_core(runs))}
    assert checks["matmul 1024³ fwd, 1 thread: fraction of peak"] == (0.901, 0.9, True)
    assert checks["matmul 1024³ fwd, 2 threads ÷ 1 thread"] == (1.928, 1.85, True)
    assert checks["matmul 1024³ fwd, 1 thread ÷ numpy"] == (1.037, 1.0, True)
    assert checks["ResNet fwd, 1 thread ÷ best of PyTorch and ONNX Runtime"] == (1.053, 1.0, True)
    assert checks["ResNet bwd_data, 1 thread ÷ best of PyTorch and ONNX Runtime"] == (0.944, 1.0, False)
    assert checks["ResNet bwd_data, 1 thread ÷ own fwd"] == (0.85, 0.8, True)
    # The 2-thread matmul has no numpy peer in these runs: no target is claimed for it.
    assert "matmul 1024³ fwd, 2 threads ÷ numpy" not in checks
    assert reference[("matmul 1024³", "fwd", 1)] == [1.5, 1.5, 1.5]


def test_table_rows():
    runs = [run(248.0, 480.0, 240.0, 200.0, 180.0, 210.0, 170.0),
            run(236.0, 400.0, 250.0, 200.0, 160.0, 190.0, 160.0)]
    lines = merge_bench.table(*merge_bench.collect(runs), merge_bench.peak_per_core(runs)).splitlines()
    # Header, separator, then the tiled keys in first-seen order: matmul 1 and 2 threads,
    # ResNet fwd and bwd_data.
    assert len(lines) == 2 + 4
    # Median of 248 and 236 is 242, 92 % of 262; numpy 240 and 250; ÷ numpy 1.033 and 0.944.
    # No ONNX Runtime here: the best peer is numpy.
    assert lines[2] == ("| matmul 1024³ | fwd | 1 | 242.0 (236.0–248.0) | 92% | 1.5 | – | 245.0 (240.0–250.0) "
                        "| – | 0.99× (0.94–1.03) |  | – | 0.99× (0.94–1.03) |")
    # The second row of a layer leaves the label out; 440 / 524 = 84 % of two cores.
    assert lines[3].startswith("|  | fwd | 2 | 440.0 (400.0–480.0) | 84% |")
    # bwd_data ÷ own fwd: 180 / 200 = 0.9 and 160 / 200 = 0.8 → 0.85; ÷ PyTorch 1.059 and 1.0.
    assert lines[5] == ("|  | bwd_data | 1 | 170.0 (160.0–180.0) | 65% | – | 165.0 (160.0–170.0) | – "
                        "| 1.03× (1.00–1.06) | – | 0.85× (0.80–0.90) | – | 1.03× (1.00–1.06) |")


def test_best_peer_is_the_fastest_framework_of_each_run():
    # Run 0: PyTorch 200, ONNX Runtime 250 → 250; run 1: PyTorch 300, ONNX Runtime 100 → 300.
    # Tiled 250 and 240: ÷ best peer 1.0 and 0.8, median 0.9 (a miss, though each run beats one peer).
    runs = [run(1, 1, 1, 250.0, 1, 200.0, 1), run(1, 1, 1, 240.0, 1, 300.0, 1)]
    runs[0]["peers"].append(peer("onnxruntime", CONV, "fwd", 1, 250.0))
    runs[1]["peers"].append(peer("onnxruntime", CONV, "fwd", 1, 100.0))
    order, tiled, _, peers = merge_bench.collect(runs)
    assert merge_bench.best_peer(peers, ("ResNet", "fwd", 1)) == {0: 250.0, 1: 300.0}
    checks = {c[0]: (round(c[1], 3), c[3]) for c in merge_bench.targets(order, tiled, peers)}
    assert checks["ResNet fwd, 1 thread ÷ best of PyTorch and ONNX Runtime"] == (0.9, False)
    # numpy counts for matmul rows only.
    assert merge_bench.best_peer(peers, ("matmul 1024³", "fwd", 1)) == {0: 1, 1: 1}


def test_peak_comes_from_the_runs():
    # Peaks 250, 262 and 300 measured by three runs: the median, 262, is the peak; runs
    # without a machine profile (older bench files) give no peak and no fraction-of-peak target.
    runs = [run(1, 1, 1, 1, 1, 1, 1, peak=p) for p in (250.0, 300.0, 262.0)]
    assert merge_bench.peak_per_core(runs) == 262.0
    old = [{k: v for k, v in r.items() if k != "machine"} for r in runs]
    assert merge_bench.peak_per_core(old) is None
    order, tiled, _, peers = merge_bench.collect(old)
    assert all("fraction of peak" not in c[0] for c in merge_bench.targets(order, tiled, peers, None))


def test_peak_key_is_the_schema_field():
    # The bench JSON names the peak as its schema does; a key of another spelling silently
    # dropped the fraction-of-peak target.
    import json
    schema_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schemas", "bench.schema.json")
    with open(schema_path) as handle:
        schema = json.load(handle)
    machine = schema["properties"]["machine"]
    assert merge_bench.PEAK_KEY in machine["required"]
    assert merge_bench.PEAK_KEY in machine["properties"]


def test_starved_measurements_are_listed():
    # Run 1: the 2-thread matmul kept 1.1 cores busy (< 0.85 · 2 = 1.7): listed. The 1-thread
    # one kept 0.9 (≥ 0.85): not. Run 2 has no cores_used (older bench files): nothing.
    runs = [run(100, 110, 1, 1, 1, 1, 1), run(100, 200, 1, 1, 1, 1, 1)]
    runs[0]["records"][0]["cores_used"] = 0.9
    runs[0]["records"][1]["cores_used"] = 1.1
    assert merge_bench.starved(runs) == [("matmul 1024³", "fwd", 2, 1, 1.1)]
