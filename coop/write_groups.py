"""Group commit on PostgreSQL: the units of work of many writers of this process share one
database transaction, and so one COMMIT (one wait for the disk) and one writers' lock.

Writers of the process take turns (first come, first served) instead of each waiting for
the writers' lock in its own transaction. A *group* is one transaction on one connection
that took the writers' lock as its first statement; each writer, when its turn comes, runs
its unit of work in a SAVEPOINT of the open group, so its checks (a balance, an idempotency
key, a unique value) see every earlier writer of the group, as if they had committed before
it. Its work failing rolls back to its savepoint only; the error is its own. Then it gives
the turn on and waits: the writer that finds nobody waiting for the turn (or the group at
``max_writers``, or older than ``max_age_ms``) does once for the group what its writers left
to the end of the transaction (:mod:`coop.deferred`: the choice profiles' counts), seals the
ledger once for the group (a signed tree head when due) and commits it. Each member's unit of
work returns only once its group committed, or raises the commit's error: an acknowledged
write is durable.

The turn is taken lazily, at the session's first statement, as the writers' lock was: work
before it (hashing a password, reading with another session) does not hold up the others.
A writer whose trouble leaves the transaction unusable or its locks in someone's way (a lost
connection, a deadlock) ends the group: it rolls back, and its members raise that error, so
the service runs their requests again or answers 503 as for any such trouble.
"""

from __future__ import annotations

import copy
import logging
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc
from sqlmodel import Session

from coop import deferred
from ledger import log
from ledger.signing import Signer

logger = logging.getLogger(__name__)


class _Turns:
    """A first-come-first-served mutex that knows how many wait, and which thread holds it.
    Releasing hands it to the next waiter, so a thread that just released cannot jump the queue."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._queue: deque[tuple[threading.Event, int]] = deque()
        self._held = False
        self.holder: int | None = None
        """The thread whose turn it is (its ident), for telling what it does when others wait too long."""

    def acquire(self, timeout: float) -> bool:
        me = threading.get_ident()
        with self._guard:
            if not self._held and not self._queue:
                self._held, self.holder = True, me
                return True
            mine = (threading.Event(), me)
            self._queue.append(mine)
        if mine[0].wait(timeout):
            return True
        with self._guard:
            if mine[0].is_set():  # handed over as the wait ran out
                return True
            self._queue.remove(mine)
            return False

    def release(self) -> None:
        with self._guard:
            if not self._hand_over():
                self._held, self.holder = False, None

    def hand_over(self) -> bool:
        """Give the turn to the next waiter, if any; else keep it (and say so)."""
        with self._guard:
            return self._hand_over()

    def _hand_over(self) -> bool:
        if self._queue:
            event, self.holder = self._queue.popleft()
            event.set()
            return True
        return False

    def waiting(self) -> int:
        with self._guard:
            return len(self._queue)


def _doing(thread: int | None) -> str:
    """Where a thread is, innermost call last (for the log)."""
    frame = sys._current_frames().get(thread) if thread is not None else None
    if frame is None:
        return "nobody holds it" if thread is None else "its thread has ended"
    return "".join(traceback.format_stack(frame)[-12:])


@dataclass(eq=False)
class _Group:
    conn: Connection
    opened: float
    members: int = 0
    edge: log.Edge | None = None
    deferred: deferred.Pending = field(default_factory=dict)
    """What its writers left to the end of the transaction (:mod:`coop.deferred`)."""
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def outcome(self) -> None:
        """Wait for the group's commit; raise its error if it failed."""
        self.done.wait()
        if self.error is not None:
            raise copied(self.error)


def copied(exc: BaseException) -> BaseException:
    """The same error for each member (raising one object in many threads tangles its traceback)."""
    try:
        return copy.copy(exc)
    except Exception:  # an exception that cannot be copied is raised as it is
        return exc


@dataclass(frozen=True)
class GroupPolicy:
    timeout_ms: int
    """How long a writer waits for its turn, and the group for the writers' lock."""
    max_writers: int
    max_age_ms: float


