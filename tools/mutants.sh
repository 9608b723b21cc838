#!/usr/bin/env bash
# Mutation testing of the tiled kernels (docs/mutation-testing.md): plants each mutant of
# tools/mutants/library.toml in one scratch copy, rebuilds, runs the detectors, writes the
# kill matrix. `tools/mutants.sh --help` lists the options.
set -euo pipefail
exec python3 "$(dirname "$0")/mutants/driver.py" "$@"
