"""The tables of data use: the HDAB's consultations, permits, manifests, usage reports and
results."""

from __future__ import annotations

import hashlib
import hmac
from itertools import groupby
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sqlalchemy import Connection

from coop.hdab.models import Consultation
from coop.permits.models import Manifest, ManifestCheck, ManifestMemberSet, Permit, Result, UsageEvent
from coop.permits.service import permit_fields
from coop.permits.usage import usage_payload
from coop.record.tables.common import (
    Groups,
    Keyed,
    all_rows,
    implied,
    payload_keys,
    seq_keys,
    stored,
)
from ledger import canonical, merkle
from ledger.events import format_time
from ledger.verify import Report, stream


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

    keys = seq_keys

    def label(self, key: int) -> str:
        return f"ledger_seq={key}"

    def groups(self, conn: Connection, report: Report) -> Groups:
        for c in sorted(all_rows(conn, Consultation), key=lambda c: c.ledger_seq):
            row = f"id={c.id}"
            answer = stored(c.answer)
            said = answer if isinstance(answer, dict) else {}
            if (c.position, c.mandate_version) != (said.get("position"), said.get("mandate_version")):
                report.disagree(self.name, row, c.ledger_seq, "position or mandate_version differs from the answer")
            payload = {"consultation_id": c.id, "request": stored(c.request), "answer": answer}
            subject = f"application:{c.application_ref}"
            expected = implied(
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
        for p in all_rows(conn, Permit):
            assert p.id is not None
            row, subject = f"id={p.id}", f"permit:{p.id}"
            try:
                registered = canonical.dumps(permit_fields(p))
            except ValueError:
                report.disagree(self.name, row, None, "authorised_persons or data_holders is not JSON")
                continue
            expected = [
                implied(row, "permit.registered", subject, format_time(p.registered_at), p.registered_by, registered)
            ]
            if p.extended_until is not None:
                extended = canonical.dumps({"extended_until": p.extended_until.isoformat()})
                expected.append(implied(row, "permit.extended", subject, None, None, extended))
            if (p.revoked_at is None) != (p.revocation_reason is None):
                report.disagree(self.name, row, None, "revoked_at and revocation_reason do not agree")
            if p.revoked_at is not None:
                revoked = canonical.dumps({"reason": p.revocation_reason})
                expected.append(implied(row, "permit.revoked", subject, format_time(p.revoked_at), None, revoked))
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

    keys = seq_keys

    def label(self, key: int) -> str:
        return f"ledger_seq={key}"

    def groups(self, conn: Connection, report: Report) -> Groups:
        sets = {s.manifest_id: bytes(s.bits) for s in all_rows(conn, ManifestMemberSet)}
        for m in sorted(all_rows(conn, Manifest), key=lambda m: m.ledger_seq):
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
                [implied(f"id={m.id}", self.types[0], subject, at, m.created_by, canonical.dumps(payload))],
            )

    def extra_checks(self, conn: Connection, report: Report) -> None:
        from coop.permits import member_sets

        key = self.pseudonym_key.read_bytes().strip() if self.pseudonym_key and self.pseudonym_key.exists() else None
        if key is None:
            report.warnings.append("no pseudonym key: manifest pseudonyms were not recomputed from their members")
        manifests = {m.id: m for m in all_rows(conn, Manifest)}
        sets = {s.manifest_id: bytes(s.bits) for s in all_rows(conn, ManifestMemberSet)}
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
        self._members_index(conn, report, manifests)

    @staticmethod
    def _members_index(conn: Connection, report: Report, manifests: dict[int | None, Manifest]) -> None:
        """``manifest_member`` holds exactly the entries' (member_id, manifest_id): a row missing,
        added, or naming another manifest than the member's entry is reported (a few of each)."""
        pairs = "SELECT member_id, manifest_id FROM {} EXCEPT SELECT member_id, manifest_id FROM {}"
        for table, other, what in (
            ("manifest_member", "manifest_entry", "the member has no entry in this manifest"),
            ("manifest_entry", "manifest_member", "the member's entry in this manifest is not in manifest_member"),
        ):
            sql = f"SELECT member_id, manifest_id FROM ({pairs.format(table, other)}) AS d "  # noqa: S608
            rows = conn.exec_driver_sql(sql + "ORDER BY manifest_id, member_id LIMIT 10").all()
            for member_id, manifest_id in rows:
                m = manifests.get(manifest_id)
                row = f"manifest_id={manifest_id} member_id={member_id}"
                report.disagree("manifest_member", row, m.ledger_seq if m else None, what)

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
    keys = payload_keys("usage_id")

    def groups(self, conn: Connection, report: Report) -> Groups:
        # a manifest is checked by its first extraction report, at the report's time
        checks = {c.manifest_id: c for c in all_rows(conn, ManifestCheck)}
        used = set()
        for u in all_rows(conn, UsageEvent):
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
            yield u.id, [implied(f"id={u.id}", f"usage.{u.kind}", f"permit:{u.permit_id}", at, u.reported_by, payload)]
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
    keys = payload_keys("result_id")

    def groups(self, conn: Connection, report: Report) -> Groups:
        for r in all_rows(conn, Result):
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
            yield r.id, [implied(f"id={r.id}", self.types[0], subject, at, r.registered_by, canonical.dumps(payload))]
