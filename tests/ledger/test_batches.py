"""Verification checks a batch of events at a time: the batch checks must say exactly what
the per-event definitions say (:data:`ledger.events.TIME`, :data:`ledger.events.TOKEN`,
:func:`ledger.events.event_bytes`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger import merkle
from ledger.events import TIME, TOKEN, TOKEN_ALPHABET, event_bytes, leaf_hashes, well_formed

_TIME = st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\+00:00\Z")
_TOKEN = st.text(alphabet=TOKEN_ALPHABET, min_size=1, max_size=120)
_NEAR = st.sampled_from(["", "\n", '"', "\\", " ", "é", "٣", "\x00", "+01:00", "0", "T", "-", "a" * 121, "\u202e"])


@st.composite
def _damaged(draw: st.DrawFn, good: st.SearchStrategy[str]) -> str:
    """A value of the right form, or one with something inserted, replaced or cut."""
    value = draw(good)
    how = draw(st.sampled_from(["keep", "keep", "insert", "replace", "cut"]))
    at = draw(st.integers(0, len(value)))
    if how == "insert":
        return value[:at] + draw(_NEAR) + value[at:]
    if how == "replace":
        return value[:at] + draw(_NEAR) + value[at + 1 :]
    if how == "cut":
        return value[:at] + value[at + 1 :]
    return value


@given(
    st.lists(st.tuples(_damaged(_TIME), _damaged(_TOKEN), _damaged(_TOKEN), _damaged(_TOKEN)), min_size=1, max_size=6)
)
def test_a_batch_is_well_formed_exactly_when_every_event_is(events: list[tuple[str, str, str, str]]) -> None:
    one_by_one = all(TIME.fullmatch(time) and all(TOKEN.fullmatch(t) for t in tokens) for time, *tokens in events)
    times, types, actors, subjects = (list(column) for column in zip(*events, strict=True))
    assert well_formed(times, types, actors, subjects) == one_by_one


@given(
    st.lists(
        st.tuples(st.integers(1, 2**40), _TIME, _TOKEN, _TOKEN, _TOKEN, st.sampled_from(["{}", '{"a":[1,"é"]}'])),
        min_size=1,
        max_size=5,
    )
)
def test_batch_leaf_hashes_are_the_leaf_hashes_of_the_event_bytes(
    events: list[tuple[int, str, str, str, str, str]],
) -> None:
    rows = [(*event, b"") for event in events]
    assert leaf_hashes(rows) == [merkle.leaf_hash(event_bytes(*event)) for event in events]
