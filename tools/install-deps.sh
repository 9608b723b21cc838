#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for KernelCheck: libhdf5-dev (the HDF5 C
# library, found through pkg-config) and the Python side (h5py for interop tests; PyTorch's
# CPU wheel for the oracle that regenerates fixtures). Idempotent and quiet when all is there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! pkg-config --exists hdf5 2>/dev/null; then
    echo "install-deps: installing libhdf5-dev"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq libhdf5-dev pkg-config >/dev/null
fi
if ! python3 -c "import h5py, numpy, torch, pytest" 2>/dev/null; then
    echo "install-deps: installing the Python oracle's requirements"
    python3 -m pip install -q -r "$here/requirements-oracle.txt"
fi
