#!/usr/bin/env python3
"""The independent oracle of KernelCheck's golden fixtures.

KernelCheck's own Swift code writes the INPUT tensors of every case (float32, drawn from its
seeded RNG); this script fills in the EXPECTED outputs of every direction with PyTorch on
the CPU in float64, so that expected values never come from the code under test.

    python3 tools/oracle.py fill FILE.h5 [FILE.h5 ...]   fill expected outputs (float64)
    python3 tools/oracle.py manifest fixtures/manifest.txt  check the manifest, print counts
                                                           and the fixture size estimate
    python3 tools/oracle.py --version                     print the oracle string

It has its own parser of the canonical problem strings (see fixtures/SCHEMA.md) and its own
resolution of padding modes, written from docs/design.md, not from the Swift descriptors.

Exit status: 0 success; 2 a problem with a file, group, problem string or manifest line
(one line on stderr names the file, group and reason; a file is left untouched when any of
its groups fails); 3 torch or h5py is missing.

This file is the command line; the ops, the problem-string parser, the HDF5 reading and
writing and the manifest check are the package kcoracle/ next to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The package sits next to this script; Python puts the script's folder on sys.path
# unless told not to (-P, -I, PYTHONSAFEPATH), so make sure of it.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from kcoracle.errors import OracleError  # noqa: E402
from kcoracle.hdf5io import fill_file, oracle_string  # noqa: E402
from kcoracle.manifest import manifest_report  # noqa: E402

INSTALL_HINT = (
    "oracle.py: torch and h5py are required: pip install -r tools/requirements-oracle.txt "
    "(torch must be the CPU wheel, torch==2.13.0+cpu; a plain `pip install torch` pulls GPU packages)"
)


def main(argv: list[str]) -> int:
    usage = ("usage: oracle.py fill FILE.h5 [FILE.h5 ...] | oracle.py manifest MANIFEST | oracle.py --version")
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        print(__doc__.strip().split("\n\n")[0])
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    if command == "manifest":
        if len(args) != 1:
            print(usage, file=sys.stderr)
            return 2
        try:
            print(manifest_report(args[0]))
        except (OracleError, OSError) as e:
            print(f"oracle.py: {e}", file=sys.stderr)
            return 2
        return 0
    if command not in ("fill", "--version"):
        print(f"oracle.py: unknown command '{command}'; {usage}", file=sys.stderr)
        return 2
    try:
        import h5py  # noqa: F401
        import numpy  # noqa: F401
        import torch
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 3
    if command == "--version":
        print(oracle_string())
        return 0
    if not args:
        print(usage, file=sys.stderr)
        return 2
    torch.set_num_threads(1)  # deterministic reduction order: regenerated files do not churn
    for path in args:
        try:
            fill_file(path)
        except OracleError as e:
            print(f"oracle.py: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
