"""Cohort manifests: who may be extracted for a permit, under per-permit pseudonyms.

The eligible members are those the rules allow as of the permit's approval (Art. 71(3):
a later opt-out does not bind an earlier permit); with ``COOP_CHOICES_HONOUR_LATER_WITHDRAWALS``
also as of now. Each member appears as ``HMAC-SHA256(key, "permit:<permit>:member:<member>")``,
so manifests of two permits cannot be linked without the key. The manifest's size, the
RFC 9162 root over its sorted pseudonyms (leaf = the 32 pseudonym bytes) and the SHA-256 of
its member set (see :mod:`coop.permits.member_sets`) are recorded in the ledger of record.
Mandate conditions are tested against the terms of the permit's consultation; without one,
terms the permit does not state count as not met.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlmodel import Session

from coop.auth.policy import Actor
from coop.decisions import bulk as cohorts
from coop.decisions.rules import Terms, deciding_user_type
from coop.errors import Conflict, NotFound
from coop.hdab.models import Consultation
from coop.permits import entries, member_sets, rules
from coop.permits.models import Manifest, ManifestMemberSet, Permit
from coop.settings import Settings
from coop.vocabulary.terms import Category, Purpose, UserType, from_mask
from ledger import bulk, canonical, log, merkle

BATCH = bulk.BATCH


def pseudonym(key: bytes, permit_id: int, member_id: int) -> bytes:
    return hmac.digest(key, f"permit:{permit_id}:member:{member_id}".encode(), "sha256")


def terms_of(session: Session, permit: Permit) -> Terms:
    if permit.consultation_id is not None:
        consultation = session.get(Consultation, permit.consultation_id)
        assert consultation is not None
        request = canonical.loads(consultation.request)
        return Terms(
            benefit_share_pct=permit.benefit_share_pct,
            open_results=request["open_results"],
            processing_in_eu=request["processing_in_eu"],
            ethics_review=request["ethics_review_approved"],
            duration_months=request["duration_months"],
        )
    months = (
        (permit.valid_until.year - permit.valid_from.year) * 12 + permit.valid_until.month - permit.valid_from.month
    )
    return Terms(permit.benefit_share_pct, False, False, False, max(months, 1))


def _eligible(
    session: Session, permit: Permit, at: datetime, terms: Terms, max_depth: int
) -> Iterator[npt.NDArray[np.int64]]:
    return cohorts.eligible_member_batches(
        session,
        from_mask(Purpose, permit.purposes_mask),
        deciding_user_type(UserType(permit.user_type), permit.on_behalf_of_public_body),
        from_mask(Category, permit.categories_mask),
        at,
        terms,
        max_depth,
    )


def eligible_at_approval(session: Session, permit: Permit, settings: Settings) -> Iterator[int]:
    for batch in _eligible_batches_at_approval(session, permit, settings):
        yield from batch.tolist()


def _eligible_batches_at_approval(
    session: Session, permit: Permit, settings: Settings
) -> Iterator[npt.NDArray[np.int64]]:
    return _eligible(session, permit, permit.approved_at, terms_of(session, permit), settings.choices.proxy_max_depth)


def create(session: Session, actor: Actor, permit: Permit, settings: Settings, now: datetime) -> Manifest:
    state = rules.status_of(permit, now)
    if state in (rules.Status.expired, rules.Status.revoked):
        raise Conflict(f"no manifests for a {state.value} permit", code=f"permit-{state.value}")
    if permit.approved_at > now:
        raise Conflict(
            f"the permit is approved at {permit.approved_at.isoformat()}: no manifest before then",
            code="permit-not-approved-yet",
        )
    assert permit.id is not None
    with entries.SortedEntries() as sorted_entries:
        bits = _entries(session, permit, settings, now, sorted_entries)
        manifest_id = _next_id(session)
        tree = merkle.LeafStream()
        entries.store(session, manifest_id, sorted_entries, lambda batch: tree.extend(entries.leaf_hashes(batch)))
        root, size = tree.root(), sorted_entries.size
    entries.store_members(session, manifest_id, bits)
    manifest = Manifest(
        id=manifest_id,
        permit_id=permit.id,
        as_of=permit.approved_at,
        size=size,
        root_hash=root,
        created_by=actor.ledger_name,
        created_at=now,
        ledger_seq=log.next_seq(session),
    )
    session.add(manifest)
    session.flush()
    event = log.append(
        session,
        "manifest.created",
        actor.ledger_name,
        f"permit:{permit.id}",
        {
            "manifest_id": manifest_id,
            "size": size,
            "root_hash": root.hex(),
            "as_of": permit.approved_at.isoformat(),
            "members_sha256": hashlib.sha256(bits).hexdigest(),
        },
        at=now,
    )
    assert event.seq == manifest.ledger_seq
    session.add(ManifestMemberSet(manifest_id=manifest_id, bits=bits))
    session.flush()
    return manifest


def _next_id(session: Session) -> int:
    """The id the manifest's row will have, taken before the row is written, as its default
    would give it: the entries are written first, and reference it."""
    if session.connection().dialect.name == "postgresql":
        sql = "SELECT nextval(pg_get_serial_sequence('manifest', 'id'))"
    else:  # a rowid: one more than the highest, under SQLite's single writer
        sql = "SELECT coalesce(max(id), 0) + 1 FROM manifest"
    return int(session.execute(text(sql)).scalar_one())


def _entries(session: Session, permit: Permit, settings: Settings, now: datetime, into: entries.SortedEntries) -> bytes:
    """Pseudonymise the eligible members batch by batch into ``into``, sorted; return their set."""
    assert permit.id is not None
    still = None
    if settings.choices.honour_later_withdrawals:
        still = member_sets.Builder()
        for ids in _eligible(session, permit, now, terms_of(session, permit), settings.choices.proxy_max_depth):
            still.add(ids)
    of = pseudonymiser(settings.privacy.pseudonym_key_file.read_bytes().strip(), permit.id)
    members = member_sets.Builder()
    for fetched in _eligible_batches_at_approval(session, permit, settings):
        for start in range(0, fetched.size, BATCH):
            ids = fetched[start : start + BATCH]
            if still is not None:
                ids = ids[still.holds(ids)]
            into.add(b"".join(map(of, ids.tolist())), ids)
            members.add(ids)
    into.sort()
    return members.encode()


def pseudonymiser(key: bytes, permit_id: int) -> Callable[[int], bytes]:
    """:func:`pseudonym` for one permit, three times as fast for millions of members: HMAC
    as RFC 2104 defines it, with the key's two padded blocks and the permit's prefix hashed
    once, so each member costs two SHA-256 blocks instead of four."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + f"permit:{permit_id}:member:".encode()).copy
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key)).copy

    def of(member: int) -> bytes:
        h, o = inner(), outer()
        h.update(b"%d" % member)
        o.update(h.digest())
        return o.digest()

    return of