class WriteGroups:
    """The process's writers and their open group, for one write engine."""

    def __init__(
        self,
        engine: Engine,
        cache: log.LedgerCache,
        signer: Signer,
        head_interval_seconds: float,
        policy: GroupPolicy,
        committed: Callable[[bool, bool], None],
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.signer = signer
        self.head_interval_seconds = head_interval_seconds
        self.policy = policy
        self.committed = committed
        """Told after each commit: (whether the group appended events, whether a head was signed)."""
        self._turns = _Turns()
        self._group: _Group | None = None

    def waiting(self) -> int:
        """How many writers wait for their turn."""
        return self._turns.waiting()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A writer's session; its work is durable when this returns, or rolled back when it raises."""
        member = _Member(self)
        session = member.session
        log.use_cache(session, self.cache)
        try:
            try:
                yield session
                session.flush()
                if member.group is not None:
                    member.deferred = deferred.take(session)  # the group does it, once for all
                    session.commit()  # RELEASE SAVEPOINT: the group's transaction goes on
                    member.edge = log.edge(session)
            except BaseException as exc:
                self._leave(member, exc)
                raise
            self._leave(member, None)
        finally:
            log.forget(session)
            session.close()
        if member.group is not None:
            member.group.outcome()

    def _join(self, member: _Member) -> Connection:
        if not self._turns.acquire(self.policy.timeout_ms / 1000):
            logger.warning(
                "a writer waited %d ms for its turn; the writer whose turn it is:\n%s",
                self.policy.timeout_ms,
                _doing(self._turns.holder),
            )
            raise sa_exc.TimeoutError(f"no turn among the writers within {self.policy.timeout_ms} ms")
        try:
            if self._group is None:
                conn = self.engine.connect()
                try:
                    conn.begin()  # the engine's "begin" hook takes the writers' lock
                except BaseException:
                    conn.close()
                    raise
                self._group = _Group(conn, time.monotonic())
        except BaseException:
            self._turns.release()
            raise
        group = self._group
        member.group = group
        log.lock_held(member.session)
        if group.edge is not None:
            log.go_on_from(member.session, group.edge)
        return group.conn

    def _leave(self, member: _Member, failure: BaseException | None) -> None:
        """The member's work is done (or failed): settle it in its group, commit the group if
        nobody will join it, and give the turn on."""
        group = member.group
        if group is None:  # it never reached the database
            return
        try:
            if failure is None:
                group.members += 1
                group.edge = member.edge or group.edge
                deferred.join(group.deferred, member.deferred)
            elif not _rolled_back(member) or _ends_group(failure, group):
                self._finish(group, failure)
            if self._group is group and self._full(group):
                self._finish(group, None)
            if self._turns.hand_over():  # the next writer goes on with the group
                return
            if self._group is group:  # nobody waits to join it (checked as the turn stays ours)
                self._finish(group, None)
        except BaseException:
            self._turns.release()
            raise
        self._turns.release()

    def _full(self, group: _Group) -> bool:
        age_ms = (time.monotonic() - group.opened) * 1000
        return group.members >= self.policy.max_writers or age_ms >= self.policy.max_age_ms

    def _finish(self, group: _Group, failure: BaseException | None) -> None:
        """Commit the group (or roll it back because of ``failure``) and tell its members."""
        self._group = None
        appended = signed = False
        try:
            if failure is None and group.members:
                appended, signed = self._commit(group)
            else:
                group.error = failure
                group.conn.rollback()
        except Exception as exc:
            group.error = group.error or exc
        finally:
            try:
                group.conn.close()
            finally:
                group.done.set()
        if group.error is None and group.members:
            self.committed(appended, signed)

    def _commit(self, group: _Group) -> tuple[bool, bool]:
        deferred.run(group.conn, group.deferred)
        appended = group.edge is not None and group.edge.appended > 0
        signed = False
        if appended and group.edge is not None:
            with Session(bind=group.conn, join_transaction_mode="create_savepoint") as sealing:
                log.use_cache(sealing, self.cache)
                log.go_on_from(sealing, group.edge)
                signed = log.seal(sealing, self.signer, self.head_interval_seconds) is not None
                sealing.commit()
                group.conn.commit()
                log.committed(sealing)
        else:
            group.conn.commit()
        return appended, signed


def _rolled_back(member: _Member) -> bool:
    """Roll the member's work back to its savepoint; False if even that failed."""
    try:
        member.session.rollback()
    except Exception:
        return False
    return True


def _ends_group(failure: BaseException, group: _Group) -> bool:
    """Whether a member's failure leaves the group's transaction unusable or its locks in
    another transaction's way, so that the whole group must roll back."""
    from coop.db import trouble  # coop.db builds on this module

    return group.conn.invalidated or trouble(failure) is not None or not group.conn.in_transaction()


class _Member:
    """One writer's unit of work in a group: its session joins a group (taking its turn)
    at its first statement."""

    def __init__(self, groups: WriteGroups) -> None:
        self.group: _Group | None = None
        self.edge: log.Edge | None = None
        self.deferred: deferred.Pending = {}
        self.session = _MemberSession(self, groups)


class _MemberSession(Session):
    def __init__(self, member: _Member, groups: WriteGroups) -> None:
        super().__init__(expire_on_commit=False, autoflush=True, join_transaction_mode="create_savepoint")
        self._member = member
        self._groups = groups

    def get_bind(self, mapper: Any = None, **kw: Any) -> Any:
        if self._member.group is None:
            return self._groups._join(self._member)
        return self._member.group.conn
