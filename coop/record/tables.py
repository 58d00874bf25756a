"""Which events make which of the cooperative's tables, and how each row implies its events.

One :class:`~coop.record.reconcile.Table` per table of the record. The tables with a row
per member (members, their choices, invitations, logins, votes) and the books are read
with bare SQL and rebuilt with string formatting, because a cooperative has millions of
those rows; the others are read through SQLAlchemy and rebuilt with the services' own
payload functions. Rules that tie rows to each other rather than to one event (a choice
version ends when the next begins; an invitation is withdrawn when the next is issued) are
checked here too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from itertools import groupby
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sqlalchemy import Connection, select

from coop.benefits.distributions import PERMIT_SPLIT, SHARE_ROW, drafted_payload
from coop.benefits.models import Distribution, DistributionPermit
from coop.choices import encoding
from coop.governance.models import GovernanceDocument, Proposal
from coop.hdab.models import Consultation
from coop.permits.models import Manifest, ManifestCheck, ManifestMemberSet, Permit, Result, UsageEvent
from coop.permits.service import permit_fields
from coop.permits.usage import usage_payload
from coop.proxies.models import ProxyAppointment
from coop.record.reconcile import Expected, Table
from coop.vocabulary.terms import Category, Purpose, from_mask
from ledger import books, canonical, merkle
from ledger.events import format_time
from ledger.verify import EventRow, Report, stream

Groups = Iterator[tuple[int, list[tuple[Any, ...]]]]
Rows = Iterator[list[Any]]


def _implied(
    row: str | None, type: str | None, subject: str, time: str | None, actor: str | None, payload: str
) -> tuple[Any, ...]:
    """An implied event without its key (see :class:`Keyed`)."""
    return (row, type, subject, time, actor, payload)


class Keyed(Table):
    """A table small enough to be read row by row: ``groups`` gives each key's implied events."""

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        for key, events in self.groups(conn, report):
            yield [Expected(key, *e) for e in events]

    def groups(self, conn: Connection, report: Report) -> Groups:
        raise NotImplementedError


def _t(conn: Connection, column: str) -> str:
    """SQL giving a timestamp column as event time text (``2026-01-31T09:00:00.000000+00:00``)."""
    if conn.dialect.name == "postgresql":
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
    return f"replace({column}, ' ', 'T') || '+00:00'"


def _pad6(conn: Connection, column: str) -> str:
    """SQL for ``f"{column:06d}"``."""
    if conn.dialect.name == "postgresql":
        return f"CASE WHEN {column} < 1000000 THEN lpad(CAST({column} AS TEXT), 6, '0') ELSE CAST({column} AS TEXT) END"
    return f"printf('%06d', {column})"


def _int(conn: Connection, column: str) -> str:
    """SQL for an integer or ``null`` as JSON."""
    return f"COALESCE(CAST({column} AS TEXT), 'null')"


def _rule(conn: Connection, report: Report, table: str, sql: str, message: str) -> None:
    """Rows that a query finds breaking a rule of ``table``: ``(row, value)`` each."""
    for batch in stream(conn, sql, "reconcile_rule"):
        for row, value in batch:
            report.disagree(table, row, None, message.format(value))


def _iso(time: str | None) -> str | None:
    """Event time text as Python's ``isoformat()`` of the same instant writes it."""
    if time is None:
        return None
    return time[:19] + "+00:00" if time[20:26] == "000000" else time


