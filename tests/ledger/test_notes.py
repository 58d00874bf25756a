"""The one reader of signed notes (ledger/notes.py): a checkpoint signed by the log and
cosigned by a witness reads and verifies; on each point where the three earlier readers
differed, the strictest rule holds, and each is refused here."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import tiles
from ledger.notes import (
    COSIGNATURE_V1,
    MAX_SIGNATURES,
    NoteError,
    cosignatures_in,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    verifier_of,
)
from ledger.signing import NOTE_ED25519, Signer

LOG = "coop.example/ledger"
SIGNER = Signer(Ed25519PrivateKey.generate())
WITNESS = Ed25519PrivateKey.generate()
COSIGNER = verifier_of("witness.example/w1", WITNESS.public_key(), COSIGNATURE_V1)
TEXT = tiles.checkpoint_text(LOG, 7, bytes(range(32)))


def _cosignature(text: str, timestamp: int = 1_790_000_000) -> str:
    signature = WITNESS.sign(f"cosignature/v1\ntime {timestamp}\n{text}".encode())
    blob = COSIGNER.key_hash + timestamp.to_bytes(8, "big") + signature
    return f"\u2014 {COSIGNER.name} {base64.b64encode(blob).decode()}\n"


def _signed() -> str:
    return SIGNER.sign_note(LOG, TEXT) + _cosignature(TEXT)


def test_a_signed_and_cosigned_checkpoint_reads_and_both_signatures_verify() -> None:
    checkpoint = parse_checkpoint(_signed())
    assert (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash) == (LOG, 7, bytes(range(32)))
    assert verifier_of(LOG, SIGNER.public_key).signed(checkpoint.note)
    assert COSIGNER.cosigned(checkpoint.note) == 1_790_000_000
    assert not COSIGNER.signed(checkpoint.note)  # a cosigner key is no note key
    assert COSIGNER.cosigned(parse_note(SIGNER.sign_note(LOG, TEXT))) is None
    [found] = cosignatures_in(COSIGNER, "a stray line\n" + _cosignature(TEXT), TEXT)
    assert found.timestamp == 1_790_000_000
    assert cosignatures_in(COSIGNER, _cosignature(TEXT.replace("\n7\n", "\n8\n")), TEXT) == []


def test_a_cosignature_dated_after_the_year_9999_does_not_verify() -> None:
    """Every reader turns a cosignature's time into a date: one no calendar holds is refused."""
    last = 253_402_300_799  # 9999-12-31T23:59:59Z
    assert COSIGNER.cosigned(parse_note(SIGNER.sign_note(LOG, TEXT) + _cosignature(TEXT, last))) == last
    assert COSIGNER.cosigned(parse_note(SIGNER.sign_note(LOG, TEXT) + _cosignature(TEXT, last + 1))) is None
    assert cosignatures_in(COSIGNER, _cosignature(TEXT, 2**62), TEXT) == []


def test_a_cosignature_whose_time_is_not_the_signed_one_does_not_verify() -> None:
    line = _cosignature(TEXT)
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[11] ^= 1  # the timestamp's last byte
    forged = f"\u2014 {COSIGNER.name} {base64.b64encode(bytes(blob)).decode()}\n"
    assert COSIGNER.cosigned(parse_note(SIGNER.sign_note(LOG, TEXT) + forged)) is None


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda n: n + n.splitlines()[-1] + "\n", id="the same key's signature line twice"),
        pytest.param(lambda n: n.removesuffix("\n"), id="no final newline"),
        pytest.param(lambda n: n.replace(f"\u2014 {LOG} ", f"\u2014 {LOG}\u00a0x ", 1), id="a space in a key name"),
        pytest.param(lambda n: n.replace(f"\u2014 {LOG} ", "\u2014 a+b ", 1), id="a plus in a key name"),
        pytest.param(lambda n: n.replace("=\n", "\n", 1), id="base64 without its padding"),
        pytest.param(lambda n: n.replace("\n", "\r\n", 1), id="a carriage return"),
        pytest.param(lambda n: n.replace("\n7\n", "\n07\n"), id="a tree size with a leading zero"),
        pytest.param(lambda n: n.replace("\n7\n", "\n10000000000000000000\n"), id="a tree size of 20 digits"),
        pytest.param(lambda n: n.replace("\n7\n", f"\n{2**63}\n"), id="a tree size beyond int64"),
        pytest.param(lambda n: n.replace(TEXT, TEXT + "\n", 1), id="an empty checkpoint line"),
    ],
)
def test_the_strictest_rule_of_the_earlier_readers_holds(change: object) -> None:
    note = change(_signed())  # type: ignore[operator]
    assert note != _signed()
    with pytest.raises(NoteError):
        parse_checkpoint(note)


def test_base64_with_stray_bits_and_too_many_signature_lines_are_refused() -> None:
    root = base64.b64encode(bytes(range(32))).decode()
    stray = root[:-2] + chr(ord(root[-2]) + 1) + "="  # decodes to the same bytes, but is not the canonical form
    assert base64.b64decode(stray) == bytes(range(32))
    with pytest.raises(NoteError, match="standard base64"):
        parse_checkpoint(_signed().replace(root, stray, 1))
    lines = [f"\u2014 k{n} {base64.b64encode(bytes(68)).decode()}\n" for n in range(MAX_SIGNATURES - 1)]
    assert len(parse_note(_signed() + "".join(lines[:-1])).signatures) == MAX_SIGNATURES
    with pytest.raises(NoteError, match="at most 100"):
        parse_note(_signed() + "".join(lines))


def _upper(hex_digits: str) -> str:
    """``hex_digits`` with a letter in upper case: the key is new each run, and its hash may
    hold no letter (one run in about forty), so a digit is made one first."""
    if hex_digits == hex_digits.upper():
        hex_digits = "a" + hex_digits[1:]
    return hex_digits.upper()


def test_a_verifier_key_is_read_strictly_and_only_of_the_types_asked_for() -> None:
    key = verifier_of(LOG, SIGNER.public_key).text
    assert parse_verifier_key(key).type == NOTE_ED25519
    assert parse_verifier_key(COSIGNER.text, (COSIGNATURE_V1,)) == COSIGNER
    name, hash_hex, blob = key.split("+", 2)
    for bad in [
        COSIGNER.text,  # a cosigner key where a note key is asked for
        f"{name}+{_upper(hash_hex)}+{blob}",  # the key hash in upper case
        f"{name}+{hash_hex[:6]}+{blob}",  # a short key hash
        f"{name}+{hash_hex}+{blob} ",  # surrounding space
        f"a b+{hash_hex}+{blob}",  # a space in the name
        f"{name}x+{hash_hex}+{blob}",  # the hash of another name
    ]:
        with pytest.raises(NoteError):
            parse_verifier_key(bad)
    with pytest.raises(NoteError):
        parse_verifier_key(key, (COSIGNATURE_V1,))
