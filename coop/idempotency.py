"""Idempotent writes: the same key with the same content returns the original; with
other content it is a conflict that names the fields that differ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coop.errors import Conflict


def require_same(requested: Mapping[str, Any], recorded: Mapping[str, Any], what: str, code: str) -> None:
    """Raise a 409 naming every field in which ``requested`` differs from ``recorded``."""
    differing = sorted(k for k in requested if requested[k] != recorded.get(k))
    if differing:
        raise Conflict(f"{what} was recorded already with other {', '.join(differing)}", code=code, fields=differing)
