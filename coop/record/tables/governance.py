"""The governance tables: the adopted mandate and benefit policy, proposals and votes."""

from __future__ import annotations

import re

from sqlalchemy import Connection

from coop.governance.models import GovernanceDocument, Proposal
from coop.record.rows import Table
from coop.record.tables.common import (
    Groups,
    Keyed,
    Rows,
    all_rows,
    implied,
    int_sql,
    stored,
    time_sql,
)
from ledger import canonical
from ledger.events import format_time
from ledger.verify import EventRow, Report, stream

KINDS = ("mandate", "benefit-policy")


class GovernanceDocuments(Keyed):
    name = "governance_document"
    types = ("mandate.adopted", "benefit-policy.adopted")
    proves = ("kind", "version", "body", "effective_from", "source")

    def keys(self, events: list[EventRow]) -> list[int]:
        out = []
        for event in events:
            kind, _, version = event[4].rpartition(":")
            out.append(KINDS.index(kind) << 32 | int(version) if kind in KINDS and version.isdigit() else -1)
        return out

    def label(self, key: int) -> str:
        return f"kind={KINDS[key >> 32]} version={key & 0xFFFFFFFF}"

    def groups(self, conn: Connection, report: Report) -> Groups:
        found = []
        for d in all_rows(conn, GovernanceDocument):
            if d.kind not in KINDS:
                report.disagree(self.name, f"id={d.id}", None, f"kind {d.kind!r} is not a governing document")
                continue
            payload = {
                "version": d.version,
                "source": d.source,
                "effective_from": d.effective_from.isoformat(),
                "document": stored(d.body),
            }
            row = f"kind={d.kind} version={d.version}"
            at = format_time(d.effective_from)
            expected = implied(row, f"{d.kind}.adopted", f"{d.kind}:{d.version}", at, None, canonical.dumps(payload))
            found.append((KINDS.index(d.kind) << 32 | d.version, [expected]))
        yield from sorted(found, key=lambda f: f[0])


class Proposals(Keyed):
    name = "proposal"
    types = ("proposal.opened", "proposal.closed")
    proves = (
        "id",
        "title",
        "kind",
        "body",
        "opens_at",
        "closes_at",
        "quorum_pct",
        "majority_pct",
        "created_by",
        "created_at",
        "closed_at",
        "outcome",
        "electorate",
        "yes",
        "no",
        "abstain",
        "adopted_version",
    )
    new_fields = frozenset({"title"})

    def groups(self, conn: Connection, report: Report) -> Groups:
        for p in all_rows(conn, Proposal):
            assert p.id is not None
            row, subject = f"id={p.id}", f"proposal:{p.id}"
            opened = {
                "title": p.title,
                "kind": p.kind,
                "opens_at": p.opens_at.isoformat(),
                "closes_at": p.closes_at.isoformat(),
                "quorum_pct": p.quorum_pct,
                "majority_pct": p.majority_pct,
                "body": stored(p.body),
            }
            at = format_time(p.created_at)
            expected = [implied(row, "proposal.opened", subject, at, p.created_by, canonical.dumps(opened))]
            tally = (p.outcome, p.electorate, p.yes, p.no, p.abstain, p.adopted_version)
            if p.closed_at is None and any(v is not None for v in tally):
                report.disagree(self.name, row, None, "a tally is recorded but the proposal is not closed")
            if p.closed_at is not None:
                cast = (p.yes or 0) + (p.no or 0) + (p.abstain or 0)
                closed = {
                    "outcome": p.outcome,
                    "electorate": p.electorate,
                    "yes": p.yes,
                    "no": p.no,
                    "abstain": p.abstain,
                    "quorum_met": cast * 100 >= p.quorum_pct * (p.electorate or 0),
                    "adopted_version": p.adopted_version,
                }
                at = format_time(p.closed_at)
                expected.append(implied(row, "proposal.closed", subject, at, None, canonical.dumps(closed)))
            yield p.id, expected


_VOTER = re.compile(r'\{"member_id":(\d+)[,}]')


class Votes(Table):
    name = "vote"
    types = ("vote.cast", "vote.changed")
    at_once = True
    free = ("type",)
    proves = ("proposal_id", "member_id", "vote", "cast_at", "cast_by", "proxy_member_id", "proxy_carer_id")
    last_only = True
    new_fields = frozenset({"proxy_carer_id"})

    def keys(self, events: list[EventRow]) -> list[int]:
        out = []
        for event in events:
            voter = _VOTER.match(event[5])  # the first field of a canonical vote payload
            proposal = event[4].rpartition(":")[2]
            if voter is not None and proposal.isdigit():
                out.append(int(proposal) << 32 | int(voter[1]))
                continue
            try:
                out.append(int(proposal) << 32 | int(canonical.loads(event[5])["member_id"]))
            except (ValueError, KeyError, TypeError):
                out.append(-1)
        return out

    def label(self, key: int) -> str:
        return f"proposal_id={key >> 32} member_id={key & 0xFFFFFFFF}"

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        order = " ORDER BY proposal_id, member_id" if ordered else ""
        sql = (
            "SELECT proposal_id * 4294967296 + member_id, NULL, NULL, 'proposal:' || proposal_id, "  # noqa: S608
            f"""{time_sql(conn, "cast_at")}, cast_by, '{{"member_id":' || member_id || ',"proxy_carer_id":' || """
            f"""{int_sql(conn, "proxy_carer_id")} || ',"proxy_member_id":' || """
            f"""{int_sql(conn, "proxy_member_id")} || ',"vote":"' || vote || '"}}' FROM vote{order}"""
        )
        yield from stream(conn, sql, "reconcile_votes")
