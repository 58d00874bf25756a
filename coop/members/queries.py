"""Reads of members: one member as an actor may see them, the board's search, and a new email
address waiting for its link."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlmodel import Session, col

from coop.auth.policy import Actor, can_read_member
from coop.errors import NotFound
from coop.members.models import EmailChange, Member, MemberStatus, parse_member_number


def get_for(session: Session, actor: Actor, member_id: int) -> Member:
    """The member, if this actor may see them; otherwise NotFound, exactly as if absent."""
    member = session.get(Member, member_id) if can_read_member(actor, member_id) else None
    if member is None:
        raise NotFound(f"no member {member_id}", code="member-not-found")
    return member


def taken(session: Session, emails: Collection[str], references: Collection[str]) -> tuple[set[str], set[str]]:
    """Which of these (normalised) emails and references are a member's already."""
    found_emails = (
        set(session.execute(select(col(Member.email)).where(col(Member.email).in_(emails))).scalars())
        if emails
        else set()
    )
    found_refs = (
        set(session.execute(select(col(Member.external_ref)).where(col(Member.external_ref).in_(references))).scalars())
        if references
        else set()
    )
    return found_emails, {r for r in found_refs if r is not None}


def search(
    session: Session, q: str | None, status: MemberStatus | None, limit: int, offset: int
) -> tuple[list[Member], int]:
    stmt = select(Member)
    if q:
        number = parse_member_number(q)
        like = f"%{q.strip().lower()}%"
        conditions: list[ColumnElement[bool]] = [func.lower(col(Member.name)).like(like), col(Member.email).like(like)]
        if number is not None:
            conditions.append(col(Member.id) == number)
        stmt = stmt.where(or_(*conditions))
    if status is not None:
        stmt = stmt.where(col(Member.status) == status.value)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(col(Member.id)).limit(limit).offset(offset)).scalars()
    return list(rows), int(total)


def pending_email_change(session: Session, member_id: int, now: datetime) -> EmailChange | None:
    """The new address whose link may still be followed, if any (at most one: a newer request
    withdraws the older)."""
    return session.execute(
        select(EmailChange).where(
            col(EmailChange.member_id) == member_id,
            col(EmailChange.used_at).is_(None),
            col(EmailChange.withdrawn_at).is_(None),
            col(EmailChange.expires_at) > now,
        )
    ).scalar_one_or_none()
