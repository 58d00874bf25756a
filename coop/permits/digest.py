"""Telling members how their data was used: the data-use digest, and incidents.

**The digest.** One message per member per pass, never one per permit: "your data is in the
group of these permits; this is new since the last message; these results came out". A
member chooses how often (:class:`~coop.mail.preferences.Digest`): *immediately* is a pass
every ``COOP_MAIL_DIGEST_MINUTES`` (an hour by default), so a board registering five permits
in an afternoon sends one message, not five; *monthly* is a pass on the first day of each
month (Dutch time); *never* is none. A pass covers the events of the ledger of record since
the previous pass of its frequency (:mod:`coop.mail.schedule`): permits whose group
(manifest) was formed, and results registered for permits. It tells each active member who
is in the group of such a permit, and whose setting is that frequency, about those permits.
A member who changes how often gets the next digest of the new frequency; what happened
before is always on their data-use page. The very first pass of each frequency only marks
where the digests begin: a cooperative that starts sending does not send its whole past.

What the permits and results are (the same for every member) is stored once
(:func:`coop.mail.outbox.share`); each member's message names only which of them concern
them, and is written by one statement that never loads a member.

**Incidents.** When the HDAB or a data holder reports an incident under a permit, every
member in that permit's groups (or the one group the report names), also those who left
since, is told at once, in the same transaction: a message nobody can switch off.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, distinct, func, literal, select
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col

from coop.i18n import HOME_ZONE, Language
from coop.mail import outbox, schedule
from coop.mail.models import MailKind, MessageSettings
from coop.mail.preferences import DEFAULTS, Digest
from coop.members.models import Member, MemberStatus
from coop.permits.models import Manifest, ManifestEntry, Permit, Result, UsageEvent
from coop.settings import Settings
from coop.vocabulary.terms import PURPOSES, Purpose, from_mask
from ledger import canonical, log
from ledger.models import LedgerEvent


def _kind(frequency: Digest) -> str:
    return f"data-use-digest-{frequency.value}"


def _purposes(permit: Permit) -> dict[str, str]:
    """The permit's purposes in words, in each language."""
    terms = [PURPOSES[p] for p in from_mask(Purpose, permit.purposes_mask)]
    return {lang.value: "; ".join(str(getattr(term, lang.value)) for term in terms) for lang in Language}


def _what_happened(session: Session, after: int, through: int) -> dict[int, dict[str, Any]]:
    """The permits with news between the two events of the ledger of record (after the first,
    up to the second): groups formed and results registered, as a digest tells them."""
    formed = session.execute(
        select(col(Manifest.permit_id), func.max(col(Manifest.created_at)))
        .where(col(Manifest.ledger_seq) > after, col(Manifest.ledger_seq) <= through)
        .group_by(col(Manifest.permit_id))
    ).all()
    registered = session.execute(
        select(col(LedgerEvent.payload)).where(
            col(LedgerEvent.type) == "result.registered",
            col(LedgerEvent.seq) > after,
            col(LedgerEvent.seq) <= through,
        )
    ).scalars()
    result_ids = [int(canonical.loads(payload)["result_id"]) for payload in registered]
    results: Iterable[Result] = (
        session.execute(select(Result).where(col(Result.id).in_(result_ids)).order_by(col(Result.id))).scalars()
        if result_ids
        else []
    )
    by_permit: dict[int, list[Result]] = {}
    for r in results:
        by_permit.setdefault(r.permit_id, []).append(r)
    formed_at = {permit_id: at for permit_id, at in formed}
    ids = sorted(formed_at.keys() | by_permit.keys())
    permits: Iterable[Permit] = session.execute(select(Permit).where(col(Permit.id).in_(ids))).scalars() if ids else []
    return {
        p.id: {
            "number": p.permit_number,
            "applicant": p.applicant,
            "purposes": _purposes(p),
            "formed": None if p.id not in formed_at else formed_at[p.id].date().isoformat(),
            "results": [{"title": r.title, "url": r.url} for r in by_permit.get(p.id, [])],
        }
        for p in permits
        if p.id is not None
    }


