"""pytest setup for tools/: puts this folder first on sys.path, so that the tests import
oracle.py, the kcoracle package and oracle_test_helpers.py whatever pytest's import mode."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
