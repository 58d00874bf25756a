"""Appointing and revoking proxies, the proxy's answer, and ending them when a member leaves.

An appointment asks the proxy: it is in force from the moment they accept (``proxy.accepted``)
until it ends; they may decline instead (``proxy.declined``), and the principal may withdraw
the question as they revoke an appointment. Until the proxy accepts, the mandate decides
what the principal left to them.

An appointment is refused when it would close a cycle (following proxies for any of its
purposes leads back to the principal) or make a chain longer than the configured depth,
checked against every appointment valid now or later. Since appointments start when they
are made, no cycle can then exist at any time, past or future.

A member who leaves can no longer act for anyone, and nobody acts for them any more:
leaving ends their appointments on both sides (see :func:`end_for_leaver`).

Each appointment and each ending is told by mail to both sides (:mod:`coop.choices.notices`):
the principal, with who did it; the proxy, with the principal's member number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel import Session, col

from coop.auth.policy import Actor, Denied, Permission, can_manage_proxies, has, require_own_record
from coop.carers import service as carers
from coop.choices import notices
from coop.choices import service as choices_service
from coop.errors import Conflict, Forbidden, Invalid, NotFound
from coop.mail.models import MailKind
from coop.mail.outbox import ContextValue
from coop.members.models import Member, MemberStatus, member_number
from coop.proxies.models import ProxyAppointment
from coop.proxies.queries import active_from, holds
from coop.vocabulary.terms import ALL_PURPOSES, Purpose, from_mask, mask, position
from ledger import log

ProxyAnswer = Callable[[Session, Actor, int | None, int, datetime], ProxyAppointment]
"""How the proxy answers an appointment made to them: :func:`accept`, :func:`decline`, :func:`step_down`."""


def _payload(a: ProxyAppointment) -> dict[str, object]:
    return {
        "appointment_id": a.id,
        "proxy_member_id": a.proxy_member_id,
        "proxy_carer_id": a.proxy_carer_id,
        "purposes": [p.value for p in from_mask(Purpose, a.purposes_mask)],
        "voting": a.voting,
        "valid_until": a.valid_until.isoformat() if a.valid_until else None,
        "needs_acceptance": a.needs_acceptance,
        "show_name": a.show_name,
    }


def _may_manage(actor: Actor, principal_id: int) -> None:
    require_own_record(actor, principal_id)
    decision = can_manage_proxies(actor, principal_id)
    if isinstance(decision, Denied):
        raise Forbidden(decision.reason, code=decision.code)


def _members(session: Session, *member_ids: int) -> dict[int, Member]:
    rows = session.execute(select(Member).where(col(Member.id).in_(member_ids))).scalars()
    return {m.id: m for m in rows if m.id is not None}


def chain_problem(
    edges: dict[int, list[tuple[int, int]]], principal: int, proxy: int, purposes: int, max_depth: int
) -> str | None:
    """Why adding ``principal -> proxy`` for ``purposes`` is refused, or None.

    ``edges`` maps a principal to its (proxy, purposes mask) appointments. For each purpose
    the chain from the new proxy onward is followed; a return to the principal is a cycle,
    and a chain longer than ``max_depth`` links (the new one included) is too deep.
    """
    for p in from_mask(Purpose, purposes):
        bit = 1 << position(p)
        node, depth, seen = proxy, 1, {principal}
        while True:
            if node in seen:
                return f"cycle: following proxies for {p} leads back to member {node}"
            seen.add(node)
            nxt = next((q for q, m in edges.get(node, []) if m & bit), None)
            if nxt is None:
                break
            node, depth = nxt, depth + 1
            if depth > max_depth:
                return f"the chain of proxies for {p} would be longer than {max_depth}"
    return None


def open_scope(
    session: Session,
    actor: Actor,
    principal_id: int,
    purposes: list[Purpose] | None,
    valid_until: datetime | None,
    now: datetime,
) -> tuple[int, list[ProxyAppointment]]:
    """What every appointment checks: the principal may appoint, the end lies ahead, and no
    other appointment covers these purposes. The scope and the appointments valid from now."""
    _may_manage(actor, principal_id)
    principal = session.get(Member, principal_id)
    if principal is None:
        raise NotFound(f"no member {principal_id}", code="member-not-found")
    if principal.status != MemberStatus.active.value:
        raise Conflict("a member who left appoints no proxies", code="membership-ended")
    if valid_until is not None and valid_until <= now:
        raise Invalid("valid_until must lie in the future", code="proxy-expired", field="valid_until")
    scope = mask(purposes) if purposes else ALL_PURPOSES
    current = active_from(session, now)
    overlap = [a for a in current if a.principal_id == principal_id and a.purposes_mask & scope]
    if overlap:
        taken = ", ".join(p.value for p in from_mask(Purpose, scope & overlap[0].purposes_mask))
        raise Conflict(f"a proxy is appointed already for {taken}; revoke it first", code="proxy-overlap")
    return scope, current


def appoint(
    session: Session,
    actor: Actor,
    principal_id: int,
    proxy_member_id: int,
    purposes: list[Purpose] | None,
    valid_until: datetime | None,
    voting: bool,
    max_depth: int,
    now: datetime,
    show_name: bool = False,
) -> ProxyAppointment:
    """Ask ``proxy_member_id`` to decide for the principal on ``purposes`` (all when None);
    in force once they accept (:func:`accept`). ``show_name``: the proxy may see the
    principal's name, not only their member number."""
    _may_manage(actor, principal_id)
    if proxy_member_id == principal_id:
        raise Invalid("a member cannot be their own proxy", code="proxy-self", field="proxy_member_id")
    scope, current = open_scope(session, actor, principal_id, purposes, valid_until, now)
    proxy = session.get(Member, proxy_member_id)
    if proxy is None or proxy.status != MemberStatus.active.value:
        raise Invalid(
            "the proxy must be an active member of the cooperative", code="proxy-not-member", field="proxy_member_id"
        )
    edges: dict[int, list[tuple[int, int]]] = {}
    for a in current:
        if a.proxy_member_id is not None:  # a carer has no proxies of their own: no chain goes on
            edges.setdefault(a.principal_id, []).append((a.proxy_member_id, a.purposes_mask))
    problem = chain_problem(edges, principal_id, proxy_member_id, scope, max_depth)
    if problem:
        raise Conflict(problem, code="proxy-cycle" if problem.startswith("cycle") else "proxy-chain-too-deep")
    appointment = _made(actor, principal_id, scope, voting, valid_until, show_name, now)
    appointment.proxy_member_id = proxy_member_id
    _record(session, actor, appointment, now)
    choices_service.delegate(session, actor, principal_id, scope, now)  # the proxy's, once they accept
    _tell(session, actor, appointment, "appointed", now)
    return appointment


