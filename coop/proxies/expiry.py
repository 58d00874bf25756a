"""Telling principals and proxies when an appointment reaches its end date.

Nothing commits when an appointment's ``valid_until`` passes, so the mail worker's schedule
(:mod:`coop.mail.schedule`) looks for appointments whose end date passed since its last look
and sends the same notices as a revocation (``proxy-ended`` to the principal,
``acting-for-ended`` to the proxy), saying that the end date was reached. A look covers end
dates up to a few minutes before it is made, so an appointment still being written is not
missed; the next look begins where the last ended. The first look of a new installation only
marks where the looking begins.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlmodel import Session, col

from coop.carers import service as carers
from coop.choices import notices
from coop.mail import schedule
from coop.mail.models import MailKind
from coop.mail.outbox import ContextValue
from coop.members.models import member_number
from coop.proxies.models import ProxyAppointment
from coop.settings import Settings

KIND = "proxy-expired"
GRACE = timedelta(minutes=5)
"""How far behind the moment of a look its window ends."""


def tell_expired(session: Session, settings: Settings, now: datetime) -> None:
    """The scheduled pass: tell both sides of every appointment whose end date passed (and
    that was not revoked before it) since the last pass."""
    del settings
    previous = schedule.latest(session, KIND)
    until = now - GRACE
    start = None if previous is None else previous.created_at - GRACE
    if start is not None and until <= start:
        return
    run = schedule.begin(session, KIND, "start" if start is None else start.isoformat(), None, now)
    if run is None or start is None:
        return
    ended = session.execute(
        select(ProxyAppointment)
        .where(
            col(ProxyAppointment.valid_until) > start,
            col(ProxyAppointment.valid_until) <= until,
            or_(
                col(ProxyAppointment.revoked_at).is_(None),
                col(ProxyAppointment.revoked_at) > col(ProxyAppointment.valid_until),
            ),
        )
        .order_by(col(ProxyAppointment.id))
    ).scalars()
    for appointment in list(ended):
        principal, proxy, carer = appointment.principal_id, appointment.proxy_member_id, appointment.proxy_carer_id
        named = carers.name_of(session, carer) if carer is not None else member_number(proxy or 0)
        notices.notify(session, principal, MailKind.proxy_ended, {"proxy": named, "reason": "expired"}, now)
        context: dict[str, ContextValue] = {
            "principal": member_number(principal),
            "reason": "expired",
            "voting": appointment.voting,
        }
        if proxy is not None:
            notices.notify(session, proxy, MailKind.acting_for_ended, context, now)
        elif carer is not None:
            carers.tell(session, carer, MailKind.acting_for_ended, context, now)
        run.messages += 2


PASSES: tuple[schedule.MailPass, ...] = (tell_expired,)
"""This domain's scheduled passes (see :mod:`coop.mail.schedule`)."""
