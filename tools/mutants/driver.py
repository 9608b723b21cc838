"""Mutation testing of the tiled kernels: plant each mutant of library.toml in one scratch
copy of the repository, rebuild `kernelcheck` (release, incremental), run every detector
with a time limit and record a kill matrix (JSON and Markdown, written atomically).

A mutant is killed by a detector when the detector exits 1 (a failed check) or dies of a
signal (a crash is a detection too); it survives when every detector exits 0. A mutant
whose edits do not apply is `inapplicable`, one that does not compile is `stillborn`:
neither counts as killed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

LIBRARY = Path(__file__).with_name("library.toml")
REQUIRED = ("id", "description", "path", "direction", "class", "edit")


@dataclass
class Edit:
    file: str
    find: str
    replace: str


@dataclass
class Mutant:
    id: str
    description: str
    path: str
    direction: str
    kind: str
    edits: list[Edit] = field(default_factory=list)


class LibraryError(Exception):
    """A malformed library entry (missing field, duplicate id, edit outside the tiled module)."""


def load_library(path: Path = LIBRARY) -> list[Mutant]:
    """Parses the library; raises LibraryError naming the entry at fault."""
    with open(path, "rb") as f:
        entries = tomllib.load(f).get("mutant", [])
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for n, e in enumerate(entries):
        missing = [k for k in REQUIRED if k not in e]
        if missing:
            raise LibraryError(f"mutant #{n + 1} ({e.get('id', '?')}) lacks {', '.join(missing)}")
        if e["id"] in seen:
            raise LibraryError(f"duplicate mutant id '{e['id']}'")
        seen.add(e["id"])
        edits = [Edit(x["file"], x["find"], x["replace"]) for x in e["edit"]]
        for x in edits:
            if not x.file.startswith("Sources/KernelCheckTiled/"):
                raise LibraryError(f"mutant '{e['id']}' edits {x.file}, outside Sources/KernelCheckTiled/")
            if x.find == x.replace:
                raise LibraryError(f"mutant '{e['id']}' has an edit that changes nothing")
        mutants.append(Mutant(e["id"], e["description"], e["path"], e["direction"], e["class"], edits))
    return mutants


def select(mutants: list[Mutant], ids: list[str] | None, sample: int | None, seed: int) -> list[Mutant]:
    """The mutants named by `ids` (in library order), else a seeded sample of `sample`, else all."""
    if ids:
        known = {m.id for m in mutants}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise LibraryError(f"unknown mutant id(s): {', '.join(unknown)}")
        return [m for m in mutants if m.id in ids]
    if sample is not None and sample < len(mutants):
        chosen = set(random.Random(seed).sample(range(len(mutants)), sample))
        return [m for i, m in enumerate(mutants) if i in chosen]
    return list(mutants)


def mutated_text(original: str, edit: Edit) -> str:
    """`original` with the edit applied; the find text must occur exactly once."""
    count = original.count(edit.find)
    if count != 1:
        raise LibraryError(f"{edit.file}: the find text occurs {count} times, not once: {edit.find[:60]!r}")
    return original.replace(edit.find, edit.replace)


def apply(mutant: Mutant, root: Path) -> dict[Path, str]:
    """Applies every edit under `root`; returns the original texts to restore. All or nothing."""
    originals: dict[Path, str] = {}
    staged: dict[Path, str] = {}
    for edit in mutant.edits:
        path = root / edit.file
        if not path.is_file():
            raise LibraryError(f"{edit.file}: no such file")
        originals.setdefault(path, path.read_text())
        staged[path] = mutated_text(staged.get(path, originals[path]), edit)
    for path, text in staged.items():
        write_atomically(path, text)
    return originals


def revert(originals: dict[Path, str]) -> None:
    for path, text in originals.items():
        write_atomically(path, text)


def write_atomically(path: Path, text: str) -> None:
    """Writes via a temporary file in the same directory and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# Detectors -------------------------------------------------------------------------------


