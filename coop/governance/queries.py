"""Reads of the governance documents: the version of the mandate or benefit policy in force
at a given moment, and every version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from coop.errors import NotFound
from coop.governance.documents import Document, DocumentKind, Mandate, parse_document
from coop.governance.models import GovernanceDocument
from ledger import canonical


@dataclass(frozen=True, slots=True)
class Version:
    kind: DocumentKind
    version: int
    effective_from: datetime
    source: str
    document: Document


def version_of(row: GovernanceDocument) -> Version:
    kind = DocumentKind(row.kind)
    document, errors = parse_document(kind, canonical.loads(row.body))
    assert document is not None, errors  # stored documents were validated when recorded
    return Version(kind, row.version, row.effective_from, row.source, document)


def in_force(session: Session, kind: DocumentKind, at: datetime) -> Version | None:
    """The version of ``kind`` in force at ``at``, or None before the first."""
    row = session.execute(
        select(GovernanceDocument)
        .where(col(GovernanceDocument.kind) == kind.value, col(GovernanceDocument.effective_from) <= at)
        .order_by(col(GovernanceDocument.effective_from).desc(), col(GovernanceDocument.version).desc())
        .limit(1)
    ).scalar_one_or_none()
    return version_of(row) if row else None


def require_in_force(session: Session, kind: DocumentKind, at: datetime) -> Version:
    version = in_force(session, kind, at)
    if version is None:
        raise NotFound(f"no {kind} was in force then; run `coop init --statutes FILE` first", code=f"no-{kind}")
    return version


def mandate_at(session: Session, at: datetime) -> tuple[int, Mandate]:
    v = require_in_force(session, DocumentKind.mandate, at)
    assert isinstance(v.document, Mandate)
    return v.version, v.document


def history(session: Session, kind: DocumentKind) -> list[Version]:
    rows = session.execute(
        select(GovernanceDocument)
        .where(col(GovernanceDocument.kind) == kind.value)
        .order_by(col(GovernanceDocument.version))
    ).scalars()
    return [version_of(r) for r in rows]
