"""Requests for four eyes (board_approval): each asked by one board user, and decided once."""

from __future__ import annotations

from sqlalchemy import Connection

from coop.approvals.models import BoardApproval, decided_payload, requested_payload
from coop.record.tables.common import Groups, Keyed, all_rows, implied
from ledger import canonical
from ledger.events import format_time
from ledger.verify import Report


class BoardApprovals(Keyed):
    name = "board_approval"
    types = ("approval.requested", "approval.approved", "approval.declined", "approval.withdrawn")
    proves = (
        "id",
        "action",
        "target",
        "distribution_id",
        "year",
        "languages",
        "pinned",
        "requested_by",
        "requested_at",
        "outcome",
        "decided_by",
        "decided_at",
    )

    def groups(self, conn: Connection, report: Report) -> Groups:
        for row in all_rows(conn, BoardApproval):
            assert row.id is not None
            label, subject = f"id={row.id}", f"approval:{row.id}"
            expected = [
                implied(
                    label,
                    "approval.requested",
                    subject,
                    format_time(row.requested_at),
                    row.requested_by,
                    canonical.dumps(requested_payload(row)),
                )
            ]
            if row.decided_at is not None:
                expected.append(
                    implied(
                        label,
                        f"approval.{row.outcome}",
                        subject,
                        format_time(row.decided_at),
                        row.decided_by,
                        canonical.dumps(decided_payload(row)),
                    )
                )
            yield row.id, expected
