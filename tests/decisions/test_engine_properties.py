"""The bulk engine agrees with the rule-by-rule evaluator on random histories of choices
(the own yes per sensitive category included), proxies, departures and mandate versions, at
random times between the changes."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.choices import queries as choices_queries
from coop.choices import service as choices
from coop.choices.encoding import Preference
from coop.db import Database
from coop.decisions import bulk
from coop.decisions.rules import Decision, Terms, combine
from coop.decisions.service import effective
from coop.errors import CoopError
from coop.governance import service as governance
from coop.governance.documents import Conditions, DocumentKind, Mandate, MandateDecision, MandateRule
from coop.members import service as members
from coop.members.models import Language
from coop.proxies import service as proxies
from coop.types import utcnow
from coop.vocabulary.terms import PUBLIC_SECTOR_ONLY, Category, ProhibitedUse, Purpose, UserType
from tests import factories as f

BOARD = Actor("user", 1, Role.board)

# A narrow slice of the vocabulary, so that histories and applications meet often.
purposes = st.sampled_from([Purpose.research, Purpose.innovation, Purpose.statistics])
user_types = st.sampled_from([UserType.academic, UserType.commercial, UserType.public])
categories = st.sampled_from([Category.ehr, Category.genetic, Category.claims, Category.biobanks])
sensitive = st.sampled_from([Category.genetic, Category.biobanks])
conditions = st.builds(
    Conditions,
    min_benefit_share_pct=st.none() | st.integers(0, 20),
    open_results=st.booleans(),
    processing_in_eu=st.booleans(),
    ethics_review=st.booleans(),
    max_duration_months=st.none() | st.integers(6, 60),
)


@st.composite
def mandates(draw: st.DrawFn) -> Mandate:
    rules = []
    for p, u in draw(st.sets(st.tuples(purposes, user_types), max_size=8)):
        decision = draw(st.sampled_from(list(MandateDecision)))
        if p in PUBLIC_SECTOR_ONLY and u is not UserType.public:
            decision = MandateDecision.deny
        cond = draw(conditions) if decision is MandateDecision.conditional else None
        if cond is not None and cond.is_empty():
            cond = Conditions(open_results=True)
        rules.append(
            MandateRule(
                purpose=p,
                user_type=u,
                decision=decision,
                conditions=cond,
                sensitive_requires_explicit_allow=draw(st.booleans()),
            )
        )
    return Mandate(default=draw(st.sampled_from(["allow", "deny"])), rules=rules)


operation = st.one_of(
    st.tuples(st.just("admit")),
    st.tuples(
        st.just("change"),
        st.integers(0, 50),
        st.none() | st.booleans(),
        st.lists(st.tuples(purposes, user_types, st.sampled_from(list(Preference))), max_size=4),
        st.none() | st.sets(categories, max_size=3),
        st.none() | st.sets(sensitive, max_size=2),
    ),
    st.tuples(
        st.just("appoint"),
        st.integers(0, 50),
        st.integers(0, 50),
        st.none() | st.sets(purposes, min_size=1, max_size=3),
        st.integers(0, 3),  # 0: the proxy has not (yet) accepted; mostly they have
    ),
    st.tuples(st.just("revoke"), st.integers(0, 50)),
    st.tuples(st.just("leave"), st.integers(0, 50)),
    st.tuples(st.just("mandate"), mandates()),
    st.tuples(st.just("checkpoint")),
)

applications = st.tuples(
    st.lists(st.sampled_from([*Purpose, ProhibitedUse.advertising]), min_size=1, max_size=3, unique=True),
    user_types,
    st.lists(categories, max_size=3, unique=True),
    st.none()
    | st.builds(
        Terms,
        benefit_share_pct=st.integers(0, 20),
        open_results=st.booleans(),
        processing_in_eu=st.booleans(),
        ethics_review=st.booleans(),
        duration_months=st.integers(1, 72),
    ),
)


def _run(database: Database, ops: list[tuple], checkpoints: list[datetime]) -> list[int]:
    member_ids: list[int] = []
    appointment_ids: list[int] = []

    def pick(i: int) -> int | None:
        return member_ids[i % len(member_ids)] if member_ids else None

    for op in ops:
        try:
            with database.unit_of_work() as s:
                match op:
                    case ("admit",):
                        n = len(member_ids)
                        m, _ = members.admit(
                            s,
                            BOARD,
                            database.settings.auth,
                            f"P{n}",
                            f"p{n}-{utcnow().timestamp()}@x.nl",
                            Language.nl,
                            utcnow(),
                        )
                        assert m.id is not None
                        member_ids.append(m.id)
                    case ("change", i, opt_out, prefs, excluded, yes):
                        mid = pick(i)
                        if mid is not None:
                            patch = choices.ChoicePatch(
                                opt_out=opt_out,
                                preferences=tuple(prefs),
                                excluded_categories=frozenset(excluded) if excluded is not None else None,
                                sensitive_yes=frozenset(yes) if yes is not None else None,
                            )
                            member = Actor("user", 10_000 + mid, Role.member, member_id=mid)
                            choices.change(s, member, mid, patch, None, utcnow())
                    case ("appoint", i, j, scope, accepted):
                        a, b = pick(i), pick(i + 1 + j)  # another member, unless there is only one
                        if a is not None and b is not None:
                            appointment = proxies.appoint(
                                s,
                                Actor("user", 10_000 + a, Role.member, member_id=a),
                                a,
                                b,
                                sorted(scope) if scope else None,
                                None,
                                False,
                                3,
                                utcnow(),
                            )
                            assert appointment.id is not None
                            appointment_ids.append(appointment.id)
                            if accepted:
                                proxies.accept(
                                    s, Actor("user", 10_000 + b, Role.member, member_id=b), b, appointment.id, utcnow()
                                )
                    case ("revoke", k):
                        if appointment_ids:
                            from coop.proxies.models import ProxyAppointment

                            appointment = s.get(ProxyAppointment, appointment_ids[k % len(appointment_ids)])
                            assert appointment is not None
                            principal = appointment.principal_id
                            proxies.revoke(
                                s,
                                Actor("user", 10_000 + principal, Role.member, member_id=principal),
                                principal,
                                appointment.id,
                                utcnow(),
                            )
                    case ("leave", i):
                        mid = pick(i)
                        if mid is not None:
                            members.leave(s, BOARD, mid, utcnow())
                    case ("mandate", mandate):
                        governance.record(s, CLI_ACTOR, DocumentKind.mandate, mandate, "test", utcnow())
                    case ("checkpoint",):
                        pass
        except CoopError:
            pass  # refused operations (cycles, overlaps, departed members) change nothing
        checkpoints.append(utcnow())
    return member_ids


def test_bulk_equals_rule_by_rule(database: Database) -> None:
    f.statutes(database)
    known: list[int] = []

    # 30 examples (it was 50, a round number): the members of every example stay in the
    # database and each later example checks them all again, so the work grows with the square
    # of the count, while the later examples add little the earlier ones did not reach.
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        ops=st.lists(operation, min_size=12, max_size=40),
        apps=st.lists(applications, min_size=1, max_size=3),
        data=st.data(),
    )
    def check(ops: list[tuple], apps: list[tuple], data: st.DataObject) -> None:
        checkpoints: list[datetime] = []
        known.extend(_run(database, ops, checkpoints))
        for wanted, user_type, cats, terms in apps:
            at = data.draw(st.sampled_from(checkpoints))
            with database.unit_of_work(write=False) as s:
                cohort = bulk.cohort_counts(s, wanted, user_type, cats, at, terms)
                eligible = list(bulk.eligible_members(s, wanted, user_type, cats, at, terms))
                expected: Counter = Counter()
                expected_eligible = set()
                for mid in known:
                    if choices_queries.as_of(s, mid, at) is None:
                        continue  # joined after `at`: not in the cohort
                    outcomes = [effective(s, mid, p, user_type, cats, at, terms) for p in wanted]
                    outcome = combine((e.decision, e.reason) for e in outcomes)
                    expected[outcome] += 1
                    if outcome[0] is Decision.allow:
                        expected_eligible.add(mid)
            assert cohort.outcomes == +expected, (wanted, user_type, cats, terms)
            assert cohort.total == sum(expected.values())
            assert sorted(eligible) == sorted(expected_eligible)  # each member once, the same members

    check()
