"""Reading proxy appointments: which are valid at a time, and what scope they give."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlmodel import Session, col

from coop.members.models import Member, member_number
from coop.proxies.models import ProxyAppointment


def valid_at(at: datetime) -> ColumnElement[bool]:
    """Accepted by ``at``, and neither expired nor revoked by then."""
    return and_(
        col(ProxyAppointment.accepted_at) <= at,
        or_(col(ProxyAppointment.valid_until).is_(None), col(ProxyAppointment.valid_until) > at),
        or_(col(ProxyAppointment.revoked_at).is_(None), col(ProxyAppointment.revoked_at) > at),
    )


def held_at(session: Session, principal_id: int, proxy_member_id: int, at: datetime) -> list[ProxyAppointment]:
    """The appointments valid at ``at`` in which ``proxy_member_id`` acts for ``principal_id``."""
    return list(
        session.execute(
            select(ProxyAppointment)
            .where(
                col(ProxyAppointment.principal_id) == principal_id,
                col(ProxyAppointment.proxy_member_id) == proxy_member_id,
                valid_at(at),
            )
            .order_by(col(ProxyAppointment.id))
        ).scalars()
    )


def proxy_for(session: Session, principal_id: int, purpose_bit: int, at: datetime) -> ProxyAppointment | None:
    """The appointment deciding ``purpose`` for ``principal_id`` at ``at``, if any."""
    return session.execute(
        select(ProxyAppointment)
        .where(
            col(ProxyAppointment.principal_id) == principal_id,
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
    rows = session.execute(select(col(Member.id), col(Member.name)).where(col(Member.id).in_(ids))).all()
    return {i: f"{name} ({member_number(i)})" for i, name in rows}
