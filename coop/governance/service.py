"""Recording and reading versions of the mandate and the benefit policy."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from coop.auth.policy import Actor
from coop.errors import Conflict, Invalid
from coop.governance.documents import BenefitPolicy, Document, DocumentKind, Mandate, parse_document
from coop.governance.models import GovernanceDocument
from coop.governance.queries import Version, version_of
from ledger import canonical, log


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
    actor: Actor,
    kind: DocumentKind,
    document: Document,
    source: str,
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
        actor.ledger_name,
        f"{kind.value}:{version}",
        {
            "version": version,
            "source": source,
            "effective_from": row.effective_from.isoformat(),
            "document": canonical.loads(body),
        },
        at=row.effective_from,
    )
    return version_of(row)


def init_statutes(session: Session, actor: Actor, path: Path, *, now: datetime) -> tuple[Version, Version]:
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
        record(session, actor, DocumentKind.mandate, mandate, "statutes", now),
        record(session, actor, DocumentKind.benefit_policy, policy, "statutes", now),
    )