def get(session: Session, permit: Permit, manifest_id: int) -> Manifest:
    manifest = session.get(Manifest, manifest_id)
    if manifest is None or manifest.permit_id != permit.id:
        raise NotFound(f"no manifest {manifest_id} for this permit", code="manifest-not-found")
    return manifest


def pseudonyms(session: Session, manifest_id: int) -> Iterator[bytes]:
    """The manifest's pseudonyms in order, streamed in batches from the driver.

    On PostgreSQL the rows come in the order of the entries' key, (manifest_id, pseudonym),
    which is the order asked for: the planner is kept from sorting them instead (right
    after a manifest is written it has no statistics for it, and sorted 16 million rows on
    disk), and the cursor is binary, so each pseudonym arrives as its 32 bytes, not as hex."""
    conn = session.connection()
    raw = bulk.raw_connection(session)
    sql = "SELECT pseudonym FROM manifest_entry WHERE manifest_id = {} ORDER BY pseudonym"
    if conn.dialect.name == "postgresql":
        with raw.cursor() as planner:
            (sort,) = planner.execute("SELECT current_setting('enable_sort')").fetchone()
            planner.execute("SELECT set_config('enable_sort', 'off', true)")
            cursor = raw.cursor(name=f"manifest_{manifest_id}", binary=True)
            cursor.execute(sql.format("%s"), (manifest_id,))
            planner.execute("SELECT set_config('enable_sort', %s, true)", (sort,))
    else:
        cursor = raw.cursor()
        cursor.execute(sql.format("?"), (manifest_id,))
    try:
        while batch := cursor.fetchmany(BATCH):
            for (p,) in batch:
                yield bytes(p)
    finally:
        cursor.close()
