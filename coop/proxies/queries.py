"""Reading proxy appointments: which are valid at a time, and what scope they give."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlmodel import Session, col

from coop.auth.policy import Actor
from coop.carers.models import carer_label
from coop.members.models import Member, member_number
from coop.proxies.models import ProxyAppointment


def valid_at(at: datetime) -> ColumnElement[bool]:
    """Accepted by ``at``, and neither expired nor revoked by then."""
    return and_(
        col(ProxyAppointment.accepted_at) <= at,
        or_(col(ProxyAppointment.valid_until).is_(None), col(ProxyAppointment.valid_until) > at),
        or_(col(ProxyAppointment.revoked_at).is_(None), col(ProxyAppointment.revoked_at) > at),
    )


def by_proxy(member_id: int | None, carer_id: int | None) -> ColumnElement[bool]:
    """The appointments of this proxy: a carer (``carer_id``), else a member."""
    if carer_id is not None:
        return col(ProxyAppointment.proxy_carer_id) == carer_id
    return col(ProxyAppointment.proxy_member_id) == (member_id or 0)


def held_at(
    session: Session, principal_id: int, proxy_member_id: int | None, at: datetime, carer_id: int | None = None
) -> list[ProxyAppointment]:
    """The appointments valid at ``at`` in which ``proxy_member_id`` (or the carer
    ``carer_id``) acts for ``principal_id``."""
    return list(
        session.execute(
            select(ProxyAppointment)
            .where(
                col(ProxyAppointment.principal_id) == principal_id,
                by_proxy(proxy_member_id, carer_id),
                valid_at(at),
            )
            .order_by(col(ProxyAppointment.id))
        ).scalars()
    )


def proxy_for(session: Session, principal_id: int, purpose_bit: int, at: datetime) -> ProxyAppointment | None:
    """The appointment deciding ``purpose`` for ``principal_id`` at ``at``, if any: a member's
    (a carer has no choices of their own to follow; they change the principal's)."""
    return session.execute(
        select(ProxyAppointment)
        .where(
            col(ProxyAppointment.principal_id) == principal_id,
            col(ProxyAppointment.proxy_member_id).is_not(None),
            col(ProxyAppointment.purposes_mask).op("&")(purpose_bit) != 0,
            valid_at(at),
        )
        .order_by(col(ProxyAppointment.accepted_at).desc())
        .limit(1)
    ).scalar_one_or_none()


def active_from(session: Session, at: datetime) -> list[ProxyAppointment]:
    """Appointments valid at ``at`` or later (not revoked, not expired by then), and those
    still waiting for their proxy's answer."""
    return list(
        session.execute(
            select(ProxyAppointment).where(
                or_(col(ProxyAppointment.valid_until).is_(None), col(ProxyAppointment.valid_until) > at),
                col(ProxyAppointment.revoked_at).is_(None),
            )
        ).scalars()
    )


def in_force_for(session: Session, principal_id: int, now: datetime) -> list[ProxyAppointment]:
    """The principal's appointments valid at ``now``."""
    return list(
        session.execute(
            select(ProxyAppointment)
            .where(col(ProxyAppointment.principal_id) == principal_id, valid_at(now))
            .order_by(col(ProxyAppointment.id))
        ).scalars()
    )


def shown_names(session: Session, appointments: list[ProxyAppointment]) -> dict[int, str]:
    """The names the principals of ``appointments`` agreed to show their proxy (``show_name``),
    with their member numbers, by principal."""
    ids = [a.principal_id for a in appointments if a.show_name]
    if not ids:
        return {}
    rows = session.execute(
        select(col(Member.id), col(Member.name)).where(col(Member.id).in_(ids), col(Member.name_erased_at).is_(None))
    ).all()
    return {i: f"{name} ({member_number(i)})" for i, name in rows}  # an erased name is not shown: the number is


def holds(actor: Actor, appointment: ProxyAppointment) -> bool:
    """Whether the actor is the appointment's proxy (the member, or the carer, it names)."""
    if actor.carer_id is not None:
        return appointment.proxy_carer_id == actor.carer_id
    return actor.member_id is not None and appointment.proxy_member_id == actor.member_id


def proxy_number(a: ProxyAppointment) -> str:
    """The proxy as the board's pages name them: a member number, or a carer's number."""
    return member_number(a.proxy_member_id) if a.proxy_member_id is not None else carer_label(a.proxy_carer_id or 0)
