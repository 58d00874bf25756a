"""What anyone may know without logging in: permits and their results, where the money went
year by year, members' choices in aggregate (small counts suppressed), and the newest signed
tree head of the ledger of record. Nothing here names or counts out a member."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from coop import privacy
from coop.choices.models import ChoiceVersion
from coop.money import distributions
from coop.money.models import Distribution
from coop.permits import rules, usage
from coop.permits.models import Permit
from coop.reporting import figures
from coop.settings import Settings
from coop.vocabulary.terms import Purpose, from_mask
from ledger.models import MoneyEntry


def _years(session: Session) -> list[int]:
    first, last = session.execute(
        select(func.min(col(MoneyEntry.booked_on)), func.max(col(MoneyEntry.booked_on)))
    ).one()
    if first is None:
        return []
    return list(range(first.year, last.year + 1))


def flows(session: Session) -> list[dict[str, Any]]:
    """Per year: income, expenses, the split of committed distributions, grants to society."""
    out = []
    for year in _years(session):
        start, end, _ = figures.year_bounds(year)
        totals = distributions.period_totals(session, start, end)
        income = sum(c for a, (k, c) in totals.items() if k.value == "income" and a.startswith("income:permit:"))
        expenses = sum(c for k, c in totals.values() if k.value == "expense")
        committed = list(
            session.execute(
                select(Distribution).where(
                    col(Distribution.committed_at).is_not(None),
                    col(Distribution.period_end) >= start,
                    col(Distribution.period_end) <= end,
                )
            ).scalars()
        )
        grants = figures.grants(session, start, end)
        out.append(
            {
                "year": year,
                "income_cents": income,
                "expenses_cents": expenses,
                "distributed": bool(committed),
                "reserve_cents": sum(d.reserve_cents for d in committed),
                "solidarity_fund_cents": sum(d.solidarity_cents for d in committed),
                "members_cents": sum(d.members_pool_cents for d in committed),
                "members_donated_cents": sum(d.donated_cents for d in committed),
                "grants_cents": sum(g.cents for g in grants),
                "grants": [
                    {"paid_on": g.paid_on, "recipient": g.recipient, "purpose": g.purpose, "amount_cents": g.cents}
                    for g in grants
                ],
            }
        )
    return out


def page(session: Session, settings: Settings, now: datetime) -> dict[str, Any]:
    threshold = settings.privacy.small_count_threshold
    permits = list(session.execute(select(Permit).order_by(col(Permit.id))).scalars())
    results = usage.results_of(session, [p.id for p in permits if p.id is not None])
    members = session.execute(
        select(func.count()).select_from(ChoiceVersion).where(*figures.current_choices(now))
    ).scalar_one()
    head = figures.integrity(session, None)
    return {
        "as_of": now,
        "members": privacy.publish(int(members), threshold),
        "small_count_threshold": threshold,
        "permits": [
            {
                "permit_number": p.permit_number,
                "applicant": p.applicant,
                "user_type": p.user_type,
                "purposes": [x.value for x in from_mask(Purpose, p.purposes_mask)],
                "valid_from": p.valid_from,
                "valid_until": rules.ends_at(p.valid_until, p.extended_until),
                "status": rules.status_of(p, now).value,
                "benefit_share_pct": p.benefit_share_pct,
                "compliance_flags": [f.rule for f in usage.compliance(session, p, settings, now)],
                "results": [
                    {
                        "kind": r.kind,
                        "title": r.title,
                        "url": r.url,
                        "published_at": r.published_at,
                        "open_access": r.open_access,
                    }
                    for r in results.get(p.id or 0, [])
                ],
            }
            for p in permits
        ],
        "benefit_flows": flows(session),
        "choices": {
            purpose: {user_type: asdict(cell) for user_type, cell in row.items()}
            for purpose, row in figures.choice_matrix(session, now, threshold).items()
        },
        "tree_head": asdict(head) if head else None,
    }
