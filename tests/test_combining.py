"""Writers' requests done together: one batch at a time, each writer its own outcome."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Any

import pytest

from coop.combining import Combiner, Interrupted
from coop.db import Trouble, trouble
from tests.together import together


class _Work:
    """A unit of work that records the batches run in it; the first batch waits until
    ``hold_until`` writers wait behind it, so that the next batch holds them all."""

    def __init__(self, hold_until: int, fail_batch_with: int | None = None) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.hold_until = hold_until
        self.fail_batch_with = fail_batch_with
        self.started = threading.Event()
        self.combiner: Combiner[tuple[str, int], int] = Combiner(self.unit_of_work, self.run, lambda i: i[0], most=50)

    @contextmanager
    def unit_of_work(self) -> Iterator[Any]:
        yield None
        batch = self.batches[-1]
        if self.fail_batch_with is not None and any(n == self.fail_batch_with for _, n in batch):
            raise ConnectionError("the commit failed")

    def run(self, session: Any, items: Sequence[tuple[str, int]]) -> list[int | Exception]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.started.set()
            while len(self.combiner._waiting) < self.hold_until:
                threading.Event().wait(0.001)
        return [ValueError(f"no {n}") if n % 7 == 0 else n * 10 for _, n in items]

    def crowd(self, requests: list[tuple[str, int]]) -> list[int | Exception]:
        """The first request alone, and the others all at once while its batch runs."""
        first: list[int | Exception] = []
        leader = threading.Thread(target=lambda: first.append(self.submit(*requests[0])))
        leader.start()
        self.started.wait()
        rest = together(*(partial(self.submit, subject, n) for subject, n in requests[1:]))
        leader.join()
        return first + rest

    def submit(self, subject: str, n: int) -> int | Exception:
        try:
            return self.combiner.submit((subject, n))
        except Exception as exc:
            return exc


def test_writers_waiting_together_are_one_batch_and_each_gets_its_own_outcome() -> None:
    work = _Work(hold_until=11)
    outcomes = work.crowd([(f"member {n}", n) for n in range(1, 13)])
    assert len(work.batches) == 2 and len(work.batches[0]) == 1 and len(work.batches[1]) == 11
    for n, outcome in zip(range(1, 13), outcomes, strict=True):
        if n == 7:  # refused: only this writer hears it
            assert isinstance(outcome, ValueError) and str(outcome) == "no 7"
        else:
            assert outcome == n * 10


def test_a_subject_is_never_twice_in_one_batch_the_later_waits_for_the_next() -> None:
    work = _Work(hold_until=6)
    outcomes = work.crowd([(f"member {n % 3}", n) for n in range(1, 8)])
    assert sorted(n for batch in work.batches for _, n in batch) == list(range(1, 8))  # each once
    for batch in work.batches:
        subjects = [s for s, _ in batch]
        assert len(subjects) == len(set(subjects))
    assert len(work.batches) >= 3  # the six behind the first name each subject twice: two batches more
    assert [o for o in outcomes if not isinstance(o, Exception)] == [n * 10 for n in range(1, 8) if n != 7]


def test_a_unit_of_work_that_fails_fails_its_whole_batch_and_the_next_goes_on() -> None:
    work = _Work(hold_until=5, fail_batch_with=3)
    first = work.crowd([(f"member {n}", n) for n in range(1, 7)])
    assert first[0] == 10  # the first batch, alone, committed
    assert all(isinstance(o, ConnectionError) for o in first[1:])  # the commit of the second failed all of it
    assert work.submit("member 1", 8) == 80  # and the combiner goes on
    assert work.combiner._leading is False and work.combiner._waiting == []


def test_a_writer_alone_leads_its_own_batch() -> None:
    work = _Work(hold_until=0)
    assert work.submit("member 1", 2) == 20
    assert work.batches == [[("member 1", 2)]]
    with pytest.raises(ValueError, match="no 14"):
        work.combiner.submit(("member 1", 14))


def _alone(submit: Callable[[], Any]) -> list[Any]:
    """``submit()`` in a thread of its own, given three seconds: its outcome, or nothing if it hangs."""
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(submit()), daemon=True)
    t.start()
    t.join(3)
    return out


class _Interrupted(BaseException):
    """As KeyboardInterrupt, raised in the main thread by a signal."""


def test_a_writer_interrupted_while_waiting_leaves_the_line_and_the_others_go_on() -> None:
    started, release = threading.Event(), threading.Event()

    def run(session: Any, items: Sequence[int]) -> list[int | Exception]:
        if 1 in items:
            started.set()
            release.wait(5)
        return list(items)

    combiner: Combiner[int, int] = Combiner(nullcontext, run, lambda i: i, most=50)
    leader = threading.Thread(target=combiner.submit, args=(1,))
    leader.start()
    started.wait(5)

    def interrupt(*_: object) -> None:
        raise _Interrupted

    before = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(_Interrupted):
            combiner.submit(2)  # waits behind 1, and is interrupted
    finally:
        signal.signal(signal.SIGALRM, before)
    release.set()
    leader.join(5)
    assert _alone(lambda: combiner.submit(3)) == [3]
    assert combiner._waiting == [] and combiner._leading is False


def test_a_round_with_an_outcome_missing_is_not_kept() -> None:
    committed: list[bool] = []

    @contextmanager
    def unit_of_work() -> Iterator[None]:
        yield None
        committed.append(True)

    combiner: Combiner[int, int] = Combiner(unit_of_work, lambda s, items: [], lambda i: i, most=50)
    with pytest.raises(RuntimeError, match="0 outcomes for 1 requests"):
        combiner.submit(1)
    assert committed == []


def test_a_subject_that_cannot_be_told_apart_fails_its_writer_alone() -> None:
    combiner: Combiner[Any, Any] = Combiner(nullcontext, lambda s, items: list(items), lambda i: i, most=50)
    with pytest.raises(TypeError):
        combiner.submit([1])
    assert _alone(lambda: combiner.submit(2)) == [2]


def test_a_round_cut_short_raises_in_its_leader_and_tells_the_others_nothing_was_kept() -> None:
    started, release = threading.Event(), threading.Event()

    def run(session: Any, items: Sequence[int]) -> list[int | Exception]:
        if items == [1]:
            started.set()
            release.wait(5)
            return [1]
        raise SystemExit(3)  # the process is stopping

    combiner: Combiner[int, int] = Combiner(nullcontext, run, lambda i: i, most=50)
    got: dict[int, object] = {}

    def submit(n: int) -> None:
        try:
            got[n] = combiner.submit(n)
        except BaseException as exc:
            got[n] = exc

    first = threading.Thread(target=submit, args=(1,))
    first.start()
    started.wait(5)
    others = [threading.Thread(target=submit, args=(n,)) for n in (2, 3, 4)]
    for t in others:
        t.start()
    while len(combiner._waiting) < 3:
        threading.Event().wait(0.001)
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert got[1] == 1
    exits = [n for n in (2, 3, 4) if isinstance(got[n], SystemExit)]
    assert len(exits) == 1  # the leader of the second round
    assert all(
        isinstance(got[n], Interrupted) and trouble(got[n]) is Trouble.unavailable for n in (2, 3, 4) if n not in exits
    )


def _back_again(gather: float, others_come_back: bool) -> list[list[int]]:
    """A round of four; then one of its writers asks again at once and the other three (if
    ``others_come_back``) a moment later: the rounds run."""
    batches: list[list[int]] = []
    started, release = threading.Event(), threading.Event()

    def run(session: Any, items: Sequence[int]) -> list[int | Exception]:
        batches.append(list(items))
        if items == [0]:  # the first round holds the four of the second behind it
            started.set()
            release.wait(5)
        return list(items)

    combiner: Combiner[int, int] = Combiner(nullcontext, run, lambda i: i, most=50, gather=gather)
    first = threading.Thread(target=combiner.submit, args=(0,))
    first.start()
    started.wait(5)
    four = [threading.Thread(target=combiner.submit, args=(n,)) for n in (1, 2, 3, 4)]
    for t in four:
        t.start()
    while len(combiner._waiting) < 4:
        threading.Event().wait(0.001)
    release.set()
    for t in [first, *four]:
        t.join(5)
    assert batches == [[0], [1, 2, 3, 4]]
    again = threading.Thread(target=combiner.submit, args=(11,))
    again.start()
    while not combiner._waiting and len(batches) == 2:  # 11 waits, or went on already
        threading.Event().wait(0.001)
    threading.Event().wait(0.1)  # the others are on their way: slower than a round of one
    if others_come_back:
        together(*(partial(combiner.submit, n) for n in (12, 13, 14)))
    again.join(5)
    assert not again.is_alive()
    return [sorted(batch) for batch in batches[2:]]


def test_a_leader_waits_a_moment_for_the_writers_of_the_round_before_to_ask_again() -> None:
    assert _back_again(gather=10.0, others_come_back=True) == [[11, 12, 13, 14]]


def test_a_leader_whose_round_before_does_not_come_back_goes_on_alone() -> None:
    assert _back_again(gather=0.05, others_come_back=False) == [[11]]


def test_without_gathering_the_first_back_leads_a_round_of_its_own() -> None:
    assert _back_again(gather=0.0, others_come_back=True)[0] == [11]
