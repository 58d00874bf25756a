"""Recording a read of members' data by someone other than the member: one row and one
``access.recorded`` event, in one transaction (the ledger of record proves the row).

A read is recorded before it is served: :func:`record_apart` commits the record in a write
transaction of its own, after the read's checks (a refused read is not a read) and before the
route returns what it read; if recording fails, nothing is served. Reads stay on the read
engine, and a member reading their own data takes no writers' lock at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session

from coop.access.models import (
    AccessPurpose,
    AccessRecord,
    AccessRecordMember,
    AccessWhat,
    ReaderRole,
    recorded_payload,
)
from coop.auth.policy import Actor, Role
from coop.db import Database
from ledger import log

EVENT = "access.recorded"

_ROLES = {
    Role.board: ReaderRole.board,
    Role.hdab: ReaderRole.hdab,
    Role.data_holder: ReaderRole.data_holder,
    Role.auditor: ReaderRole.auditor,
    Role.carer: ReaderRole.carer,
    Role.member: ReaderRole.proxy,
    Role.former_member: ReaderRole.proxy,
}

_PURPOSES = {
    ReaderRole.board: AccessPurpose.member_administration,
    ReaderRole.proxy: AccessPurpose.acting_as_proxy,
    ReaderRole.carer: AccessPurpose.acting_as_proxy,
    ReaderRole.hdab: AccessPurpose.manifest_download,
    ReaderRole.data_holder: AccessPurpose.manifest_download,
    ReaderRole.auditor: AccessPurpose.manifest_download,
}


@dataclass(frozen=True, slots=True)
class Read:
    """What a reader read: one member's data, a list of members, or a manifest."""

    what: AccessWhat
    member_id: int | None = None
    members: Sequence[int] = field(default=())
    """The members a list showed (one record names them all)."""
    manifest_id: int | None = None
    purpose: AccessPurpose | None = None
    """None: the reader's role says why (the board administers, a proxy acts, a permit downloads)."""


def role_of(actor: Actor) -> ReaderRole:
    """The role in which ``actor`` reads another member's data (a member reading someone
    else's can only be their proxy: the policies let nobody else)."""
    return _ROLES[actor.role]


def needs_record(actor: Actor, read: Read) -> bool:
    """Whether the read is someone else's: the member reading their own data is not recorded,
    and neither is a list that showed nobody."""
    if read.member_id is not None:
        return actor.member_id != read.member_id
    if read.manifest_id is not None:
        return True
    return any(m != actor.member_id for m in read.members)


def record(session: Session, actor: Actor, read: Read, now: datetime) -> AccessRecord | None:
    """The read's record and its event, in the session's transaction (None: nothing to record)."""
    if not needs_record(actor, read):
        return None
    role = role_of(actor)
    row = AccessRecord(
        at=now,
        role=role.value,
        reader=actor.ledger_name,
        purpose=(read.purpose or _PURPOSES[role]).value,
        what=read.what.value,
        member_id=read.member_id,
        manifest_id=read.manifest_id,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    members = sorted(set(read.members))
    if members:
        session.execute(insert(AccessRecordMember), [{"record_id": row.id, "member_id": m} for m in members])
    log.append(session, EVENT, actor.ledger_name, f"access:{row.id}", recorded_payload(row, members), at=now)
    return row


def record_apart(db: Database, actor: Actor, read: Read, now: datetime) -> None:
    """:func:`record` in a write transaction of its own, committed when this returns: call it
    after the read's checks and before serving what was read."""
    if not needs_record(actor, read):
        return
    with db.unit_of_work(write=True) as session:
        record(session, actor, read, now)
