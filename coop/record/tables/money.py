"""The books (accounts and entries) and the yearly distributions."""

from __future__ import annotations

import hashlib
from itertools import groupby
from typing import Any, ClassVar

import numpy as np
from sqlalchemy import Connection

from coop.approvals.models import Action, BoardApproval, Outcome
from coop.money.closing import FourEyes, committed_payload
from coop.money.distributions import PERMIT_SPLIT, SHARE_ROW, drafted_payload
from coop.money.models import Distribution, DistributionPermit
from coop.record.tables.common import (
    Groups,
    Keyed,
    all_rows,
    implied,
    json_text,
    seq_keys,
)
from ledger import books, canonical
from ledger.events import format_time
from ledger.verify import Report, stream


class MoneyAccounts(Keyed):
    name = "money_account"
    types = ("money.accounts-opened",)
    proves = ("code", "kind", "name", "no_negative", "ledger_seq")
    keeps_time = frozenset(types)

    keys = seq_keys

    def label(self, key: int) -> str:
        return f"ledger_seq={key}"

    def groups(self, conn: Connection, report: Report) -> Groups:
        order = ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""
        sql = f"SELECT ledger_seq, code, kind, name, no_negative FROM money_account ORDER BY ledger_seq, code{order}"  # noqa: S608
        rows = (row for batch in stream(conn, sql, "reconcile_money_accounts") for row in batch)
        unrecorded = 0
        for seq, opened in groupby(rows, key=lambda r: r[0]):
            lines = [books.account_line(code, kind, name, bool(nn)) for _, code, kind, name, nn in opened]
            if seq is None:
                unrecorded += len(lines)
                continue
            payload = canonical.dumps(books.accounts_opened(lines))
            row = f"ledger_seq={seq} ({len(lines)} accounts)"
            yield seq, [implied(row, self.types[0], books.ACCOUNTS_SUBJECT, None, None, payload)]
        if unrecorded:
            report.warnings.append(
                f"{unrecorded} money_account rows were opened before accounts were recorded in the ledger: "
                "their kind, name and no_negative are not proven"
            )


class MoneyEntries(Keyed):
    name = "money_entry"
    types = ("money.entry",)
    proves = ("id", "booked_on", "description", "ledger_seq")
    parts: ClassVar[dict[str, str]] = {"postings": "money_posting"}
    keeps_time = frozenset(types)

    keys = seq_keys

    def label(self, key: int) -> str:
        return f"ledger_seq={key}"

    def groups(self, conn: Connection, report: Report) -> Groups:
        booked = "to_char(e.booked_on, 'YYYY-MM-DD')" if conn.dialect.name == "postgresql" else "e.booked_on"
        sql = (
            f"SELECT e.ledger_seq, e.id, {booked}, e.description, p.account, p.amount_cents "  # noqa: S608
            "FROM money_entry e LEFT JOIN money_posting p ON p.entry_id = e.id ORDER BY e.ledger_seq, e.id, p.line"
        )
        rows = (row for batch in stream(conn, sql, "reconcile_money_entries") for row in batch)
        for (seq, entry_id), group in groupby(rows, key=lambda r: (r[0], r[1])):
            postings = list(group)
            first = postings[0]
            lines = postings if first[4] is not None else []
            listed = "[" + ",".join(f'["{p[4]}",{p[5]}]' for p in lines) + "]"
            if len(listed) > books.LISTED_POSTINGS_BYTES:
                listed = books.postings_recorded([(p[4], p[5]) for p in lines], listed)
            payload = (
                f'{{"booked_on":"{first[2]}","description":{json_text(first[3])},"id":{json_text(entry_id)},'
                f'"postings":{listed}}}'
            )
            yield seq, [implied(f"id={entry_id}", self.types[0], f"entry:{entry_id}", None, None, payload)]


class Distributions(Keyed):
    """Distributions with their permits' splits (listed in the drafted event) and their
    members' shares (a digest in the drafted event, streamed)."""

    name = "distribution"
    types = ("distribution.drafted", "distribution.committed")
    proves = (
        "id",
        "period_start",
        "period_end",
        "policy_version",
        "digest",
        "net_income_cents",
        "reserve_cents",
        "solidarity_cents",
        "members_pool_cents",
        "unclaimed_cents",
        "donated_cents",
        "created_by",
        "created_at",
        "committed_at",
    )
    parts: ClassVar[dict[str, str]] = {"member_shares": "distribution_member", "permits": "distribution_permit"}
    new_fields = frozenset(
        {"reserve_cents", "solidarity_cents", "members_pool_cents", "unclaimed_cents", "donated_cents", "permits"}
        | {"member_shares"}
    )
    timed_since = frozenset(types)

    def groups(self, conn: Connection, report: Report) -> Groups:
        permits: dict[int, list[tuple[int, ...]]] = {}
        for p in sorted(all_rows(conn, DistributionPermit), key=lambda p: (p.distribution_id, p.permit_id)):
            permits.setdefault(p.distribution_id, []).append(tuple(int(getattr(p, k)) for k in PERMIT_SPLIT))
        shares = self._shares(conn)
        approved = {
            a.distribution_id: a
            for a in all_rows(conn, BoardApproval)
            if a.outcome == Outcome.approved and a.action == Action.commit_distribution
        }
        for d in all_rows(conn, Distribution):
            assert d.id is not None
            row, subject = f"id={d.id}", f"distribution:{d.id}"
            drafted = drafted_payload(d, permits.pop(d.id, []), shares.pop(d.id, {"count": 0, "sha256": _EMPTY}))
            at = format_time(d.created_at)
            expected = [implied(row, "distribution.drafted", subject, at, d.created_by, canonical.dumps(drafted))]
            if d.committed_at is not None:
                eyes = approved.get(d.id)
                four = FourEyes(eyes.id or 0, eyes.requested_by, eyes.decided_by or "") if eyes else None
                committed = canonical.dumps(committed_payload(d.digest, four))
                actor = four.approved_by if four else None  # before four eyes: any board actor
                expected.append(
                    implied(row, "distribution.committed", subject, format_time(d.committed_at), actor, committed)
                )
            yield d.id, expected
        for distribution_id in sorted(permits):
            report.disagree("distribution_permit", f"distribution_id={distribution_id}", None, "no distribution")
        for distribution_id in sorted(shares):
            report.disagree("distribution_member", f"distribution_id={distribution_id}", None, "no distribution")

    @staticmethod
    def _shares(conn: Connection) -> dict[int, dict[str, Any]]:
        sql = (
            "SELECT distribution_id, member_id, cents, donated FROM distribution_member "
            "ORDER BY distribution_id, member_id"
        )
        digests: dict[int, Any] = {}
        counts: dict[int, int] = {}
        for batch in stream(conn, sql, "reconcile_shares"):
            columns = np.array(batch, dtype=np.int64).reshape(-1, 4)
            for distribution_id in np.unique(columns[:, 0]).tolist():
                part = columns[columns[:, 0] == distribution_id]
                rows = np.zeros(len(part), dtype=SHARE_ROW)
                rows["member_id"], rows["cents"], rows["donated"] = part[:, 1], part[:, 2], part[:, 3]
                digests.setdefault(distribution_id, hashlib.sha256()).update(rows.tobytes())
                counts[distribution_id] = counts.get(distribution_id, 0) + len(part)
        return {d: {"count": counts[d], "sha256": h.hexdigest()} for d, h in digests.items()}


_EMPTY = hashlib.sha256(b"").hexdigest()
