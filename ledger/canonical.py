"""Canonical JSON: the one byte form in which the ledger of record hashes data.

The form is the subset of RFC 8785 (JSON Canonicalization Scheme) that the ledger
needs, with the cases where JCS is subtle ruled out instead of emulated:

* objects with keys sorted by code point, no insignificant white space;
* strings as UTF-8, escaping only what JSON requires (``"``, ``\\``, control characters);
* integers only: floats are refused, because no amount or count in the ledger may ever
  be a float, and because refusing them keeps the form identical to JCS;
* object keys are ASCII, so code-point order equals JCS's UTF-16 order;
* ``true``, ``false``, ``null``, arrays as given.

Golden tests pin the bytes; changing this module changes every leaf hash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]


class CanonicalJsonError(ValueError):
    """A value has no canonical JSON form (a float, a non-ASCII key, a foreign type)."""


_SCALARS = (type(None), bool, int, str)


def _ok(value: Any) -> bool:
    """Whether ``value`` has a canonical form (fast; :func:`_check` says where it has not)."""
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, list | tuple):
        for item in value:  # noqa: SIM110  (a loop, not all(): it runs over a million postings at a time)
            if not (isinstance(item, _SCALARS) or _ok(item)):
                return False
        return True
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and k.isascii() and _ok(v) for k, v in value.items())
    return False


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        raise CanonicalJsonError(f"{path}: floats have no canonical form here; use integers")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise CanonicalJsonError(f"{path}: object keys must be ASCII strings, got {key!r}")
            _check(item, f"{path}.{key}")
        return
    raise CanonicalJsonError(f"{path}: {type(value).__name__} is not JSON")


def dumps(value: Any) -> str:
    """The canonical JSON text of ``value``."""
    if not _ok(value):
        _check(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode(value: Any) -> bytes:
    """The canonical JSON bytes (UTF-8) of ``value``."""
    return dumps(value).encode("utf-8")


def loads(text: str | bytes) -> Any:
    """Parse JSON, refusing floats so that a round trip stays canonical."""

    def no_float(literal: str) -> Any:
        raise CanonicalJsonError(f"float {literal} in canonical JSON")

    return json.loads(text, parse_float=no_float, parse_constant=no_float)


def is_canonical(text: str) -> bool:
    """Whether ``text`` is exactly the canonical form of what it encodes."""
    try:
        return dumps(loads(text)) == text
    except (CanonicalJsonError, ValueError):
        return False