def appoint_carer(
    session: Session,
    actor: Actor,
    principal_id: int,
    carer_id: int,
    purposes: list[Purpose] | None,
    valid_until: datetime | None,
    voting: bool,
    now: datetime,
    show_name: bool = False,
) -> ProxyAppointment:
    """Ask the carer ``carer_id`` (not a member: see :mod:`coop.carers.service`) to act for
    the principal on ``purposes``. No chain can follow a carer, who has no proxies, and the
    principal's preferences stay as they are: the carer, once they accept, changes the
    principal's own choices for them, within the scope. The carer's message is sent by the
    caller, who knows whether the carer is new (an invitation) or known."""
    scope, _ = open_scope(session, actor, principal_id, purposes, valid_until, now)
    appointment = _made(actor, principal_id, scope, voting, valid_until, show_name, now)
    appointment.proxy_carer_id = carer_id
    _record(session, actor, appointment, now)
    _tell(session, actor, appointment, "appointed", now)
    return appointment


def _made(actor: Actor, principal_id: int, scope: int, voting: bool, valid_until: datetime | None,
          show_name: bool, now: datetime) -> ProxyAppointment:  # fmt: skip
    return ProxyAppointment(principal_id=principal_id, purposes_mask=scope, voting=voting, valid_from=now,
                            valid_until=valid_until, appointed_by=actor.ledger_name, show_name=show_name)  # fmt: skip


def _record(session: Session, actor: Actor, appointment: ProxyAppointment, now: datetime) -> None:
    session.add(appointment)
    session.flush()
    subject = f"member:{appointment.principal_id}"
    log.append(session, "proxy.appointed", actor.ledger_name, subject, _payload(appointment), at=now)


