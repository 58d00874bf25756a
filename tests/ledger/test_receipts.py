"""The receipt verifier on its own (no database): a receipt built by hand from a small tree
verifies; the reader is strict about the tlog-proof, checkpoint and signed-note syntax; an
included leaf that is not an event of this ledger, or not at its place, is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle, receipts, tiles
from ledger.events import event_bytes
from ledger.signing import Signer, note_verifier_key

LOG = "coop.example/ledger"
SIGNER = Signer(Ed25519PrivateKey.generate())
KEYS = [receipts.parse_verifier_key(note_verifier_key(LOG, SIGNER.public_key))]


def _event(seq: int) -> bytes:
    return event_bytes(seq, "2026-11-27T12:00:00.000000+00:00", "choices.changed", "user:1", "member:1", '{"n":1}')


def _receipt(leaves: list[bytes], index: int) -> str:
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    proof = [merkle.root_of_leaf_hashes(hashes[lo:hi]) for lo, hi in merkle.inclusion_ranges(index, len(leaves))]
    root = merkle.root_of_leaf_hashes(hashes)
    note = SIGNER.sign_note(LOG, tiles.checkpoint_text(LOG, len(leaves), root))
    return receipts.format_receipt(leaves[index], index, proof, note)


EVENTS = [_event(seq) for seq in range(1, 8)]


def test_a_receipt_of_each_event_of_a_tree_verifies() -> None:
    for index in range(len(EVENTS)):
        found = receipts.verify(_receipt(EVENTS, index), KEYS)
        assert (found.event.seq, found.tree_size, found.origin) == (index + 1, 7, LOG)
        assert found.event.payload == {"n": 1} and found.witnesses == ()


@pytest.mark.parametrize(
    "spoil",
    [
        lambda r: r.replace("index 2\n", "index 02\n"),
        lambda r: r.replace("\n", "\r\n"),
        lambda r: r[:-1],  # the last signature line without its newline
        lambda r: r + "\n",
        lambda r: r.replace("=\n", "\n", 1),  # base64 without its padding
        lambda r: r.replace("index 2\n", "index 2\n\n", 1),
        lambda r: r.replace("extra ", "extra  ", 1),
        lambda r: r.replace("\u2014 ", "-- ", 1),
    ],
)
def test_the_reader_is_strict(spoil: Callable[[str], str]) -> None:
    good = _receipt(EVENTS, 2)
    bad = spoil(good)
    assert bad != good
    with pytest.raises(receipts.ReceiptError) as refused:
        receipts.verify(bad, KEYS)
    assert refused.value.code == "malformed"


def test_an_included_leaf_must_be_an_event_at_its_place() -> None:
    for leaves, index in (([b'{"seq":1}', *EVENTS[1:]], 0), ([_event(5), *EVENTS[1:]], 0)):
        with pytest.raises(receipts.ReceiptError) as refused:
            receipts.verify(_receipt(leaves, index), KEYS)
        assert refused.value.code == "bad-event"
