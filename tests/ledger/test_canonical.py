"""Canonical JSON is pinned: these bytes are what leaf hashes are computed over."""

from __future__ import annotations

import pytest

from ledger import canonical
from ledger.events import Event, event_bytes


def test_golden_bytes() -> None:
    value = {"z": 1, "a": [True, None, 'é\n"q"'], "m": {"b": -5, "a": ""}}
    assert canonical.encode(value) == '{"a":[true,null,"é\\n\\"q\\""],"m":{"a":"","b":-5},"z":1}'.encode()


def test_event_bytes_equal_the_canonical_json_of_the_event() -> None:
    payload = canonical.dumps({"number": "M-000001", "language": "nl", "amount_cents": 1250})
    e = Event(7, "2026-11-22T18:00:00.000001+00:00", "member.admitted", "user:1", "member:1", payload)
    whole = {
        "seq": 7,
        "time": e.time,
        "type": e.type,
        "actor": e.actor,
        "subject": e.subject,
        "payload": canonical.loads(payload),
    }
    assert e.canonical_bytes == canonical.encode(whole)
    assert event_bytes(7, e.time, e.type, e.actor, e.subject, payload) == e.canonical_bytes
    assert e.leaf_hash.hex() == "ceaf48389794c33c2e984e1221c2a9db2a0b868c52c4f8a942b22fd82c6a85e2"


@pytest.mark.parametrize("bad", [1.5, {"x": float("nan")}, {"é": 1}, {1: 2}, {"x": object()}])
def test_no_canonical_form(bad: object) -> None:
    with pytest.raises(canonical.CanonicalJsonError):
        canonical.dumps(bad)


def test_loads_refuses_floats_and_recognises_canonical_text() -> None:
    with pytest.raises(canonical.CanonicalJsonError):
        canonical.loads('{"a":1.0}')
    assert canonical.is_canonical('{"a":1,"b":[]}')
    assert not canonical.is_canonical('{"b":[],"a":1}')
    assert not canonical.is_canonical('{"a": 1}')
