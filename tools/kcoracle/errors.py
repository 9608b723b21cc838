"""The oracle's one error type and the check that raises it for an invalid problem field."""

from __future__ import annotations


class OracleError(Exception):
    """A problem with the input the oracle was given (exit status 2)."""


def require(ok: bool, op: str, key: str, reason: str):
    if not ok:
        raise OracleError(f"{op}: invalid {key}: {reason}")
