"""What a member agreed to: for each version of their choices, the versions of the collective
mandate and the benefit policy in force when it began (version 1 of each is the founding
statutes). Each version's text and SHA-256 come from the ledger of record
(:mod:`coop.governance.recorded`). Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from coop.auth.policy import Actor
from coop.choices import queries as choices_queries
from coop.governance import queries as documents_queries
from coop.governance.documents import DocumentKind


@dataclass(frozen=True, slots=True)
class Agreed:
    """One version of a member's choices and the rules it was made under."""

    choice_version: int
    since: datetime
    until: datetime | None
    mandate: int | None
    """The mandate's version in force when this version began (None: before the statutes)."""
    benefit_policy: int | None


def agreed_to(session: Session, actor: Actor, member_id: int, now: datetime) -> list[Agreed]:
    """Every version of the member's choices the actor may see, oldest first, with the
    versions of the mandate and the benefit policy in force when each began."""
    versions = choices_queries.history(session, actor, member_id, now)
    timelines = {kind: documents_queries.history(session, kind) for kind in DocumentKind}

    def in_force(kind: DocumentKind, at: datetime) -> int | None:
        started = [v for v in timelines[kind] if v.effective_from <= at]
        return max(started, key=lambda v: (v.effective_from, v.version)).version if started else None

    return [
        Agreed(
            choice_version=v.version,
            since=v.valid_from,
            until=v.valid_to,
            mandate=in_force(DocumentKind.mandate, v.valid_from),
            benefit_policy=in_force(DocumentKind.benefit_policy, v.valid_from),
        )
        for v in versions
    ]
