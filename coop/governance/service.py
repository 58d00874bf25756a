"""Recording and reading versions of the mandate and the benefit policy."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from coop.errors import Conflict, Invalid, NotFound
from coop.governance.documents import BenefitPolicy, Document, DocumentKind, Mandate, parse_document
from coop.governance.models import GovernanceDocument
from ledger import canonical, log


@dataclass(frozen=True, slots=True)
class Version:
    kind: DocumentKind
    version: int
    effective_from: datetime
    source: str
    document: Document


def _version(row: GovernanceDocument) -> Version:
    kind = DocumentKind(row.kind)
    document, errors = parse_document(kind, canonical.loads(row.body))
    assert document is not None, errors  # stored documents were validated when recorded
    return Version(kind, row.version, row.effective_from, row.source, document)


def validated(kind: DocumentKind, body: Any, field: str = "body") -> Document:
    document, errors = parse_document(kind, body)
    if document is None:
        raise Invalid(
            f"the {kind} is not valid",
            code=f"invalid-{kind}",
            errors=[{**e.as_dict(), "loc": [field, *e.loc]} for e in errors],
        )
    return document


def record(
    session: Session,
    kind: DocumentKind,
    document: Document,
    source: str,
    actor: str,
    effective_from: datetime,
) -> Version:
    """Append the next version of ``kind``, in force from ``effective_from``."""
    latest = session.execute(
        select(func.max(col(GovernanceDocument.version))).where(col(GovernanceDocument.kind) == kind.value)
    ).scalar_one()
    version = int(latest or 0) + 1
    body = canonical.dumps(document.model_dump(mode="json"))
    row = GovernanceDocument(kind=kind.value, version=version, body=body, effective_from=effective_from, source=source)
    session.add(row)
    session.flush()
    log.append(
        session,
        f"{kind.value}.adopted",
        actor,
        f"{kind.value}:{version}",
        {
            "version": version,
            "source": source,
            "effective_from": row.effective_from.isoformat(),
            "document": canonical.loads(body),
        },
        at=row.effective_from,
    )
    return _version(row)


def in_force(session: Session, kind: DocumentKind, at: datetime) -> Version | None:
    """The version of ``kind`` in force at ``at``, or None before the first."""
    row = session.execute(
        select(GovernanceDocument)
        .where(col(GovernanceDocument.kind) == kind.value, col(GovernanceDocument.effective_from) <= at)
        .order_by(col(GovernanceDocument.effective_from).desc(), col(GovernanceDocument.version).desc())
        .limit(1)
    ).scalar_one_or_none()
    return _version(row) if row else None


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
    return [_version(r) for r in rows]


def init_statutes(session: Session, path: Path, actor: str, *, now: datetime) -> tuple[Version, Version]:
    """Record the founding mandate and benefit policy (version 1 of each) from a TOML file,
    in force from ``now``."""
    if session.execute(select(func.count()).select_from(GovernanceDocument)).scalar_one():
        raise Conflict("the cooperative is initialised already; change its documents by a vote", code="initialised")
    try:
        statutes = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise Invalid(f"cannot read statutes {path}: {exc}", code="invalid-statutes") from exc
    mandate = validated(DocumentKind.mandate, statutes.get("mandate"), "mandate")
    policy = validated(DocumentKind.benefit_policy, statutes.get("benefit_policy"), "benefit_policy")
    assert isinstance(mandate, Mandate) and isinstance(policy, BenefitPolicy)
    return (
        record(session, DocumentKind.mandate, mandate, "statutes", actor, now),
        record(session, DocumentKind.benefit_policy, policy, "statutes", actor, now),
    )
