"""Counts at now from the choice profiles agree with the pass over every version and with the
rule-by-rule evaluator, after random histories of choices, proxies (appointed, accepted,
revoked, running out) and departures, at now and as time passes; ``coop ledger verify``
catches counts that drifted."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from functools import partial
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text, update

from coop.auth.policy import Actor, Role
from coop.choices import profiles, recount
from coop.choices import queries as choices_queries
from coop.choices import service as choices
from coop.choices.encoding import Preference
from coop.choices.models import ChoiceVersion
from coop.db import Database
from coop.decisions import bulk
from coop.decisions.rules import Terms, combine
from coop.decisions.service import effective
from coop.errors import CoopError
from coop.members import service as members
from coop.members.models import Language
from coop.proxies import service as proxies
from coop.proxies.models import ProxyAppointment
from coop.record.verification import verify_record
from coop.reporting import figures
from coop.types import utcnow
from coop.vocabulary.terms import Category, ProhibitedUse, Purpose, UserType
from tests import factories as f
from tests.concurrency.conftest import CROWD
from tests.conftest import POSTGRESQL_ONLY
from tests.together import together

BOARD = Actor("user", 1, Role.board)
STEP = timedelta(minutes=1)

purposes = st.sampled_from([Purpose.research, Purpose.innovation, Purpose.statistics])
user_types = st.sampled_from(list(UserType))
categories = st.sampled_from([Category.ehr, Category.genetic, Category.claims])

operation = st.one_of(
    st.tuples(st.just("admit"), st.integers(1, 3)),
    st.tuples(
        st.just("change"),
        st.integers(0, 50),
        st.none() | st.booleans(),
        st.lists(st.tuples(purposes, user_types, st.sampled_from(list(Preference))), max_size=4),
        st.none() | st.sets(categories, max_size=2),
        st.none() | st.sets(st.just(Category.genetic), max_size=1),
    ),
    st.tuples(
        st.just("appoint"),
        st.integers(0, 50),
        st.integers(0, 50),
        st.none() | st.sets(purposes, min_size=1, max_size=2),
        st.integers(0, 3),  # 0: the proxy has not (yet) accepted; mostly they have
        st.none() | st.integers(1, 6),  # steps until the appointment runs out
    ),
    st.tuples(st.just("revoke"), st.integers(0, 50)),
    st.tuples(st.just("leave"), st.integers(0, 50)),
    st.tuples(st.just("wait"), st.integers(1, 4)),
)

applications = st.tuples(
    st.lists(st.sampled_from([*Purpose, ProhibitedUse.advertising]), min_size=1, max_size=3, unique=True),
    user_types,
    st.lists(categories, max_size=2, unique=True),
    st.none() | st.just(Terms(10, True, True, True, 12)),
)


class Clock:
    """Times that only move on, across the examples: the profiles are counted up to the newest."""

    def __init__(self) -> None:
        self.moment = utcnow()

    def tick(self, steps: int = 1) -> datetime:
        self.moment += STEP * steps
        return self.moment


def _member(mid: int) -> Actor:
    return Actor("user", 10_000 + mid, Role.member, member_id=mid)


def _run(database: Database, ops: list[tuple], clock: Clock, member_ids: list[int], appointments: list[int]) -> None:
    def pick(i: int) -> int | None:
        return member_ids[i % len(member_ids)] if member_ids else None

    for op in ops:
        now = clock.tick()
        try:
            with database.unit_of_work() as s:
                match op:
                    case ("admit", n):
                        for _ in range(n):
                            k = len(member_ids)
                            m, _ = members.admit(
                                s,
                                BOARD,
                                database.settings.auth,
                                f"P{k}",
                                f"p{k}-{now.timestamp()}@x.nl",
                                Language.nl,
                                now,
                            )
                            assert m.id is not None
                            member_ids.append(m.id)
                    case ("change", i, opt_out, prefs, excluded, yes):
                        if (mid := pick(i)) is not None:
                            patch = choices.ChoicePatch(
                                opt_out=opt_out,
                                preferences=tuple(prefs),
                                excluded_categories=frozenset(excluded) if excluded is not None else None,
                                sensitive_yes=frozenset(yes) if yes is not None else None,
                            )
                            choices.change(s, _member(mid), mid, patch, None, now)
                    case ("appoint", i, j, scope, accepted, lasts):
                        a, b = pick(i), pick(i + 1 + j)
                        if a is not None and b is not None:
                            until = now + STEP * lasts if lasts else None
                            scoped = sorted(scope) if scope else None
                            made = proxies.appoint(s, _member(a), a, b, scoped, until, False, 3, now)
                            assert made.id is not None
                            appointments.append(made.id)
                            if accepted:
                                proxies.accept(s, _member(b), b, made.id, now)
                    case ("revoke", k):
                        if appointments:
                            made = s.get(ProxyAppointment, appointments[k % len(appointments)])
                            assert made is not None and made.id is not None
                            proxies.revoke(s, _member(made.principal_id), made.principal_id, made.id, now)
                    case ("leave", i):
                        if (mid := pick(i)) is not None:
                            members.leave(s, BOARD, mid, now)
                    case ("wait", steps):
                        clock.tick(steps)
        except CoopError:
            pass  # refused operations (cycles, overlaps, departed members) change nothing


def _scanned(s: object, *args: object) -> bulk.Cohort:
    """The counts from the pass over every version, as for a time in the past."""
    with mock.patch("coop.decisions.profiled.usable_at", return_value=False):
        return bulk.cohort_counts(s, *args)  # type: ignore[arg-type]


def test_counts_from_profiles_equal_the_scan_and_the_evaluator(database: Database) -> None:
    f.statutes(database)
    clock, member_ids, appointments = Clock(), [], []

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(ops=st.lists(operation, min_size=10, max_size=30), apps=st.lists(applications, min_size=1, max_size=3))
    def check(ops: list[tuple], apps: list[tuple]) -> None:
        _run(database, ops, clock, member_ids, appointments)
        for later in (0, 2, 7):  # now, and after appointments ran out
            at = clock.tick(later)
            with database.unit_of_work() as s:
                profiles.refresh_expired(s, at)  # as a consultation does
                assert profiles.usable_at(s.connection(), at)
                assert recount.check(s.connection()) == []
                for wanted, user_type, cats, terms in apps:
                    counted = bulk.cohort_counts(s, wanted, user_type, cats, at, terms)
                    scanned = _scanned(s, wanted, user_type, cats, at, terms)
                    expected: Counter = Counter()
                    for mid in member_ids:
                        if choices_queries.as_of(s, mid, at) is not None:
                            outcomes = [effective(s, mid, p, user_type, cats, at, terms) for p in wanted]
                            expected[combine((e.decision, e.reason) for e in outcomes)] += 1
                    assert counted.outcomes == scanned.outcomes == +expected, (wanted, user_type, cats, terms)
                    assert counted.total == scanned.total == sum(expected.values())
                assert _matrix(s, at) == _matrix(s, at, scan=True)  # the annual report's choices

    check()


def _matrix(s: object, at: datetime, scan: bool = False) -> tuple[int, dict]:
    """The annual report's choices at ``at``, exact (threshold 1): from the profiles, or
    (``scan``) from the pass over every version, as for a past year."""
    assert profiles.codes_counted(s.connection(), at) is not None  # type: ignore[attr-defined]
    with mock.patch("coop.choices.profiles.usable_at", return_value=not scan):
        tally = figures.choice_tally(s, at)  # type: ignore[arg-type]
    return tally.opted_out, figures.matrix_of(tally, 1)


def _some_members(database: Database, n: int = 4) -> list[int]:
    f.statutes(database)
    ids = []
    with database.unit_of_work() as s:
        for k in range(n):
            m, _ = members.admit(s, BOARD, database.settings.auth, f"M{k}", f"m{k}@x.nl", Language.nl, utcnow())
            assert m.id is not None
            ids.append(m.id)
    return ids


def test_a_time_before_the_newest_change_is_counted_from_the_versions(database: Database) -> None:
    ids = _some_members(database)
    before = utcnow()
    with database.unit_of_work() as s:
        choices.change(s, _member(ids[0]), ids[0], choices.ChoicePatch(opt_out=True), None, utcnow())
    with database.unit_of_work(write=False) as s:
        assert not profiles.usable_at(s.connection(), before)
        past = bulk.cohort_counts(s, [Purpose.research], UserType.academic, [], before)
        assert past.by_reason(bulk.Decision.deny).get("opt-out") is None
        assert profiles.usable_at(s.connection(), utcnow())
        now = bulk.cohort_counts(s, [Purpose.research], UserType.academic, [], utcnow())
        assert now.by_reason(bulk.Decision.deny)["opt-out"] == 1


def test_rows_loaded_straight_into_the_tables_are_counted_once_recounted(database: Database) -> None:
    ids = _some_members(database)
    versions = ChoiceVersion.__table__  # type: ignore[attr-defined]
    loaded = utcnow()
    with database.unit_of_work() as s:  # around the services, as a data migration would
        s.execute(update(versions).where(versions.c.member_id == ids[1]).values(valid_to=loaded))
        s.execute(
            insert(versions).values(
                member_id=ids[1], version=2, valid_from=loaded, is_member=True, opt_out=True, excluded_mask=0,
                preference_mask=0, donate_dividend=False, sensitive_yes_mask=0, recorded_by="load",
            )
        )  # fmt: skip
    at = utcnow()
    with database.unit_of_work(write=False) as s:
        assert not profiles.usable_at(s.connection(), at)  # counted from the versions meanwhile
        assert bulk.cohort_counts(s, [Purpose.research], UserType.academic, [], at).by_reason(bulk.Decision.deny) == {
            "opt-out": 1
        }
        assert any("without counting" in p for p in recount.check(s.connection()))
    with database.unit_of_work() as s:
        assert recount.rebuild(s.connection()) == len(ids)
    with database.unit_of_work(write=False) as s:
        assert recount.check(s.connection()) == []
        assert profiles.usable_at(s.connection(), utcnow())


def test_verify_catches_a_count_that_drifted(database: Database) -> None:
    ids = _some_members(database)
    with database.unit_of_work() as s:
        choices.change(s, _member(ids[0]), ids[0], choices.ChoicePatch(opt_out=True), None, utcnow())
    keys = {database.signer.key_id: database.signer.public_key}
    with database.unit_of_work(write=False) as s:
        assert verify_record(s.connection(), database.settings, keys, now=utcnow()).ok
    with database.unit_of_work() as s:
        s.execute(text("UPDATE choice_profile SET members = members + 1 WHERE opt_out = :yes"), {"yes": True})
    with database.unit_of_work(write=False) as s:
        report = verify_record(s.connection(), database.settings, keys, now=utcnow())
    assert not report.ok
    assert any("choice profiles" in p and "count" in p for p in report.problems)
    with database.unit_of_work() as s:
        s.execute(
            text("UPDATE choice_member_profile SET opt_out = :no WHERE member_id = :m"), {"no": False, "m": ids[0]}
        )
    with database.unit_of_work(write=False) as s:
        problems = recount.check(s.connection())
    assert any("other choices" in p for p in problems)


@pytest.mark.parametrize("user_type", list(UserType))
def test_a_count_that_drifted_for_one_user_type_is_caught(database: Database, user_type: UserType) -> None:
    ids = _some_members(database)
    with database.unit_of_work() as s:
        choices.change(s, _member(ids[0]), ids[0], choices.ChoicePatch(opt_out=True), None, utcnow())
    with database.unit_of_work(write=False) as s:
        assert recount.check(s.connection()) == []
    # the members are read once for every user type: each type's counts are still its own
    with database.unit_of_work() as s:
        s.execute(
            text("UPDATE choice_profile SET members = members - 1 WHERE user_type = :u AND opt_out = :yes"),
            {"u": user_type.value, "yes": True},
        )
        assert recount.check(s.connection()) == [
            "choice profiles: 1 profiles have a count that differs from their members"
        ]
        gone = {"u": user_type.value, "no": False}
        s.execute(text("DELETE FROM choice_profile WHERE user_type = :u AND opt_out = :no"), gone)
        assert recount.check(s.connection()) == [
            "choice profiles: 2 profiles have a count that differs from their members"
        ]


class _Abandoned(Exception):
    pass


def test_the_counts_follow_when_the_transaction_ends_and_only_what_it_kept(database: Database) -> None:
    ids = _some_members(database)
    with database.unit_of_work() as s:
        choices.change(s, _member(ids[0]), ids[0], choices.ChoicePatch(opt_out=True), None, utcnow())
        assert not profiles.usable_at(s.connection(), utcnow())  # behind until the end: a consultation scans
    with pytest.raises(_Abandoned), database.unit_of_work() as s:
        choices.change(s, _member(ids[1]), ids[1], choices.ChoicePatch(opt_out=True), None, utcnow())
        raise _Abandoned
    with database.unit_of_work(write=False) as s:
        assert recount.check(s.connection()) == []
        assert profiles.usable_at(s.connection(), utcnow())
        opted = text("SELECT member_id FROM choice_member_profile WHERE opt_out = :yes")
        assert s.execute(opted, {"yes": True}).scalars().all() == [ids[0]]


@POSTGRESQL_ONLY
def test_writers_at_once_leave_the_counts_exact(database: Database) -> None:
    ids = _some_members(database, CROWD * 2)

    def write(i: int) -> None:
        for round_ in range(4):
            mid = ids[(i + round_) % len(ids)]  # neighbours change the same members too
            pref = (Preference.allow, Preference.deny, Preference.mandate, Preference.proxy)[(i + round_) % 4]
            patch = choices.ChoicePatch(preferences=((Purpose.research, UserType.academic, pref),))
            try:
                with database.unit_of_work() as s:
                    choices.change(s, _member(mid), mid, patch, None, utcnow())
                    if (i + round_) % 3 == 0:  # a request that fails after its change: in a group, alone
                        raise _Abandoned
            except _Abandoned:
                pass

    together(*(partial(write, i) for i in range(CROWD)))
    at = utcnow()
    with database.unit_of_work() as s:
        assert profiles.usable_at(s.connection(), at)
        assert recount.check(s.connection()) == []
        counted = bulk.cohort_counts(s, [Purpose.research], UserType.academic, [], at)
        assert counted.outcomes == _scanned(s, [Purpose.research], UserType.academic, [], at).outcomes
        assert counted.total == len(ids)
