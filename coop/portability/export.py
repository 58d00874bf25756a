"""Building a member's export: every section from the tables that keep it, read in one session.

One member has at most thousands of rows across these tables, so the export is built in
memory. Nothing is written: reading one's own data changes nothing in the record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from coop.access import queries as access_queries
from coop.auth.models import UserAccount
from coop.auth.policy import Actor
from coop.carers.models import Carer
from coop.choices import encoding
from coop.choices.history import differences, in_words
from coop.choices.models import ChoiceVersion
from coop.governance import queries as governance
from coop.governance.documents import DocumentKind
from coop.governance.models import Proposal, Vote
from coop.i18n import language_or_default, translator
from coop.mail.messages import SUBJECTS
from coop.mail.models import MailKind, OutboxMessage
from coop.members import queries as member_queries
from coop.members.models import Member, member_number
from coop.money import distributions
from coop.money.service import member_payable
from coop.permits.manifests import pseudonym
from coop.permits.models import Manifest, ManifestMember, Permit
from coop.portability.schemas import (
    SCHEMA_URL_PATH,
    SCHEMA_VERSION,
    AccessPart,
    AppointmentPart,
    ChoiceVersionPart,
    DistributionPart,
    DividendsPart,
    MadeBy,
    ManifestPart,
    MemberExport,
    MemberPart,
    MessagePart,
    PayoutPart,
    Preference,
    ProxiesPart,
    ProxyStatus,
    VotePart,
)
from coop.portability.summary import summary
from coop.proxies.models import ProxyAppointment
from coop.proxies.service import is_valid_at, is_waiting
from coop.settings import Settings
from coop.vocabulary.terms import Category, Purpose, from_mask
from ledger.models import MoneyEntry, MoneyPosting


def build(session: Session, member: Member, schema_url: str, now: datetime, pseudonym_key: bytes) -> MemberExport:
    """Everything kept about ``member`` as of ``now`` (``pseudonym_key``: the key of the manifests' pseudonyms)."""
    assert member.id is not None
    carers = _carer_names(session, member.id)
    return MemberExport.model_validate(
        {
            "schema": schema_url,
            "schema_version": SCHEMA_VERSION,
            "exported_at": now,
            "member": _member(member),
            "choices_history": _choices(session, member, carers),
            "proxies": _proxies(session, member.id, carers, now),
            "votes": _votes(session, member.id, carers),
            "manifests": _manifests(session, member.id, pseudonym_key),
            "dividends": _dividends(session, member.id),
            "messages": _messages(session, member.id),
            "access_log": [AccessPart.model_validate(row) for row in _seen_by_others(session, member.id)],
        }
    )


def _seen_by_others(session: Session, member_id: int) -> list[dict[str, Any]]:
    """Who else read the member's data, from the access log, oldest first."""
    return [
        {"at": v.at, "role": v.role, "purpose": v.purpose, "what": v.what, "reader": v.reader}
        for v in reversed(access_queries.seen_by_others(session, member_id))
    ]


def _member(member: Member) -> MemberPart:
    assert member.id is not None
    return MemberPart(
        number=member.number,
        id=member.id,
        name=member.shown_name,
        email=member.shown_email,
        language=language_or_default(member.language),
        status="left" if member.status == "left" else "active",
        admitted_at=member.admitted_at,
        left_at=member.left_at,
    )


def _carer_names(session: Session, member_id: int) -> dict[int, str]:
    """The carers the member appointed, by id: theirs to know by name."""
    rows = session.execute(
        select(col(Carer.id), col(Carer.name))
        .join(ProxyAppointment, col(ProxyAppointment.proxy_carer_id) == col(Carer.id))
        .where(col(ProxyAppointment.principal_id) == member_id)
    ).all()
    return {carer_id: name for carer_id, name in rows}


def _made_by(v: ChoiceVersion, own_logins: set[str]) -> MadeBy:
    if v.acting_carer_id is not None:
        return MadeBy.carer
    if v.acting_proxy_id is not None:
        return MadeBy.proxy
    return MadeBy.self if v.recorded_by in own_logins else MadeBy.board


def _choices(session: Session, member: Member, carers: dict[int, str]) -> list[ChoiceVersionPart]:
    versions = list(
        session.execute(
            select(ChoiceVersion).where(col(ChoiceVersion.member_id) == member.id).order_by(col(ChoiceVersion.version))
        ).scalars()
    )
    own_logins = {
        f"user:{account_id}"
        for account_id in session.execute(
            select(col(UserAccount.id)).where(col(UserAccount.member_id) == member.id)
        ).scalars()
    }
    mandates = governance.history(session, DocumentKind.mandate)
    lang = language_or_default(member.language)
    out = []
    for v, change in zip(versions, differences(versions), strict=True):
        in_force = [m for m in mandates if m.effective_from <= v.valid_from]
        out.append(
            ChoiceVersionPart(
                version=v.version,
                valid_from=v.valid_from,
                valid_to=v.valid_to,
                is_member=v.is_member,
                opt_out=v.opt_out,
                preferences=[
                    Preference(purpose=p, user_type=u, decision=pref.value)
                    for p, u, pref in encoding.explicit(v.preference_mask)
                ],
                excluded_categories=from_mask(Category, v.excluded_mask),
                sensitive_yes=from_mask(Category, v.sensitive_yes_mask),
                donate_dividend=v.donate_dividend,
                made_by=_made_by(v, own_logins),
                proxy_number=member_number(v.acting_proxy_id) if v.acting_proxy_id is not None else None,
                carer_name=carers.get(v.acting_carer_id) if v.acting_carer_id is not None else None,
                mandate_version=max(in_force, key=lambda m: (m.effective_from, m.version)).version
                if in_force
                else None,
                changes=in_words(change, lang, carers),
            )
        )
    return out


def _status(a: ProxyAppointment, now: datetime) -> ProxyStatus:
    if is_waiting(a, now):
        return ProxyStatus.waiting
    return ProxyStatus.active if is_valid_at(a, now) else ProxyStatus.ended


def _appointment(a: ProxyAppointment, carers: dict[int, str], now: datetime) -> AppointmentPart:
    assert a.id is not None
    ended = a.revoked_at
    if ended is None and a.valid_until is not None and a.valid_until <= now:
        ended = a.valid_until
    return AppointmentPart(
        id=a.id,
        principal_number=member_number(a.principal_id),
        proxy_number=member_number(a.proxy_member_id) if a.proxy_member_id is not None else None,
        carer_name=carers.get(a.proxy_carer_id) if a.proxy_carer_id is not None else None,
        purposes=from_mask(Purpose, a.purposes_mask),
        voting=a.voting,
        appointed_at=a.valid_from,
        valid_until=a.valid_until,
        accepted_at=a.accepted_at,
        ended_at=ended,
        status=_status(a, now),
    )


def _proxies(session: Session, member_id: int, carers: dict[int, str], now: datetime) -> ProxiesPart:
    def appointments(*where: Any) -> list[ProxyAppointment]:
        return list(
            session.execute(select(ProxyAppointment).where(*where).order_by(col(ProxyAppointment.id))).scalars()
        )

    return ProxiesPart(
        appointed=[_appointment(a, carers, now) for a in appointments(col(ProxyAppointment.principal_id) == member_id)],
        acting_for=[_appointment(a, {}, now) for a in appointments(col(ProxyAppointment.proxy_member_id) == member_id)],
    )


def _votes(session: Session, member_id: int, carers: dict[int, str]) -> list[VotePart]:
    rows = session.execute(
        select(Vote, Proposal)
        .join(Proposal, col(Proposal.id) == col(Vote.proposal_id))
        .where(col(Vote.member_id) == member_id)
        .order_by(col(Vote.cast_at), col(Vote.id))
    ).all()
    return [
        VotePart(
            proposal_id=proposal.id or 0,
            proposal_title=proposal.title,
            proposal_kind=proposal.kind,
            vote=vote.vote,
            cast_at=vote.cast_at,
            by_proxy=vote.proxy_member_id is not None or vote.proxy_carer_id is not None,
            proxy_number=member_number(vote.proxy_member_id) if vote.proxy_member_id is not None else None,
            carer_name=carers.get(vote.proxy_carer_id) if vote.proxy_carer_id is not None else None,
        )
        for vote, proposal in rows
    ]


def _manifests(session: Session, member_id: int, pseudonym_key: bytes) -> list[ManifestPart]:
    """The manifests that hold the member, with their pseudonym in each: recomputed with the
    cooperative's key, as the manifest's entry was made (``coop ledger verify`` tells when an
    entry is not its member's)."""
    rows = session.execute(
        select(Permit, Manifest)
        .join(Manifest, col(Manifest.permit_id) == col(Permit.id))
        .join(ManifestMember, col(ManifestMember.manifest_id) == col(Manifest.id))
        .where(col(ManifestMember.member_id) == member_id)
        .order_by(col(Manifest.created_at), col(Manifest.id))
    ).all()
    return [
        ManifestPart(
            permit_id=permit.id or 0,
            permit_number=permit.permit_number,
            applicant=permit.applicant,
            manifest_id=manifest.id or 0,
            created_at=manifest.created_at,
            as_of=manifest.as_of,
            size=manifest.size,
            root_hash=bytes(manifest.root_hash).hex(),
            ledger_seq=manifest.ledger_seq,
            pseudonym=pseudonym(pseudonym_key, permit.id or 0, member_id).hex(),
        )
        for permit, manifest in rows
    ]


def _dividends(session: Session, member_id: int) -> DividendsPart:
    received = [DistributionPart.model_validate(d) for d in distributions.dividends_of(session, member_id)]
    payouts = session.execute(
        select(col(MoneyEntry.booked_on), col(MoneyPosting.amount_cents), col(MoneyEntry.id))
        .join(MoneyEntry, col(MoneyEntry.id) == col(MoneyPosting.entry_id))
        .where(col(MoneyPosting.account) == member_payable(member_id), col(MoneyPosting.amount_cents) > 0)
        .order_by(col(MoneyEntry.booked_on), col(MoneyEntry.id))
    ).all()
    balance, paid = distributions.member_account(session, member_id)
    return DividendsPart(
        distributions=received,
        payouts=[PayoutPart(paid_on=on, amount_cents=cents, entry_id=entry) for on, cents, entry in payouts],
        balance_cents=balance,
        paid_out_cents=paid,
    )


def _subject(kind: str, lang: str) -> str:
    try:
        return translator(lang)(SUBJECTS[MailKind(kind)])
    except (KeyError, ValueError):  # a kind no longer written keeps its code
        return kind


def _messages(session: Session, member_id: int) -> list[MessagePart]:
    rows = session.execute(
        select(OutboxMessage)
        .where(col(OutboxMessage.member_id) == member_id)
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
    ).scalars()
    return [
        MessagePart(
            kind=m.kind,
            subject=_subject(m.kind, m.language),
            language=language_or_default(m.language),
            created_at=m.created_at,
            status=m.status,
            sent_at=m.sent_at,
        )
        for m in rows
    ]


def schema_url(settings: Settings) -> str:
    """The schema's public address: under the portal's public base URL, where the API is served too."""
    return settings.mail.portal_url.rstrip("/") + SCHEMA_URL_PATH


def for_reader(
    session: Session, actor: Actor, member_id: int, settings: Settings, now: datetime
) -> tuple[Member, MemberExport]:
    """The export of ``member_id`` for ``actor``: the member themselves (also after leaving) or the
    board on the member's request. Anyone else is told there is no such member (404)."""
    member = member_queries.get_for(session, actor, member_id)
    key = settings.privacy.pseudonym_key_file.read_bytes().strip()
    return member, build(session, member, schema_url(settings), now, key)


def as_json(export: MemberExport) -> bytes:
    return export.model_dump_json(by_alias=True, indent=2).encode()


def as_pdf(export: MemberExport) -> bytes:
    from reports.export import render

    return render(summary(export))


def file_name(member: Member, now: datetime, suffix: str) -> str:
    """``member-data-M-000001-2026-11-27.json``: whose, and of which day."""
    return f"member-data-{member.number}-{now.date().isoformat()}.{suffix}"


FORMS: dict[str, tuple[Callable[[MemberExport], bytes], str]] = {
    "json": (as_json, "application/json"),
    "pdf": (as_pdf, "application/pdf"),
}
"""The two forms of a member's data: the whole JSON file and the readable PDF summary."""
