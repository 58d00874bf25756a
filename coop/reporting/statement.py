"""A member's yearly statement: their choices now and the year's changes, the permits that
used their data with what came of them, and their dividend with how it was derived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from coop.choices import encoding
from coop.choices.history import differences, in_words
from coop.choices.models import ChoiceVersion
from coop.i18n import language_or_default
from coop.members.models import Member
from coop.money import distributions
from coop.permits import queries as permit_queries
from coop.permits.models import Manifest, ManifestMember, Permit
from coop.permits.usage import results_of
from coop.reporting.figures import year_bounds
from coop.vocabulary.terms import Category, Purpose, from_mask
from reports.inputs import Change, Dividend, DividendPart, ResultLine, Statement, Use


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
    lang = language_or_default(member.language)
    changes = [
        Change(v.version, v.valid_from, v.opt_out, tuple(in_words(change, lang)))
        for v, change in zip(versions, differences(versions), strict=True)
        if v.valid_from.year == year
    ]
    used = session.execute(
        select(Permit, Manifest)
        .join(Manifest, col(Manifest.permit_id) == col(Permit.id))
        .join(ManifestMember, col(ManifestMember.manifest_id) == col(Manifest.id))
        .where(col(ManifestMember.member_id) == member.id, col(Manifest.created_at) <= as_of)
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
        name=member.shown_name or member.number,  # an erased name: the number, which the books keep
        number=member.number,
        language=member.language,
        opt_out=bool(current and current.opt_out),
        choices=[
            (p.value, u.value, pref.value)
            for p, u, pref in (encoding.explicit(current.preference_mask) if current else [])
        ],
        excluded=[c.value for c in from_mask(Category, current.excluded_mask)] if current else [],
        donate_dividend=bool(current and current.donate_dividend),
        sensitive_yes=[c.value for c in from_mask(Category, current.sensitive_yes_mask)] if current else [],
        changes=changes,
        uses=uses,
        dividends=dividends,
        balance_cents=balance,
        paid_cents=paid,
    )