def _permit_list(session: Session, permit_id: Any) -> ColumnElement[str]:
    """The distinct permits of a member's rows, as ``1,5,7`` (a permit may have several groups)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.group_concat(distinct(permit_id))  # SQLite: with DISTINCT, the separator is ","
    return func.string_agg(distinct(cast(permit_id, String)), literal(",", String))


def _frequency_is(frequency: Digest) -> ColumnElement[bool]:
    setting = col(MessageSettings.digest)
    if frequency is DEFAULTS.digest:
        return setting.is_(None) | (setting == frequency.value)
    return setting == frequency.value


def _digest(session: Session, frequency: Digest, key: str, now: datetime) -> None:
    kind = _kind(frequency)
    previous = schedule.latest(session, kind)
    through = log.tree_size(session)
    run = schedule.begin(session, kind, key, through, now)
    if run is None or previous is None or previous.through_seq is None:
        return  # made by another worker, or the first pass: digests begin here
    news = _what_happened(session, previous.through_seq, through)
    if not news:
        return
    shared = outbox.share(
        session,
        {
            "items": {str(i): item for i, item in news.items()},
            "since": previous.created_at.isoformat(),
            "frequency": frequency.value,
        },
        now,
    )
    groups = select(col(Manifest.id)).where(
        col(Manifest.permit_id).in_(list(news)), col(Manifest.ledger_seq) <= through
    )
    entries = select(
        col(ManifestEntry.member_id), _permit_list(session, col(Manifest.permit_id)).label("permits")
    ).join(Manifest, col(Manifest.id) == col(ManifestEntry.manifest_id))
    entries = entries.where(col(ManifestEntry.manifest_id).in_(groups))
    if frequency is not DEFAULTS.digest:  # the few who chose otherwise lead: found by their setting
        chose = select(col(MessageSettings.member_id)).where(col(MessageSettings.digest) == frequency.value)
        entries = entries.where(col(ManifestEntry.member_id).in_(chose))
    per_member = entries.group_by(col(ManifestEntry.member_id)).subquery()
    selection = (
        select(
            col(Member.id),
            col(Member.email),
            col(Member.language),
            literal('{"permits": [', String) + per_member.c.permits + literal("]}", String),
        )
        .select_from(per_member)
        .join(Member, col(Member.id) == per_member.c.member_id)
        .outerjoin(MessageSettings, col(MessageSettings.member_id) == col(Member.id))
        .where(col(Member.status) == MemberStatus.active.value, _frequency_is(frequency))
    )
    run.messages = outbox.enqueue_selected(session, MailKind.data_use_digest, selection, now, shared_id=shared)


def digest_immediately(session: Session, settings: Settings, now: datetime) -> None:
    """The pass for members who want news as it comes: at most every ``COOP_MAIL_DIGEST_MINUTES``."""
    previous = schedule.latest(session, _kind(Digest.immediately))
    if previous is not None and now - previous.created_at < timedelta(minutes=settings.mail.digest_minutes):
        return
    if previous is None or previous.through_seq is None:
        _digest(session, Digest.immediately, "start", now)
    elif log.tree_size(session) > previous.through_seq:  # each pass begins where the last ended
        _digest(session, Digest.immediately, str(previous.through_seq), now)


def digest_monthly(session: Session, settings: Settings, now: datetime) -> None:
    """The pass for members who want a monthly digest: once in each month, from its first day."""
    key = now.astimezone(HOME_ZONE).strftime("%Y-%m")
    if not schedule.done(session, _kind(Digest.monthly), key):
        _digest(session, Digest.monthly, key, now)


def tell_incident(session: Session, permit: Permit, incident: UsageEvent, now: datetime) -> int:
    """Tell every member in the permit's groups (or in the group the report names) about an
    incident reported under it; returns how many messages were written."""
    groups = select(col(Manifest.id)).where(col(Manifest.permit_id) == permit.id)
    if incident.manifest_id is not None:
        groups = groups.where(col(Manifest.id) == incident.manifest_id)
    members = (
        select(col(ManifestEntry.member_id)).where(col(ManifestEntry.manifest_id).in_(groups)).distinct().subquery()
    )
    shared = outbox.share(
        session,
        {
            "number": permit.permit_number,
            "applicant": permit.applicant,
            "occurred": incident.occurred_at.isoformat(),
            "description": incident.description,
        },
        now,
    )
    selection = (
        select(col(Member.id), col(Member.email), col(Member.language), literal("{}", String))
        .select_from(members)
        .join(Member, col(Member.id) == members.c.member_id)
    )
    return outbox.enqueue_selected(session, MailKind.incident, selection, now, shared_id=shared)


PASSES: tuple[schedule.MailPass, ...] = (digest_immediately, digest_monthly)
"""This domain's scheduled passes (see :mod:`coop.mail.schedule`)."""
