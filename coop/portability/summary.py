"""The readable summary of a member's export, for its PDF: how many items each part holds and
the latest of them, in the member's language."""

from __future__ import annotations

from coop.portability.schemas import MemberExport
from reports.inputs import Change, DataSummary, Line

RECENT = 5
"""How many of the latest items of a part the summary shows."""


def summary(export: MemberExport) -> DataSummary:
    member = export.member
    received = export.dividends.distributions
    return DataSummary(
        name=member.name,
        number=member.number,
        email=member.email,
        language=member.language.value,
        status=member.status,
        admitted_at=member.admitted_at,
        left_at=member.left_at,
        exported_at=export.exported_at,
        choice_versions=len(export.choices_history),
        recent_changes=[
            Change(v.version, v.valid_from, v.opt_out, tuple(v.changes)) for v in export.choices_history[-RECENT:]
        ],
        proxies_appointed=len(export.proxies.appointed),
        acting_for=len(export.proxies.acting_for),
        votes=len(export.votes),
        recent_votes=[
            Line(v.cast_at, (v.proposal_title, v.vote, "yes" if v.by_proxy else "no")) for v in export.votes[-RECENT:]
        ],
        manifests=len(export.manifests),
        recent_manifests=[
            Line(m.created_at, (m.permit_number, str(m.manifest_id), m.pseudonym)) for m in export.manifests[-RECENT:]
        ],
        distributions=len(received),
        received_cents=sum(d.total_cents for d in received),
        paid_out_cents=export.dividends.paid_out_cents,
        balance_cents=export.dividends.balance_cents,
        messages=len(export.messages),
        recent_messages=[Line(m.created_at, (m.subject, m.status)) for m in export.messages[-RECENT:]],
        accesses=len(export.access_log),
        recent_accesses=[Line(a.at, (a.reader, a.what)) for a in export.access_log[-RECENT:]],
    )