def _asked(session: Session, actor: Actor, proxy_member_id: int | None, appointment_id: int) -> ProxyAppointment:
    """The appointment ``appointment_id`` asking ``proxy_member_id`` (None: the carer who is
    the actor), when the actor is that proxy; to anyone else it does not exist."""
    appointment = session.get(ProxyAppointment, appointment_id)
    if (
        appointment is None
        or appointment.proxy_member_id != proxy_member_id
        or not holds(actor, appointment)
        or not has(actor, Permission.act_as_proxy)
    ):
        raise NotFound(f"no proxy appointment {appointment_id}", code="proxy-not-found")
    return appointment


def _unanswered(appointment: ProxyAppointment, now: datetime) -> None:
    if appointment.accepted_at is not None:
        raise Conflict("you accepted this appointment already", code="proxy-answered")
    if appointment.revoked_at is not None or (appointment.valid_until is not None and appointment.valid_until <= now):
        raise Conflict("this appointment has ended", code="proxy-ended")


def accept(
    session: Session, actor: Actor, proxy_member_id: int | None, appointment_id: int, now: datetime
) -> ProxyAppointment:
    """The proxy says yes: from now on they decide for the principal within the appointment's
    scope (and vote for them when it includes voting). The principal is told. Accepting
    again changes nothing."""
    appointment = _asked(session, actor, proxy_member_id, appointment_id)
    if appointment.accepted_at is not None and appointment.revoked_at is None:
        return appointment
    _unanswered(appointment, now)
    appointment.accepted_at = now
    session.flush()
    subject = f"member:{appointment.principal_id}"
    log.append(session, "proxy.accepted", actor.ledger_name, subject, {"appointment_id": appointment.id}, at=now)
    _tell(session, actor, appointment, "accepted", now)
    return appointment


def decline(
    session: Session, actor: Actor, proxy_member_id: int | None, appointment_id: int, now: datetime
) -> ProxyAppointment:
    """The proxy says no: the appointment ends without having been in force, and the
    principal is told (for what they left to the proxy, the mandate goes on deciding).
    Declining again changes nothing; an accepted appointment is ended by stepping down."""
    appointment = _asked(session, actor, proxy_member_id, appointment_id)
    if appointment.revoked_at is not None and appointment.accepted_at is None:
        return appointment
    _unanswered(appointment, now)
    appointment.revoked_at = now
    session.flush()
    subject = f"member:{appointment.principal_id}"
    log.append(session, "proxy.declined", actor.ledger_name, subject, {"appointment_id": appointment.id}, at=now)
    _tell(session, actor, appointment, "declined", now)
    return appointment


def _tell(session: Session, actor: Actor, appointment: ProxyAppointment, reason: str, now: datetime) -> None:
    """Tell the principal and the proxy that the appointment was made (the proxy is asked),
    accepted, declined or ended (``reason``: ``appointed``, ``accepted``, ``declined``,
    ``revoked``, ``stepped-down``, ``proxy-left`` or ``principal-left``); a member who left
    is not told, nor is a proxy of their own answer or step. The principal is told a carer's
    name (they chose that person); a proxy learns the principal's member number."""
    principal, proxy, carer = appointment.principal_id, appointment.proxy_member_id, appointment.proxy_carer_id
    if reason == "appointed":
        mine, theirs = MailKind.proxy_appointed, MailKind.acting_for_started
    elif reason == "accepted":
        mine, theirs = MailKind.proxy_accepted, MailKind.acting_for_started
    else:
        mine, theirs = MailKind.proxy_ended, MailKind.acting_for_ended
    named = carers.name_of(session, carer) if carer is not None else member_number(proxy or 0)
    if reason != "principal-left":
        context: dict[str, ContextValue] = {
            **notices.by_whom(actor, principal, session),
            "proxy": named,
            "reason": reason,
        }
        notices.notify(session, principal, mine, context, now)
    if reason in ("proxy-left", "stepped-down", "accepted", "declined"):
        return
    context = {"principal": member_number(principal), "reason": reason, "voting": appointment.voting}
    if proxy is not None:
        notices.notify(session, proxy, theirs, context, now)
    elif carer is not None and reason != "appointed":  # a carer is asked by the caller (see appoint_carer)
        carers.tell(session, carer, theirs, context, now)


