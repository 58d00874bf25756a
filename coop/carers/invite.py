"""A member appoints a carer: the carer found or registered (with their login and a link to
set its password), the appointment asking them, and one message that invites them.

The message says who asked (the member number, or the name when the member lets the carer
see it) and what a carer may do; a new carer's message carries the single-use link to set
a password, a known carer's sends them to the portal to answer."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from coop.auth.policy import Actor
from coop.carers import service as carers
from coop.mail.models import MailKind
from coop.mail.outbox import ContextValue
from coop.members.models import Member, member_number
from coop.proxies import service as proxies
from coop.proxies.models import ProxyAppointment
from coop.settings import Settings
from coop.vocabulary.terms import Purpose


def appoint_carer(
    session: Session,
    actor: Actor,
    settings: Settings,
    principal_id: int,
    new: carers.NewCarer,
    purposes: list[Purpose] | None,
    valid_until: datetime | None,
    voting: bool,
    now: datetime,
    show_name: bool = False,
) -> ProxyAppointment:
    proxies.open_scope(session, actor, principal_id, purposes, valid_until, now)  # before anyone is registered
    found = carers.find_or_register(session, actor, settings.auth, new, now)
    assert found.carer.id is not None
    appointment = proxies.appoint_carer(
        session, actor, principal_id, found.carer.id, purposes, valid_until, voting, now, show_name
    )
    principal = session.get(Member, principal_id)
    assert principal is not None
    asker = f"{principal.name} ({member_number(principal_id)})" if show_name else member_number(principal_id)
    context: dict[str, ContextValue] = {
        "principal": asker,
        "voting": voting,
        "token": found.token,
        "hours": settings.auth.invitation_hours,
    }
    carers.tell(session, found.carer.id, MailKind.carer_invitation, context, now)
    return appointment
