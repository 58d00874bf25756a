"""A member's yearly statement: their choices now and the year's changes, the permits that
used their data with what came of them, and their dividend with how it was derived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from coop.benefits import distributions
from coop.choices import encoding
from coop.choices.models import ChoiceVersion
from coop.members.models import Member
from coop.permits import queries as permit_queries
from coop.permits.models import Manifest, ManifestEntry, Permit
from coop.permits.usage import results_of
from coop.reporting.figures import ResultLine, year_bounds
from coop.vocabulary.terms import Category, Purpose, from_mask


@dataclass(frozen=True)
class Change:
    version: int
    since: date
    opt_out: bool
    choices: int
    donate_dividend: bool


@dataclass(frozen=True)
class Use:
    permit_number: str
    applicant: str
    user_type: str
    purposes: list[str]
    since: date
    results: list[ResultLine]


@dataclass(frozen=True)
class DividendPart:
    permit_number: str
    pool_cents: int
    members: int
    cents: int


@dataclass(frozen=True)
class Dividend:
    period_start: date
    period_end: date
    cents: int
    donated: bool
    parts: list[DividendPart]


@dataclass(frozen=True)
class Statement:
    year: int
    name: str
    number: str
    language: str
    opt_out: bool
    choices: list[tuple[str, str, str]]
    """(purpose, user type, preference) where the member chose something other than the mandate."""
    excluded: list[str]
    donate_dividend: bool
    changes: list[Change]
    uses: list[Use]
    dividends: list[Dividend]
    balance_cents: int
    paid_cents: int


def statement(session: Session, member: Member, year: int, now: datetime) -> Statement:
    """The statement as of the end of ``year``, or ``now`` for the year under way."""
    assert member.id is not None
    _, _, year_end = year_bounds(year)
    as_of = min(year_end, now)
    versions = list(
        session.execute(
            select(ChoiceVersion).where(col(ChoiceVersion.member_id) == member.id).order_by(col(ChoiceVersion.version))
        ).scalars()
    )
    current = next(
        (v for v in reversed(versions) if v.valid_from <= as_of and (v.valid_to is None or v.valid_to > as_of)),
        None,
    )
    changes = [
        Change(
            v.version,
            v.valid_from.date(),
            v.opt_out,
            len(encoding.explicit(v.preference_mask)),
            v.donate_dividend,
        )
        for v in versions
        if v.valid_from.year == year
    ]
    used = session.execute(
        select(Permit, Manifest)
        .join(Manifest, col(Manifest.permit_id) == col(Permit.id))
        .join(ManifestEntry, col(ManifestEntry.manifest_id) == col(Manifest.id))
        .where(col(ManifestEntry.member_id) == member.id, col(Manifest.created_at) <= as_of)
        .order_by(col(Manifest.created_at), col(Manifest.id))
    ).all()
    first: dict[int, tuple[Permit, Manifest]] = {}
    for permit, manifest in used:
        assert permit.id is not None
        first.setdefault(permit.id, (permit, manifest))
    results = results_of(session, list(first))
    uses = [
        Use(
            permit.permit_number,
            permit.applicant,
            permit.user_type,
            [p.value for p in from_mask(Purpose, permit.purposes_mask)],
            manifest.created_at.date(),
            [
                ResultLine(permit.permit_number, r.kind, r.title, r.url, r.published_at.date(), r.open_access)
                for r in results.get(permit_id, [])
                if r.published_at <= as_of
            ],
        )
        for permit_id, (permit, manifest) in first.items()
    ]
    numbers = permit_queries.numbers(session)
    dividends = [
        Dividend(
            r.distribution.period_start,
            r.distribution.period_end,
            r.cents,
            r.donated,
            [DividendPart(numbers[p.permit_id], p.pool_cents, p.members, p.cents) for p in r.parts],
        )
        for r in distributions.received_by(session, member.id, year)
    ]
    balance, paid = distributions.member_account(session, member.id)
    return Statement(
        year=year,
        name=member.name,
        number=member.number,
        language=member.language,
        opt_out=bool(current and current.opt_out),
        choices=[
            (p.value, u.value, pref.value)
            for p, u, pref in (encoding.explicit(current.preference_mask) if current else [])
        ],
        excluded=[c.value for c in from_mask(Category, current.excluded_mask)] if current else [],
        donate_dividend=bool(current and current.donate_dividend),
        changes=changes,
        uses=uses,
        dividends=dividends,
        balance_cents=balance,
        paid_cents=paid,
    )