def detectors(
    cases: int, medium_cases: int, seed: int, budget: float, tight: bool, problems: list[str] = (),
    large_cases: int = 0, large_budget: float | None = None,
) -> dict[str, list[str]]:
    """Detector name → kernelcheck arguments (without the binary). Each of `problems` adds a
    targeted detector `problem-N`: that one problem string, every direction, exact and bound.
    `large_cases` > 0 adds `large-exact`: a sweep of the large size class (the only one whose
    targeted draws cross the band split with 12 × 32 tiles and the panel blocks), drawing for
    `large_budget` seconds when given, else `budget`."""
    check = ["check", "--impl", "tiled", "--seed", str(seed), "--no-failure-db", "--format", "json"]
    limit = ["--budget", str(budget)]
    found = {
        "verify": ["verify", "--impl", "tiled", "--format", "json", "--fail-fast"],
        "exact": check + ["--mode", "exact", "--cases", str(cases)] + limit,
        "bound": check + ["--mode", "bound", "--cases", str(cases)] + limit,
        "medium-exact": check + ["--mode", "exact", "--size", "medium", "--cases", str(medium_cases)] + limit,
        "medium-bound": check + ["--mode", "bound", "--size", "medium", "--cases", str(medium_cases)] + limit,
    }
    if tight:
        found["tight"] = check + ["--mode", "tight", "--cases", str(cases)] + limit
    if large_cases > 0:
        found["large-exact"] = check + ["--mode", "exact", "--size", "large", "--cases", str(large_cases),
                                        "--budget", str(large_budget if large_budget is not None else budget)]
    for n, problem in enumerate(problems, 1):
        found[f"problem-{n}"] = check + ["--mode", "exact", "--problem", problem]
    return found


def first_failure(stdout: str) -> str | None:
    """The first failure's (shrunk) problem and direction from a verify/check JSON document."""
    try:
        doc = json.loads(stdout)
    except (json.JSONDecodeError, ValueError):
        return None
    failures = doc.get("failures") or []
    if not failures:
        return None
    f = failures[0]
    outcome = f.get("shrunk") or f
    problem, direction = outcome.get("problem"), outcome.get("direction")
    if problem is None:
        return None
    return f"{problem} [{direction}]" if direction else str(problem)


def classify(returncode: int | None) -> str:
    """killed (exit 1 or a signal), survived (exit 0), timeout (None) or error (exit 2, bad input)."""
    if returncode is None:
        return "timeout"
    if returncode == 0:
        return "survived"
    if returncode == 1 or returncode < 0 or returncode > 128:
        return "killed"
    return "error"


def time_limit(args: list[str], default_budget: float) -> float:
    """The wall-time limit of a detector: 3 × its `--budget` (`default_budget` without one)
    plus 60 s, room for shrinking every failure."""
    budget = float(args[args.index("--budget") + 1]) if "--budget" in args else default_budget
    return budget * 3 + 60


def run_detector(binary: Path, args: list[str], cwd: Path, limit: float) -> dict:
    start = time.monotonic()
    try:
        done = subprocess.run([str(binary), *args], cwd=cwd, capture_output=True, text=True, timeout=limit)
        code: int | None = done.returncode
        out = done.stdout
    except subprocess.TimeoutExpired:
        code, out = None, ""
    seconds = round(time.monotonic() - start, 1)
    status = classify(code)
    result = {"status": status, "seconds": seconds, "exit": code}
    if status == "killed":
        result["shrunk"] = first_failure(out) or ("crash" if code not in (1,) else None)
    result.update(counts(out))
    return result


def counts(stdout: str) -> dict[str, int]:
    """How many checks a check document drew (`problems_checked`) and how many failed: the kill
    rate of a detector, since a sweep draws until its budget and shrinks every failure."""
    try:
        doc = json.loads(stdout)
    except (json.JSONDecodeError, ValueError):
        return {}
    if not isinstance(doc, dict) or "problems_checked" not in doc:
        return {}
    return {"checked": doc["problems_checked"], "failures": len(doc.get("failures") or [])}


# The scratch copy ---------------------------------------------------------------------------


