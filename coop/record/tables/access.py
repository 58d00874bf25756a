"""The access log (access_record, with the members a list showed): each row made by one
``access.recorded`` event, whose payload names the listed members too.

Read in key order a slice at a time (the log grows with every read by the board, a proxy or a
permit), with the members of each slice's lists in one query."""

from __future__ import annotations

from sqlalchemy import Connection, select

from coop.access.models import AccessRecord, AccessRecordMember, recorded_payload
from coop.record.tables.common import Groups, Keyed, implied
from ledger import canonical
from ledger.events import format_time
from ledger.verify import Report

SLICE = 5_000


class AccessRecords(Keyed):
    name = "access_record"
    types = ("access.recorded",)
    parts = {"members": "access_record_member"}
    proves = ("id", "at", "role", "reader", "purpose", "what", "member_id", "manifest_id")

    def groups(self, conn: Connection, report: Report) -> Groups:
        table, listed = AccessRecord.__table__, AccessRecordMember.__table__  # type: ignore[attr-defined]
        after = 0
        while True:
            rows = [
                AccessRecord(**dict(r._mapping))
                for r in conn.execute(select(table).where(table.c.id > after).order_by(table.c.id).limit(SLICE))
            ]
            if not rows:
                return
            last = rows[-1].id or 0
            members: dict[int, list[int]] = {}
            for record_id, member_id in conn.execute(
                select(listed.c.record_id, listed.c.member_id).where(
                    listed.c.record_id > after, listed.c.record_id <= last
                )
            ):
                members.setdefault(record_id, []).append(member_id)
            for row in rows:
                assert row.id is not None
                payload = canonical.dumps(recorded_payload(row, members.get(row.id, [])))
                event = implied(
                    f"id={row.id}", "access.recorded", f"access:{row.id}", format_time(row.at), row.reader, payload
                )
                yield row.id, [event]
            after = last