@lru_cache(maxsize=4096)
def _json(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _b(value: Any) -> str:
    return "true" if value else "false"


def _n(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def _stored(text: str) -> Any:
    """JSON kept in a row, parsed; text that is not JSON stays text (and then differs from
    the event, which names the field)."""
    try:
        return canonical.loads(text)
    except ValueError:
        return text


def _payload_keys(field: str) -> Any:
    def keys(self: Table, events: list[EventRow]) -> list[int]:
        out = []
        for event in events:
            try:
                out.append(int(canonical.loads(event[5])[field]))
            except (ValueError, KeyError, TypeError):
                out.append(-1)
        return out

    return keys


def _seq_keys(self: Table, events: list[EventRow]) -> list[int]:
    return [e[0] for e in events]


class Members(Table):
    name = "member"
    types = ("member.admitted", "member.left")
    at_once = True
    free = ("actor",)
    proves = ("id", "language", "status", "admitted_at", "left_at")

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        _rule(
            conn,
            report,
            self.name,
            "SELECT 'id=' || id, status FROM member WHERE NOT ((status = 'active' AND left_at IS NULL) "
            "OR (status = 'left' AND left_at IS NOT NULL))",
            "status {} and left_at do not agree",
        )
        number = _pad6(conn, "id")
        sql = (
            f"SELECT id, 'member:' || id, {_t(conn, 'admitted_at')}, "  # noqa: S608
            f"""'{{"language":"' || language || '","number":"M-' || {number} || '"}}', {_t(conn, "left_at")} """
            "FROM member" + (" ORDER BY id" if ordered else "")
        )
        for batch in stream(conn, sql, "reconcile_member"):
            admitted = [
                (key, None, "member.admitted", subject, at, None, payload) for key, subject, at, payload, _ in batch
            ]
            if any(row[4] is not None for row in batch):
                yield [
                    event
                    for (key, subject, _, _, left), first in zip(batch, admitted, strict=True)
                    for event in (
                        [first] if left is None else [first, (key, None, "member.left", subject, left, None, "{}")]
                    )
                ]
            else:
                yield admitted


class ChoiceVersions(Table):
    name = "choice_version"
    types = ("choices.started", "choices.changed", "choices.membership-ended")
    at_once = True
    proves = (
        "member_id",
        "version",
        "valid_from",
        "valid_to",
        "is_member",
        "opt_out",
        "excluded_mask",
        "preference_mask",
        "donate_dividend",
        "recorded_by",
        "acting_proxy_id",
    )

    def label(self, key: int) -> str:
        return f"member_id={key}"

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        # a version ends when the next begins, and versions count from 1 without gaps (one pass)
        sql = (
            "SELECT 'member_id=' || member_id || ' version=' || version, version, before, valid_to, next_from "
            "FROM (SELECT member_id, version, valid_to, LAG(version, 1, 0) OVER w AS before, "
            "LEAD(valid_from) OVER w AS next_from FROM choice_version "
            "WINDOW w AS (PARTITION BY member_id ORDER BY version)) v "
            "WHERE version <> before + 1 OR (next_from IS NULL AND valid_to IS NOT NULL) "
            "OR (next_from IS NOT NULL AND (valid_to IS NULL OR valid_to <> next_from))"
        )
        for batch in stream(conn, sql, "reconcile_rule"):
            for row, version, before, valid_to, next_from in batch:
                if version != before + 1:
                    report.disagree(self.name, row, None, f"version {version - 1} is missing before it")
                if (next_from is None) != (valid_to is None) or (next_from is not None and valid_to != next_from):
                    report.disagree(self.name, row, None, f"valid_to {valid_to} is not when the next version began")
        sql = (
            f"SELECT member_id, version, {_t(conn, 'valid_from')}, recorded_by, acting_proxy_id, "  # noqa: S608
            "donate_dividend, excluded_mask, is_member, opt_out, preference_mask "
            "FROM choice_version" + (" ORDER BY member_id, version" if ordered else "")
        )
        payloads, build = self._payloads, self._payload
        for batch in stream(conn, sql, "reconcile_choices"):
            events = []
            for member, version, time, actor, proxy, donate, excluded, is_member, opt_out, preferences in batch:
                said = (version, proxy, bool(donate), excluded, bool(is_member), bool(opt_out), preferences)
                typ = "choices.started" if version == 1 else "choices.changed" if is_member else _ENDED
                row = f"member_id={member} version={version}" if ordered else None  # the walk names rows
                events.append((member, row, typ, f"member:{member}", time, actor, payloads.get(said) or build(said)))
            yield events

    def _payload(self, said: tuple[Any, ...]) -> str:
        """A choices event's payload, as coop.choices.service records it (kept for the next)."""
        version, proxy, donate, excluded, is_member, opt_out, preferences = said
        e = self._excluded.get(excluded)
        if e is None:
            e = self._excluded[excluded] = canonical.dumps([c.value for c in from_mask(Category, excluded)])
        payload = (
            f'{{"acting_proxy_id":{_n(proxy)},"donate_dividend":{_b(donate)},"excluded_categories":{e},'
            f'"is_member":{_b(is_member)},"opt_out":{_b(opt_out)},"preferences":{_preferences(preferences)},'
            f'"version":{version}}}'
        )
        self._payloads[said] = payload
        return payload

    def __init__(self) -> None:
        self._excluded: dict[int, str] = {}
        self._payloads: dict[tuple[Any, ...], str] = {}


_ENDED = "choices.membership-ended"


_PAIRS = [
    [""] + [canonical.dumps([p.value, u.value, encoding.BY_CODE[code].value]) for code in (1, 2, 3)]
    for p, u in encoding.PAIRS
]


def _preferences(preference_mask: int) -> str:
    """``encoding.explicit`` as the canonical JSON of a choices event, one pair per 2 bits."""
    parts, pair = [], 0
    while preference_mask > 0 and pair < len(_PAIRS):
        code = preference_mask & 3
        if code:
            parts.append(_PAIRS[pair][code])
        preference_mask >>= 2
        pair += 1
    return "[" + ",".join(parts) + "]" if preference_mask == 0 else "[mask out of range]"


class Invitations(Table):
    name = "member_invitation"
    types = ("member.invited",)
    at_once = True
    free = ("actor",)
    proves = ("id", "member_id", "created_at", "expires_at", "used_at", "withdrawn_at")
    new_fields = frozenset({"invitation_id"})

    def label(self, key: int) -> str:
        return f"member_id={key}"

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        # an invitation is withdrawn when the member's next one is issued, or (the newest)
        # when the member leaves, and only then; it is used when the member's login is made
        # (which the login's event proves)
        _rule(
            conn,
            report,
            self.name,
            "SELECT 'id=' || i.id, i.withdrawn_at FROM (SELECT id, member_id, withdrawn_at, "
            "LEAD(created_at) OVER (PARTITION BY member_id ORDER BY id) AS next_issued FROM member_invitation) i "
            "JOIN member m ON m.id = i.member_id "
            "WHERE (next_issued IS NULL AND withdrawn_at IS NOT NULL "
            "AND (m.left_at IS NULL OR withdrawn_at <> m.left_at)) "
            "OR (next_issued IS NOT NULL AND (withdrawn_at IS NULL OR withdrawn_at <> next_issued))",
            "withdrawn_at {} is neither when the member's next invitation was issued nor when they left",
        )
        _rule(
            conn,
            report,
            self.name,
            "SELECT 'id=' || i.id, i.used_at FROM member_invitation i LEFT JOIN user_account u "
            "ON u.member_id = i.member_id WHERE i.used_at IS NOT NULL AND u.id IS NULL",
            "used_at {}, but the member has no login",
        )
        sql = (
            f"SELECT member_id, id, {_t(conn, 'created_at')}, {_t(conn, 'expires_at')} "  # noqa: S608
            "FROM member_invitation" + (" ORDER BY member_id, id" if ordered else "")
        )
        for batch in stream(conn, sql, "reconcile_invitations"):
            yield [
                (
                    member,
                    f"id={invitation}",
                    "member.invited",
                    f"member:{member}",
                    created,
                    None,
                    f'{{"expires_at":"{_iso(expires)}","invitation_id":{invitation}}}',
                )
                for member, invitation, created, expires in batch
            ]


class UserAccounts(Table):
    name = "user_account"
    types = ("account.created",)
    at_once = True
    free = ("actor",)
    proves = ("id", "role", "member_id", "created_at", "disabled_at")
    parts: ClassVar[dict[str, str]] = {"invitation_id": "member_invitation"}
    new_fields = frozenset({"invitation_id"})

    def rows(self, conn: Connection, report: Report, ordered: bool = True) -> Rows:
        _rule(
            conn,
            report,
            self.name,
            "SELECT 'id=' || id, disabled_at FROM user_account WHERE disabled_at IS NOT NULL",
            "disabled_at {}, but no event disables a login",
        )
        used = (
            "(SELECT member_id, min(id) AS first, min(used_at) AS used_at, count(*) AS used FROM member_invitation "
            "WHERE used_at IS NOT NULL GROUP BY member_id) i"
        )
        # the login's event names the invitation it used, whose used_at is the login's creation;
        # a used_at at another time makes the invitation differ from what the event says
        invitation = (
            "CASE WHEN i.first IS NULL THEN 'null' WHEN i.used_at = u.created_at THEN CAST(i.first AS TEXT) "
            f"""ELSE '"invitation ' || i.first || ' used at ' || {_t(conn, "i.used_at")} || '"' END"""
        )
        _rule(
            conn,
            report,
            self.name,
            f"SELECT 'id=' || u.id, i.used FROM user_account u JOIN {used} ON i.member_id = u.member_id "  # noqa: S608
            "WHERE i.used > 1",
            "{} of the member's invitations count as used",
        )
        sql = (
            f"SELECT u.id, NULL, 'account.created', 'user:' || u.id, {_t(conn, 'u.created_at')}, NULL, "  # noqa: S608
            f"""'{{"invitation_id":' || {invitation} || ',"member_id":' || """
            f"""{_int(conn, "u.member_id")} || ',"role":"' || u.role || '"}}' """
            f"FROM user_account u LEFT JOIN {used} ON i.member_id = u.member_id" + (" ORDER BY u.id" if ordered else "")
        )
        yield from stream(conn, sql, "reconcile_accounts")


class ApiKeys(Keyed):
    name = "api_key"
    types = ("api-key.created", "api-key.revoked")
    proves = ("id", "org", "role", "prefix", "created_at", "revoked_at")
    new_fields = frozenset({"org", "prefix"})

    def groups(self, conn: Connection, report: Report) -> Groups:
        sql = (
            f"SELECT id, org, role, prefix, {_t(conn, 'created_at')}, {_t(conn, 'revoked_at')} "  # noqa: S608
            "FROM api_key ORDER BY id"
        )
        for batch in stream(conn, sql, "reconcile_keys"):
            for key_id, org, role, prefix, created_at, revoked_at in batch:
                row, subject = f"id={key_id}", f"key:{key_id}"
                payload = canonical.dumps({"org": org, "prefix": prefix, "role": role})
                expected = [_implied(row, "api-key.created", subject, created_at, None, payload)]
                if revoked_at is not None:
                    expected.append(_implied(row, "api-key.revoked", subject, revoked_at, None, "{}"))
                yield key_id, expected


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
        for d in _models(conn, GovernanceDocument):
            if d.kind not in KINDS:
                report.disagree(self.name, f"id={d.id}", None, f"kind {d.kind!r} is not a governing document")
                continue
            payload = {
                "version": d.version,
                "source": d.source,
                "effective_from": d.effective_from.isoformat(),
                "document": _stored(d.body),
            }
            row = f"kind={d.kind} version={d.version}"
            at = format_time(d.effective_from)
            expected = _implied(row, f"{d.kind}.adopted", f"{d.kind}:{d.version}", at, None, canonical.dumps(payload))
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
        for p in _models(conn, Proposal):
            assert p.id is not None
            row, subject = f"id={p.id}", f"proposal:{p.id}"
            opened = {
                "title": p.title,
                "kind": p.kind,
                "opens_at": p.opens_at.isoformat(),
                "closes_at": p.closes_at.isoformat(),
                "quorum_pct": p.quorum_pct,
                "majority_pct": p.majority_pct,
                "body": _stored(p.body),
            }
            at = format_time(p.created_at)
            expected = [_implied(row, "proposal.opened", subject, at, p.created_by, canonical.dumps(opened))]
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
                expected.append(_implied(row, "proposal.closed", subject, at, None, canonical.dumps(closed)))
            yield p.id, expected


_VOTER = re.compile(r'\{"member_id":(\d+)[,}]')


class Votes(Table):
    name = "vote"
    types = ("vote.cast", "vote.changed")
    at_once = True
    free = ("type",)
    proves = ("proposal_id", "member_id", "vote", "cast_at", "cast_by", "proxy_member_id")
    last_only = True

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
            f"""{_t(conn, "cast_at")}, cast_by, '{{"member_id":' || member_id || ',"proxy_member_id":' || """
            f"""{_int(conn, "proxy_member_id")} || ',"vote":"' || vote || '"}}' FROM vote{order}"""
        )
        yield from stream(conn, sql, "reconcile_votes")


class Consultations(Keyed):
    name = "consultation"
    types = ("consultation.recorded",)
    proves = (
        "id",
        "application_ref",
        "request",
        "answer",
        "position",
        "mandate_version",
        "ledger_seq",
        "asked_by",
        "asked_at",
    )
    new_fields = frozenset({"consultation_id"})

    keys = _seq_keys

    def label(self, key: int) -> str:
        return f"ledger_seq={key}"

    def groups(self, conn: Connection, report: Report) -> Groups:
        for c in sorted(_models(conn, Consultation), key=lambda c: c.ledger_seq):
            row = f"id={c.id}"
            answer = _stored(c.answer)
            said = answer if isinstance(answer, dict) else {}
            if (c.position, c.mandate_version) != (said.get("position"), said.get("mandate_version")):
                report.disagree(self.name, row, c.ledger_seq, "position or mandate_version differs from the answer")
            payload = {"consultation_id": c.id, "request": _stored(c.request), "answer": answer}
            subject = f"application:{c.application_ref}"
            expected = _implied(
                row, self.types[0], subject, format_time(c.asked_at), c.asked_by, canonical.dumps(payload)
            )
            yield c.ledger_seq, [expected]


class Permits(Keyed):
    name = "permit"
    types = ("permit.registered", "permit.extended", "permit.revoked")
    proves = (
        "id",
        "permit_number",
        "applicant",
        "user_type",
        "purposes_mask",
        "categories_mask",
        "authorised_persons",
        "conditions",
        "data_holders",
        "approved_at",
        "valid_from",
        "valid_until",
        "fee_cents",
        "benefit_share_pct",
        "consultation_id",
        "registered_by",
        "registered_at",
        "extended_until",
        "revoked_at",
        "revocation_reason",
        "on_behalf_of_public_body",
    )
    keeps_time = frozenset({"permit.extended"})

    def groups(self, conn: Connection, report: Report) -> Groups:
        for p in _models(conn, Permit):
            assert p.id is not None
            row, subject = f"id={p.id}", f"permit:{p.id}"
            try:
                registered = canonical.dumps(permit_fields(p))
            except ValueError:
                report.disagree(self.name, row, None, "authorised_persons or data_holders is not JSON")
                continue
            expected = [
                _implied(row, "permit.registered", subject, format_time(p.registered_at), p.registered_by, registered)
            ]
            if p.extended_until is not None:
                extended = canonical.dumps({"extended_until": p.extended_until.isoformat()})
                expected.append(_implied(row, "permit.extended", subject, None, None, extended))
            if (p.revoked_at is None) != (p.revocation_reason is None):
                report.disagree(self.name, row, None, "revoked_at and revocation_reason do not agree")
            if p.revoked_at is not None:
                revoked = canonical.dumps({"reason": p.revocation_reason})
                expected.append(_implied(row, "permit.revoked", subject, format_time(p.revoked_at), None, revoked))
            yield p.id, expected


class Manifests(Keyed):
    """Manifests, with their entries and member sets: the event records the size, the root
    over the sorted pseudonyms and the SHA-256 of the member set; the entries are streamed
    against them, and each pseudonym is recomputed from its member when the key is at hand."""

    name = "manifest"
    types = ("manifest.created",)
    proves = ("id", "permit_id", "as_of", "size", "root_hash", "created_by", "created_at", "ledger_seq")
    parts: ClassVar[dict[str, str]] = {"members_sha256": "manifest_member_set"}
    new_fields = frozenset({"manifest_id", "members_sha256"})

    def __init__(self, pseudonym_key: Path | None = None) -> None:
        self.pseudonym_key = pseudonym_key

    keys = _seq_keys

    def label(self, key: int) -> str:
        return f"ledger_seq={key}"

    def groups(self, conn: Connection, report: Report) -> Groups:
        sets = {s.manifest_id: bytes(s.bits) for s in _models(conn, ManifestMemberSet)}
        for m in sorted(_models(conn, Manifest), key=lambda m: m.ledger_seq):
            bits = sets.get(m.id or 0)
            payload = {
                "manifest_id": m.id,
                "size": m.size,
                "root_hash": bytes(m.root_hash).hex(),
                "as_of": m.as_of.isoformat(),
                "members_sha256": None if bits is None else hashlib.sha256(bits).hexdigest(),
            }
            subject = f"permit:{m.permit_id}"
            at = format_time(m.created_at)
            yield (
                m.ledger_seq,
                [_implied(f"id={m.id}", self.types[0], subject, at, m.created_by, canonical.dumps(payload))],
            )

    def extra_checks(self, conn: Connection, report: Report) -> None:
        from coop.permits import member_sets

        key = self.pseudonym_key.read_bytes().strip() if self.pseudonym_key and self.pseudonym_key.exists() else None
        if key is None:
            report.warnings.append("no pseudonym key: manifest pseudonyms were not recomputed from their members")
        manifests = {m.id: m for m in _models(conn, Manifest)}
        sets = {s.manifest_id: bytes(s.bits) for s in _models(conn, ManifestMemberSet)}
        for manifest_id in sorted(set(sets) - set(manifests)):
            report.disagree("manifest_member_set", f"manifest_id={manifest_id}", None, "no manifest has this set")
        sql = "SELECT manifest_id, pseudonym, member_id FROM manifest_entry ORDER BY manifest_id, pseudonym"
        rows = (row for batch in stream(conn, sql, "reconcile_entries") for row in batch)
        seen = set()
        for manifest_id, entries in groupby(rows, key=lambda r: r[0]):
            seen.add(manifest_id)
            manifest = manifests.get(manifest_id)
            if manifest is None:
                report.disagree("manifest_entry", f"manifest_id={manifest_id}", None, "no manifest has these entries")
                continue
            tree = merkle.CompactRange()
            members: list[int] = []
            prefix = f"permit:{manifest.permit_id}:member:"
            forged = None
            for _, pseudonym, member_id in entries:
                pseudonym = bytes(pseudonym)
                tree.push(hashlib.sha256(b"\x00" + pseudonym).digest())
                members.append(member_id)
                if (
                    key is not None
                    and forged is None
                    and hmac.digest(key, f"{prefix}{member_id}".encode(), "sha256") != pseudonym
                ):
                    forged = member_id
            self._compare(report, manifest, tree, members, sets.get(manifest_id), forged, member_sets.decode)
        for manifest_id in sorted(set(manifests) - seen):
            m = manifests[manifest_id]
            if m.size:
                row = f"manifest_id={manifest_id}"
                report.disagree("manifest_entry", row, m.ledger_seq, f"none of the {m.size} entries is there")

    @staticmethod
    def _compare(
        report: Report,
        m: Manifest,
        tree: merkle.CompactRange,
        members: list[int],
        bits: bytes | None,
        forged: int | None,
        decode: Any,
    ) -> None:
        row, seq = f"manifest_id={m.id}", m.ledger_seq
        if tree.size != m.size or tree.root() != bytes(m.root_hash):
            report.disagree(
                "manifest_entry", row, seq, f"{tree.size} entries whose root is not the one manifest {m.id} recorded"
            )
        if forged is not None:
            report.disagree("manifest_entry", f"{row} member_id={forged}", seq, "the pseudonym is not this member's")
        listed = np.sort(np.asarray(members, dtype=np.int64))
        if bits is None or not np.array_equal(listed, decode(bits)):
            report.disagree("manifest_member_set", row, seq, "the member set does not hold the entries' members")


class Usage(Keyed):
    name = "usage_event"
    types = ("usage.extraction", "usage.access", "usage.output", "usage.deletion", "usage.incident")
    proves = (
        "id",
        "permit_id",
        "kind",
        "occurred_at",
        "manifest_id",
        "records",
        "description",
        "client_ref",
        "reported_by",
        "reported_at",
    )
    parts: ClassVar[dict[str, str]] = {"manifest_check": "manifest_check"}
    new_fields = frozenset({"client_ref", "manifest_check"})
    keys = _payload_keys("usage_id")

    def groups(self, conn: Connection, report: Report) -> Groups:
        # a manifest is checked by its first extraction report, at the report's time
        checks = {c.manifest_id: c for c in _models(conn, ManifestCheck)}
        used = set()
        for u in _models(conn, UsageEvent):
            assert u.id is not None
            check = None
            if u.kind == "extraction" and u.manifest_id in checks and u.manifest_id not in used:
                check = checks[u.manifest_id]
                used.add(u.manifest_id)
            fields = usage_payload(u, check)
            if check is not None and check.checked_at != u.reported_at:
                fields["manifest_check"]["checked_at"] = check.checked_at.isoformat()
            payload = canonical.dumps(fields)
            at = format_time(u.reported_at)
            yield u.id, [_implied(f"id={u.id}", f"usage.{u.kind}", f"permit:{u.permit_id}", at, u.reported_by, payload)]
        for manifest_id in sorted(checks):
            if manifest_id not in used:
                row = f"manifest_id={manifest_id}"
                report.disagree("manifest_check", row, None, "no extraction report made this check")


class Results(Keyed):
    name = "result"
    types = ("result.registered",)
    proves = (
        "id",
        "permit_id",
        "kind",
        "title",
        "url",
        "published_at",
        "open_access",
        "registered_by",
        "registered_at",
    )
    keys = _payload_keys("result_id")

    def groups(self, conn: Connection, report: Report) -> Groups:
        for r in _models(conn, Result):
            assert r.id is not None
            payload = {
                "result_id": r.id,
                "kind": r.kind,
                "title": r.title,
                "url": r.url,
                "published_at": r.published_at.isoformat(),
                "open_access": r.open_access,
            }
            at = format_time(r.registered_at)
            subject = f"permit:{r.permit_id}"
            yield r.id, [_implied(f"id={r.id}", self.types[0], subject, at, r.registered_by, canonical.dumps(payload))]


class ProxyAppointments(Keyed):
    """A revocation is ``{"appointment_id"}`` when the member revoked, and carries a
    ``reason`` when the appointment ended otherwise (the proxy left): both prove revoked_at."""

    name = "proxy_appointment"
    types = ("proxy.appointed", "proxy.revoked")
    proves = (
        "id",
        "principal_id",
        "proxy_member_id",
        "purposes_mask",
        "voting",
        "valid_from",
        "valid_until",
        "revoked_at",
        "appointed_by",
    )
    keys = _payload_keys("appointment_id")

    def groups(self, conn: Connection, report: Report) -> Groups:
        for a in _models(conn, ProxyAppointment):
            assert a.id is not None
            row, subject = f"id={a.id}", f"member:{a.principal_id}"
            appointed = {
                "appointment_id": a.id,
                "proxy_member_id": a.proxy_member_id,
                "purposes": [p.value for p in from_mask(Purpose, a.purposes_mask)],
                "voting": a.voting,
                "valid_until": a.valid_until.isoformat() if a.valid_until else None,
            }
            at = format_time(a.valid_from)
            expected = [_implied(row, "proxy.appointed", subject, at, a.appointed_by, canonical.dumps(appointed))]
            if a.revoked_at is not None:
                revoked = canonical.dumps({"appointment_id": a.id})
                expected.append(_implied(row, "proxy.revoked", subject, format_time(a.revoked_at), None, revoked))
            yield a.id, expected


class MoneyAccounts(Keyed):
    name = "money_account"
    types = ("money.accounts-opened",)
    proves = ("code", "kind", "name", "no_negative", "ledger_seq")
    keeps_time = frozenset(types)

    keys = _seq_keys

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
            yield seq, [_implied(row, self.types[0], books.ACCOUNTS_SUBJECT, None, None, payload)]
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

    keys = _seq_keys

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
            text = ",".join(f'["{p[4]}",{p[5]}]' for p in lines)
            payload = (
                f'{{"booked_on":"{first[2]}","description":{_json(first[3])},"id":{_json(entry_id)},'
                f'"postings":[{text}]}}'
            )
            yield seq, [_implied(f"id={entry_id}", self.types[0], f"entry:{entry_id}", None, None, payload)]


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
        for p in sorted(_models(conn, DistributionPermit), key=lambda p: (p.distribution_id, p.permit_id)):
            permits.setdefault(p.distribution_id, []).append(tuple(int(getattr(p, k)) for k in PERMIT_SPLIT))
        shares = self._shares(conn)
        for d in _models(conn, Distribution):
            assert d.id is not None
            row, subject = f"id={d.id}", f"distribution:{d.id}"
            drafted = drafted_payload(d, permits.pop(d.id, []), shares.pop(d.id, {"count": 0, "sha256": _EMPTY}))
            at = format_time(d.created_at)
            expected = [_implied(row, "distribution.drafted", subject, at, d.created_by, canonical.dumps(drafted))]
            if d.committed_at is not None:
                committed = canonical.dumps({"digest": d.digest})
                expected.append(
                    _implied(row, "distribution.committed", subject, format_time(d.committed_at), None, committed)
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


def _models(conn: Connection, model: Any) -> list[Any]:
    """Every row of a small table as its model object (times as aware datetimes), in key order."""
    table = model.__table__
    return [model(**dict(row._mapping)) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
