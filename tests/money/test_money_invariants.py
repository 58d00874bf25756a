"""No sequence of payments, expenses, grants, distributions and payouts creates or loses
a cent: the bank holds exactly what came in minus what went out, and every distributed
cent sits in the reserve, the solidarity fund, a member's balance or a payout."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from coop.approvals import service as approvals
from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.db import Database
from coop.errors import CoopError
from coop.governance import service as governance
from coop.members import service as members
from coop.members.models import Language
from coop.money import distributions
from coop.money import service as money
from coop.permits import manifests
from coop.types import utcnow
from ledger import books
from tests import factories as f

BOARD = Actor("user", 1, Role.board)
TREASURER = Actor("user", 2, Role.board)
HDAB = Actor("key", 1, Role.hdab)

steps = st.lists(
    st.one_of(
        st.tuples(st.just("payment"), st.integers(0, 1), st.integers(1, 500_000), st.integers(0, 2)),
        st.tuples(st.just("expense"), st.integers(1, 200_000), st.integers(0, 2)),
        st.tuples(st.just("grant"), st.integers(1, 100_000), st.integers(0, 2)),
        st.tuples(st.just("distribute"), st.integers(0, 2)),
    ),
    min_size=3,
    max_size=20,
)


def after(year: int) -> datetime:
    """A moment once ``year`` has ended: its days are past, and it may be distributed."""
    return datetime(year + 1, 1, 15, 12, tzinfo=UTC)


def test_no_cent_is_created_or_lost(database: Database) -> None:
    with database.unit_of_work() as s:
        governance.init_statutes(s, CLI_ACTOR, f.STATUTES, now=utcnow())
        for i in range(5):
            members.admit(s, BOARD, database.settings.auth, f"M{i}", f"m{i}@inv.nl", Language.nl, utcnow())
        now = utcnow()
        permit_ids = []
        for i in range(2):
            permit = f.granted(s, f"INV-{i}", now)
            manifests.create(s, CLI_ACTOR, permit, database.settings, utcnow())
            permit_ids.append(permit.id)
    counter = iter(range(10**6))
    seen = {"year": 2030, "in": 0, "expenses": 0, "grants": 0, "distributed": 0}

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(ops=steps)
    def check(ops: list[tuple]) -> None:
        for op in ops:
            n, year = next(counter), seen["year"]
            done: dict[str, int] = {}
            try:
                with database.unit_of_work() as s:
                    match op:
                        case ("payment", which, cents, _):
                            money.payment(
                                s,
                                CLI_ACTOR,
                                f"p{n}",
                                permit_ids[which],
                                date(year, 3, 1),
                                cents,
                                "fee",
                                now=after(year),
                            )
                            done = {"in": cents}
                        case ("expense", cents, _):
                            money.expense(s, CLI_ACTOR, f"e{n}", date(year, 4, 1), cents, "costs", now=after(year))
                            done = {"expenses": cents}
                        case ("grant", cents, _):
                            money.grant(
                                s,
                                CLI_ACTOR,
                                f"g{n}",
                                date(year, 5, 1),
                                cents,
                                "Stichting",
                                "education",
                                now=after(year),
                            )
                            done = {"grants": cents}
                        case ("distribute", _):
                            d = distributions.draft(s, CLI_ACTOR, date(year, 1, 1), date(year, 12, 31), now=after(year))
                            asked = approvals.ask_commit(s, BOARD, d.id or 0, now=after(year))  # four eyes
                            approvals.approve(s, TREASURER, database.settings, asked.id or 0, now=after(year))
                            done = {"distributed": d.net_income_cents, "year": 1}
            except (CoopError, books.BooksError):
                continue  # refused (not enough money, nothing to distribute): nothing was written
            for key, value in done.items():
                seen[key] += value
        with database.unit_of_work(write=False) as s:
            balances = {code: b for code, (_, b) in books.balances(s).items()}
            payouts = sum(
                c
                for code, c in s.execute(
                    text("SELECT account, amount_cents FROM money_posting WHERE account LIKE 'liabilities:members:%'")
                ).all()
                if c > 0
            )
        owed = sum(b for code, b in balances.items() if code.startswith("liabilities:members:"))
        assert balances.get("assets:bank", 0) == seen["in"] - seen["expenses"] - seen["grants"] - payouts
        held = balances.get("equity:reserve", 0) + balances.get("equity:solidarity-fund", 0)
        assert held + owed + payouts + seen["grants"] == seen["distributed"]
        assert all(b >= 0 for b in (balances.get("assets:bank", 0), balances.get("equity:solidarity-fund", 0), owed))

    check()
