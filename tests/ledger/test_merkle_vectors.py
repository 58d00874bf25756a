"""The Merkle verifiers against every RFC 9162 probe of transparency-dev/merkle's test data
(kept in ``vectors/rfc9162``, so a clone on its own runs them), and the tree against the
published roots."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ledger import merkle

VECTORS = Path(__file__).resolve().parent / "vectors" / "rfc9162"


def _probes(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).glob("*/*.json"))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _proof(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


def test_vectors_are_present() -> None:
    assert len(_probes("inclusion")) > 50
    assert len(_probes("consistency")) > 50


@pytest.mark.parametrize("path", _probes("inclusion"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_inclusion_probe(path: Path) -> None:
    probe = json.loads(path.read_text())
    call = lambda: merkle.verify_inclusion(  # noqa: E731
        _b64(probe["leafHash"]), probe["leafIdx"], probe["treeSize"], _proof(probe["proof"]), _b64(probe["root"])
    )
    if probe["wantErr"]:
        with pytest.raises(merkle.VerificationError):
            call()
    else:
        call()


@pytest.mark.parametrize("path", _probes("consistency"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_consistency_probe(path: Path) -> None:
    probe = json.loads(path.read_text())
    call = lambda: merkle.verify_consistency(  # noqa: E731
        probe["size1"], probe["size2"], _proof(probe["proof"]), _b64(probe["root1"]), _b64(probe["root2"])
    )
    if probe["wantErr"]:
        with pytest.raises(merkle.VerificationError):
            call()
    else:
        call()


def test_roots_of_published_leaves() -> None:
    data = json.loads((VECTORS / "roots.json").read_text())
    leaves = [merkle.leaf_hash(bytes.fromhex(h)) for h in data["leaf_inputs_hex"]]
    for size, want in enumerate(data["root_hex_by_tree_size"]):
        assert merkle.root_of_leaf_hashes(leaves[:size]).hex() == want
        stream = merkle.CompactRange()
        for leaf in leaves[:size]:
            stream.push(leaf)
        assert stream.root().hex() == want
