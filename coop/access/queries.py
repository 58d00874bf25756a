"""Reads of the access log: what a member sees of who looked at their data (records naming
them, lists that showed them, and downloads of manifests that include them), and the counts
an auditor reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, literal_column, select, union_all
from sqlmodel import Session, col

from coop.access.models import AccessRecord, AccessRecordMember, ReaderRole
from coop.auth.models import ApiKey
from coop.permits.models import Manifest, ManifestMember, Permit
from coop.privacy import Published, publish


@dataclass(frozen=True, slots=True)
class AccessView:
    """One read of a member's data as the member sees it: never another member's identity."""

    at: datetime
    role: str
    """board, proxy, carer, hdab, data-holder or auditor."""
    purpose: str
    what: str
    reader: str
    """Who read, in words that name no member: "the board (user:3)", "your proxy", "your carer",
    "data holder Example Lab, permit P-1"."""
    permit: str | None = None
    """For a manifest download: the permit's number."""
    organisation: str | None = None
    """For an organisation's key (a data holder, the HDAB, an auditor): its name."""


def _about(member_id: int) -> Select[tuple[int]]:
    """The ids of the records about ``member_id``: naming them, listing them, or a manifest with them."""
    own: Select[tuple[int]] = select(col(AccessRecord.id).label("id")).where(col(AccessRecord.member_id) == member_id)
    listed: Select[tuple[int]] = select(col(AccessRecordMember.record_id).label("id")).where(
        col(AccessRecordMember.member_id) == member_id
    )
    downloaded: Select[tuple[int]] = (
        select(col(AccessRecord.id).label("id"))
        .join(ManifestMember, col(ManifestMember.manifest_id) == col(AccessRecord.manifest_id))
        .where(col(ManifestMember.member_id) == member_id)
    )
    return select(literal_column("id")).select_from(union_all(own, listed, downloaded).subquery())


def count_seen(session: Session, member_id: int) -> int:
    """How many reads of the member's data by others there were."""
    ids = _about(member_id).subquery()
    return int(session.execute(select(func.count()).select_from(ids)).scalar_one())


def seen_by_others(session: Session, member_id: int, limit: int | None = None, offset: int = 0) -> list[AccessView]:
    """Every read of the member's data by someone else, newest first (``limit`` of them from
    ``offset``; None: all)."""
    ids = _about(member_id).subquery()
    stmt = (
        select(AccessRecord)
        .where(col(AccessRecord.id).in_(select(ids.c.id)))
        .order_by(col(AccessRecord.at).desc(), col(AccessRecord.id).desc())
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = list(session.execute(stmt).scalars())
    permits = _permits(session, {r.manifest_id for r in rows if r.manifest_id is not None})
    orgs = _organisations(session, {r.reader for r in rows})
    return [_view(r, permits.get(r.manifest_id or 0), orgs.get(r.reader)) for r in rows]


def _permits(session: Session, manifest_ids: set[int]) -> dict[int, str]:
    if not manifest_ids:
        return {}
    rows = session.execute(
        select(col(Manifest.id), col(Permit.permit_number))
        .join(Permit, col(Permit.id) == col(Manifest.permit_id))
        .where(col(Manifest.id).in_(manifest_ids))
    ).all()
    return {m: number for m, number in rows}


def _organisations(session: Session, readers: set[str]) -> dict[str, str]:
    keys = {int(r[4:]) for r in readers if r.startswith("key:") and r[4:].isdigit()}
    if not keys:
        return {}
    rows = session.execute(select(col(ApiKey.id), col(ApiKey.org)).where(col(ApiKey.id).in_(keys))).all()
    return {f"key:{i}": org for i, org in rows}


def _view(row: AccessRecord, permit: str | None, org: str | None) -> AccessView:
    role = row.role
    under = f", permit {permit}" if permit else ""
    if role == ReaderRole.board:
        reader = "the board" + ("" if row.reader == "cli" else f" ({row.reader})")
    elif role == ReaderRole.proxy:
        reader = "your proxy"
    elif role == ReaderRole.carer:
        reader = "your carer"
    elif role == ReaderRole.hdab:
        reader = f"{org} (the Health Data Access Body){under}" if org else f"the Health Data Access Body{under}"
    elif role == ReaderRole.data_holder:
        reader = f"data holder {org or row.reader}{under}"
    else:
        reader = f"auditor {org or row.reader}{under}"
    return AccessView(row.at, role, row.purpose, row.what, reader, permit, org)


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """How many reads there were in a month, by role, purpose and what (small counts suppressed)."""

    month: str
    role: str
    purpose: str
    what: str
    reads: Published


def summary(session: Session, threshold: int) -> list[SummaryRow]:
    """Reads per month, role, purpose and what, oldest month first: no member, no reader."""
    at = col(AccessRecord.at)
    dialect = session.get_bind().dialect.name
    month = func.to_char(func.timezone("UTC", at), "YYYY-MM") if dialect == "postgresql" else func.strftime("%Y-%m", at)
    m = month.label("month")
    rows = session.execute(
        select(m, col(AccessRecord.role), col(AccessRecord.purpose), col(AccessRecord.what), func.count())
        .group_by(m, col(AccessRecord.role), col(AccessRecord.purpose), col(AccessRecord.what))
        .order_by(m, col(AccessRecord.role), col(AccessRecord.purpose), col(AccessRecord.what))
    ).all()
    return [SummaryRow(str(mo), r, p, w, publish(int(n), threshold)) for mo, r, p, w, n in rows]