def _end(session: Session, actor: Actor, appointment: ProxyAppointment, reason: str, now: datetime) -> None:
    """End the appointment now, unless it ended already: the principal's ``proxy.revoked``
    event by ``actor``, and both sides told as ``reason`` says."""
    if appointment.revoked_at is not None:
        return
    appointment.revoked_at = now
    session.flush()
    subject = f"member:{appointment.principal_id}"
    log.append(session, "proxy.revoked", actor.ledger_name, subject, {"appointment_id": appointment.id}, at=now)
    _tell(session, actor, appointment, reason, now)


def revoke(session: Session, actor: Actor, principal_id: int, appointment_id: int, now: datetime) -> ProxyAppointment:
    """End an appointment now. Revoking again changes nothing."""
    _may_manage(actor, principal_id)
    appointment = session.get(ProxyAppointment, appointment_id)
    if appointment is None or appointment.principal_id != principal_id:
        raise NotFound(f"no proxy appointment {appointment_id}", code="proxy-not-found")
    _end(session, actor, appointment, "revoked", now)
    return appointment


def step_down(
    session: Session, actor: Actor, proxy_member_id: int | None, appointment_id: int, now: datetime
) -> ProxyAppointment:
    """The proxy ends their own appointment now (the principal is told, and falls back to the
    mandate for those purposes). Stepping down again changes nothing. The event is the
    principal's ``proxy.revoked``, with the proxy as its actor. An appointment not yet
    accepted is declined instead."""
    appointment = _asked(session, actor, proxy_member_id, appointment_id)
    if is_waiting(appointment, now):
        return decline(session, actor, proxy_member_id, appointment_id, now)
    _end(session, actor, appointment, "stepped-down", now)
    return appointment


def running_for(session: Session, member_id: int, at: datetime) -> list[ProxyAppointment]:
    """The appointments still running at ``at`` in which the member acts for others or
    others act for them."""
    return list(
        session.execute(
            select(ProxyAppointment)
            .where(
                or_(
                    col(ProxyAppointment.proxy_member_id) == member_id,
                    col(ProxyAppointment.principal_id) == member_id,
                ),
                col(ProxyAppointment.revoked_at).is_(None),
                or_(col(ProxyAppointment.valid_until).is_(None), col(ProxyAppointment.valid_until) > at),
            )
            .order_by(col(ProxyAppointment.id))
        ).scalars()
    )


def end_for_leaver(
    session: Session, actor: Actor, running: list[ProxyAppointment], member_id: int, at: datetime
) -> None:
    """End, at ``at``, the leaving member's running appointments (from :func:`running_for`):
    as a proxy (reason ``proxy-left``: each principal falls back to the mandate) and as a
    principal (``principal-left``: nobody decides for a former member). Each ending is a
    ``proxy.revoked`` event under the principal."""
    for appointment in running:
        appointment.revoked_at = at
    session.flush()
    for appointment in running:
        reason = "proxy-left" if appointment.proxy_member_id == member_id else "principal-left"
        log.append(
            session,
            "proxy.revoked",
            actor.ledger_name,
            f"member:{appointment.principal_id}",
            {"appointment_id": appointment.id, "reason": reason},
            at=at,
        )
        _tell(session, actor, appointment, reason, at)


def listing(session: Session, actor: Actor, member_id: int) -> list[ProxyAppointment]:
    """Appointments the member made, and those in which they act for others."""
    require_own_record(actor, member_id)
    return list(
        session.execute(
            select(ProxyAppointment)
            .where(
                or_(col(ProxyAppointment.principal_id) == member_id, col(ProxyAppointment.proxy_member_id) == member_id)
            )
            .order_by(col(ProxyAppointment.id))
        ).scalars()
    )


def is_waiting(a: ProxyAppointment, now: datetime) -> bool:
    """Whether the appointment still waits for the proxy's answer."""
    return a.accepted_at is None and a.revoked_at is None and (a.valid_until is None or a.valid_until > now)


def is_valid_at(a: ProxyAppointment, now: datetime) -> bool:
    """Whether the appointment holds at ``now``: accepted, not ended, not revoked."""
    return (
        a.accepted_at is not None
        and a.accepted_at <= now
        and (a.valid_until is None or a.valid_until > now)
        and (a.revoked_at is None or a.revoked_at > now)
    )