def sync_scratch(repo: Path, scratch: Path) -> None:
    """Makes `scratch` hold the repository's tracked files (rewriting only those that differ,
    so its own .build stays warm and rebuilds stay incremental)."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True).stdout.decode().split("\0")
    scratch.mkdir(parents=True, exist_ok=True)
    for name in filter(None, files):
        src, dst = repo / name, scratch / name
        if not src.is_file():
            continue
        if dst.is_file() and dst.read_bytes() == src.read_bytes():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def build(scratch: Path, limit: float) -> tuple[bool, float, str]:
    start = time.monotonic()
    try:
        done = subprocess.run(
            ["swift", "build", "-c", "release", "--product", "kernelcheck"], cwd=scratch,
            capture_output=True, text=True, timeout=limit)
        ok, log = done.returncode == 0, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        ok, log = False, "build timed out"
    return ok, round(time.monotonic() - start, 1), log


# The matrix ----------------------------------------------------------------------------------


def verdict(results: dict[str, dict]) -> str:
    statuses = [r["status"] for r in results.values()]
    if "killed" in statuses:
        return "killed"
    if "timeout" in statuses or "error" in statuses:
        return "undecided"
    return "survived"


def markdown(matrix: dict) -> str:
    names = matrix["detectors"]
    lines = [
        f"Kill matrix of {matrix['date']} ({matrix['cpu']}); {matrix['summary']}",
        "",
        "| mutant | path | class | status | " + " | ".join(names) + " | first shrunk problem |",
        "| --- | --- | --- | --- | " + " | ".join("---" for _ in names) + " | --- |",
    ]
    for m in matrix["mutants"]:
        cells = []
        for d in names:
            r = m["results"].get(d)
            cells.append("–" if r is None else f"{'✗ killed' if r['status'] == 'killed' else r['status']} {r['seconds']} s")
        shrunk = next((r.get("shrunk") for r in m["results"].values() if r.get("shrunk")), "")
        shrunk = (shrunk or "").replace("|", "\\|")
        path, kind = (str(m[k]).replace("|", "\\|") for k in ("path", "class"))
        lines.append(f"| `{m['id']}` | {path} | {kind} | {m['status']} | " + " | ".join(cells) + f" | {shrunk} |")
    return "\n".join(lines) + "\n"


def summarize(rows: list[dict]) -> str:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no mutants"


def write_matrix(matrix: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / "kill-matrix.json", json.dumps(matrix, indent=2, ensure_ascii=False) + "\n")
    write_atomically(out / "kill-matrix.md", markdown(matrix))


def cpu_model() -> str:
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip() + f", {os.cpu_count()} CPUs"
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs"


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(prog="tools/mutants.sh", description=__doc__.split("\n\n")[0])
    ap.add_argument("ids", nargs="*", help="mutant ids (default: all, or --sample)")
    ap.add_argument("--list", action="store_true", help="list the library and exit")
    ap.add_argument("--check", action="store_true", help="check that every mutant applies, then exit")
    ap.add_argument("--sample", type=int, help="run a seeded sample of this many mutants")
    ap.add_argument("--seed", type=int, default=1, help="seed of the sample and of the check sweeps")
    ap.add_argument("--budget", type=float, default=10, help="seconds each check detector draws problems")
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--medium-cases", type=int, default=300)
    ap.add_argument("--large-cases", type=int, default=0, help="add the large-exact detector with this many cases")
    ap.add_argument("--large-budget", type=float, help="seconds the large-exact detector draws (default: --budget)")
    ap.add_argument("--tight", action="store_true", help="add the tight-mode detector")
    ap.add_argument(
        "--problem", action="append", default=[],
        help="add a targeted detector checking this one problem string (repeatable)")
    ap.add_argument(
        "--detectors", help="comma-separated subset of verify,exact,bound,medium-exact,medium-bound,tight,large-exact,problem-N")
    ap.add_argument("--no-baseline", action="store_true", help="skip running the detectors on the unmutated tree")
    ap.add_argument("--scratch", type=Path, default=repo / ".build" / "mutants" / "scratch")
    ap.add_argument("--out", type=Path, default=repo / ".build" / "mutants")
    ap.add_argument("--require-killed", action="store_true", help="exit 1 unless every run mutant is killed")
    a = ap.parse_args(argv)
    try:
        mutants = load_library()
        if a.list:
            for m in mutants:
                print(f"{m.id:40} {m.path:34} {m.direction:22} {m.kind}")
            return 0
        chosen = select(mutants, a.ids, a.sample, a.seed)
        sync_scratch(repo, a.scratch)
        if a.check:
            for m in mutants:
                revert(apply(m, a.scratch))
            print(f"mutants: all {len(mutants)} apply cleanly")
            return 0
    except (LibraryError, OSError, subprocess.CalledProcessError) as e:
        print(f"mutants: {e}", file=sys.stderr)
        return 2
    found = detectors(a.cases, a.medium_cases, a.seed, a.budget, a.tight, a.problem, a.large_cases, a.large_budget)
    if a.detectors:
        wanted = a.detectors.split(",")
        bad = [d for d in wanted if d not in found]
        if bad:
            print(f"mutants: unknown detector(s) {', '.join(bad)}", file=sys.stderr)
            return 2
        found = {d: found[d] for d in wanted}
    limits = {d: time_limit(args, a.budget) for d, args in found.items()}
    binary = a.scratch / ".build" / "release" / "kernelcheck"
    # `kind`, `schema_version` and `planned` let a reader (`kernelcheck report merge
    # --kill-matrix`) refuse another document and tell a run that stopped early.
    matrix = {
        "kind": "kill_matrix",
        "schema_version": 1,
        "planned": len(chosen),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "command": "tools/mutants.sh " + " ".join(argv if argv is not None else sys.argv[1:]),
        "detectors": list(found),
        "commands": {d: "kernelcheck " + " ".join(v) for d, v in found.items()},
        "mutants": [],
    }
    ok, seconds, log = build(a.scratch, 3600)
    if not ok:
        print(f"mutants: the unmutated scratch copy does not build:\n{log[-2000:]}", file=sys.stderr)
        return 2
    print(f"mutants: clean build {seconds} s", flush=True)
    if not a.no_baseline:
        base = {d: run_detector(binary, args, a.scratch, limits[d]) for d, args in found.items()}
        matrix["baseline"] = base
        dirty = [d for d, r in base.items() if r["status"] != "survived"]
        shown = ", ".join(f"{d} {r['status']} {r['seconds']} s" for d, r in base.items())
        print(f"mutants: baseline {shown}", flush=True)
        if dirty:
            print(f"mutants: the unmutated tree fails {', '.join(dirty)}; kills would mean nothing", file=sys.stderr)
            return 2
    for m in chosen:
        row = {"id": m.id, "description": m.description, "path": m.path, "direction": m.direction,
               "class": m.kind, "results": {}}
        try:
            originals = apply(m, a.scratch)
        except LibraryError as e:
            row.update(status="inapplicable", error=str(e))
        else:
            try:
                ok, seconds, log = build(a.scratch, 1800)
                row["build_seconds"] = seconds
                if not ok:
                    row.update(status="stillborn", error=log[-800:])
                else:
                    for d, args in found.items():
                        row["results"][d] = run_detector(binary, args, a.scratch, limits[d])
                    row["status"] = verdict(row["results"])
            finally:
                revert(originals)
        matrix["mutants"].append(row)
        matrix["summary"] = summarize(matrix["mutants"])
        write_matrix(matrix, a.out)
        cells = " ".join(f"{d}={r['status'][0]}:{r['seconds']}" for d, r in row["results"].items())
        print(f"mutants: {m.id}: {row['status']} (build {row.get('build_seconds', '–')} s) {cells}", flush=True)
    matrix["summary"] = summarize(matrix["mutants"])
    write_matrix(matrix, a.out)
    print(f"mutants: {matrix['summary']}; matrix in {a.out}/kill-matrix.{{json,md}}")
    if a.require_killed and any(r["status"] != "killed" for r in matrix["mutants"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
