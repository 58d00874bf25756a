"""Proxy appointments, and the carers (not members) whom members appoint."""

from __future__ import annotations

from sqlalchemy import Connection

from coop.carers.models import Carer
from coop.proxies.models import ProxyAppointment
from coop.record.tables.common import (
    Groups,
    Keyed,
    all_rows,
    implied,
    payload_keys,
)
from coop.vocabulary.terms import Purpose, from_mask
from ledger import canonical
from ledger.events import format_time
from ledger.verify import Report


class ProxyAppointments(Keyed):
    """A revocation is ``{"appointment_id"}`` when the member revoked, and carries a
    ``reason`` when the appointment ended otherwise (the proxy left): both prove revoked_at.
    The proxy's yes (``proxy.accepted``) proves accepted_at; their no (``proxy.declined``)
    proves revoked_at of an appointment never accepted, which the principal may also have
    withdrawn (``proxy.revoked``): the row cannot tell those two apart, its event does.
    An appointment made before proxies accepted them was in force when made: accepted_at is
    its valid_from, and no event says more."""

    name = "proxy_appointment"
    types = ("proxy.appointed", "proxy.revoked", "proxy.accepted", "proxy.declined")
    proves = (
        "id",
        "principal_id",
        "proxy_member_id",
        "proxy_carer_id",
        "purposes_mask",
        "voting",
        "valid_from",
        "valid_until",
        "revoked_at",
        "appointed_by",
        "needs_acceptance",
        "accepted_at",
        "show_name",
    )
    keys = payload_keys("appointment_id")
    new_fields = frozenset({"needs_acceptance", "show_name", "proxy_carer_id"})

    def groups(self, conn: Connection, report: Report) -> Groups:
        for a in all_rows(conn, ProxyAppointment):
            assert a.id is not None
            row, subject = f"id={a.id}", f"member:{a.principal_id}"
            appointed = {
                "appointment_id": a.id,
                "proxy_member_id": a.proxy_member_id,
                "proxy_carer_id": a.proxy_carer_id,
                "purposes": [p.value for p in from_mask(Purpose, a.purposes_mask)],
                "voting": a.voting,
                "valid_until": a.valid_until.isoformat() if a.valid_until else None,
                "needs_acceptance": a.needs_acceptance,
                "show_name": a.show_name,
            }
            at = format_time(a.valid_from)
            expected = [implied(row, "proxy.appointed", subject, at, a.appointed_by, canonical.dumps(appointed))]
            just_id = canonical.dumps({"appointment_id": a.id})
            if not a.needs_acceptance and a.accepted_at != a.valid_from:
                report.disagree(self.name, row, None, "an appointment in force when made was accepted at another time")
            if a.needs_acceptance and a.accepted_at is not None:
                expected.append(implied(row, "proxy.accepted", subject, format_time(a.accepted_at), None, just_id))
            if a.revoked_at is not None:
                unanswered = a.needs_acceptance and a.accepted_at is None
                ended = None if unanswered else "proxy.revoked"
                expected.append(implied(row, ended, subject, format_time(a.revoked_at), None, just_id))
            yield a.id, expected


class Carers(Keyed):
    """A carer's row is proven by ``carer.registered``; their name and email are personal data
    (:data:`coop.record.verification.NOT_PROVEN`)."""

    name = "carer"
    types = ("carer.registered",)
    proves = ("id", "language", "created_at")

    def groups(self, conn: Connection, report: Report) -> Groups:
        for c in all_rows(conn, Carer):
            assert c.id is not None
            payload = canonical.dumps({"language": c.language})
            yield (
                c.id,
                [implied(f"id={c.id}", "carer.registered", f"carer:{c.id}", format_time(c.created_at), None, payload)],
            )
