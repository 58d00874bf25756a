"""Many writers' requests of one kind, done together in one unit of work.

A writer hands its request to a :class:`Combiner` and waits. One writer at a time *leads*:
it takes every request waiting (each subject at most once), runs them with one call in one
unit of work (:meth:`coop.db.Database.unit_of_work`: the writers' lock or a turn in a group
commit), and once that unit of work is durable hands each writer its own outcome: a result,
or the error that request alone raised. Then the oldest writer still waiting leads the next
batch, which gathered while this one ran and committed. A failure of the unit of work itself
(the commit, a lost connection) is every request's of the batch, as a group commit's is.

What a batch saves is the Python and the round trips of a unit of work for each request: one
read of all the subjects, one statement for each kind of row, one seal of the ledger. The
rules stay those of the single request: ``run`` applies them to each request in turn.

Requests for the same subject (a member, say) never share a batch: the later waits for the
next one, so it sees the earlier written, as it would have if each ran alone.

A crowd's writers come back together: a round answers them all at once, and each asks again
as soon as it has its answer. The first back would lead a round of one while the others are on
their way, and they would wait for it. So a leader that finds fewer waiting than the round
before held waits for them a moment (``gather``, a few milliseconds at most) before it takes
the line; a writer alone, after a round of one, never waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlmodel import Session

from coop.write_groups import copied

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(eq=False)
class _Request(Generic[Item, Result]):
    item: Item
    subject: Hashable
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    """Woken to lead the next batch, not with an outcome."""
    result: Result | None = None
    error: BaseException | None = None


class Combiner(Generic[Item, Result]):
    """The requests of one kind waiting in one process, and who leads."""

    def __init__(
        self,
        unit_of_work: Callable[[], AbstractContextManager[Session]],
        run: Callable[[Session, Sequence[Item]], Sequence[Result | Exception]],
        subject: Callable[[Item], Hashable],
        most: int,
        gather: float = 0.0,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._run = run
        self._subject = subject
        self._most = most
        self._gather = gather
        """Seconds a leader waits at most for the writers of the round before to ask again."""
        self._guard = threading.Lock()
        self._asked = threading.Condition(self._guard)
        self._waiting: list[_Request[Item, Result]] = []
        self._leading = False
        self._last = 0
        """How many requests the last round held."""

    def submit(self, item: Item) -> Result:
        """Do ``item`` with whatever else waits; its result once durable, or its error raised."""
        subject = self._subject(item)
        hash(subject)  # a subject that cannot be told apart fails here, for its writer alone
        mine: _Request[Item, Result] = _Request(item, subject)
        with self._guard:
            self._waiting.append(mine)
            mine.lead = not self._leading
            self._leading = True
            self._asked.notify()  # a leader gathering counts the line again
        if not mine.lead:
            try:
                mine.wake.wait()
            except BaseException:  # interrupted while waiting (a signal): leave the line
                self._withdraw(mine)
                raise
        if mine.lead:
            try:
                self._gathered()
            except BaseException:  # interrupted while gathering: leave the line, the next leads
                self._withdraw(mine)
                raise
            self._lead()
        if mine.error is not None:
            raise mine.error
        return mine.result  # type: ignore[return-value]  # set, as no error was

    def _gathered(self) -> None:
        """Wait (``gather`` seconds at most) until as many wait as the last round held."""
        if self._gather <= 0:
            return
        deadline = time.monotonic() + self._gather
        with self._guard:
            wanted = min(self._last, self._most)
            while len(self._waiting) < wanted:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._asked.wait(left)

    def _take(self) -> list[_Request[Item, Result]]:
        """The oldest waiting requests, each subject once, at most ``most``."""
        batch: list[_Request[Item, Result]] = []
        subjects: set[Hashable] = set()
        later: list[_Request[Item, Result]] = []
        with self._guard:
            for request in self._waiting:
                if len(batch) < self._most and request.subject not in subjects:
                    subjects.add(request.subject)
                    batch.append(request)
                else:
                    later.append(request)
            self._waiting = later
            self._last = len(batch)
        return batch

    def _lead(self) -> None:
        batch: list[_Request[Item, Result]] = []
        try:
            batch = self._take()  # the leader's own request is the oldest waiting: it is in it
            with self._unit_of_work() as session:
                outcomes = self._run(session, [r.item for r in batch])
                if len(outcomes) != len(batch):  # before the commit: nothing of it is kept
                    raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} requests")
            for request, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    request.error = outcome
                else:
                    request.result = outcome
        except Exception as exc:  # the unit of work failed: every request's failure
            for request in batch:
                request.error = copied(exc)
        except BaseException:  # the process is stopping: the leader's alone to raise
            for request in batch:
                request.error = Interrupted("the writes this was done with were interrupted; none was kept")
            raise
        finally:
            self._hand_on()
            for request in batch:
                request.lead = False
                request.wake.set()

    def _hand_on(self) -> None:
        with self._guard:
            self._next_leads()

    def _next_leads(self) -> None:
        """The oldest waiting request's writer leads next; else nobody leads (the guard held)."""
        if self._waiting:
            self._waiting[0].lead = True
            self._waiting[0].wake.set()
        else:
            self._leading = False

    def _withdraw(self, request: _Request[Item, Result]) -> None:
        """A writer stops waiting: its request leaves the line if no round took it yet (else
        that round does it all the same), and if it was to lead, the next in line does."""
        with self._guard:
            if request in self._waiting:
                self._waiting.remove(request)
                if request.lead:
                    request.lead = False
                    self._next_leads()


class Interrupted(Exception):
    """The round a request was in stopped (the process is stopping): nothing of it was kept."""
