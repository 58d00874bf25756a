"""Four eyes: committing a distribution and publishing the annual report need two board users.

One board user asks (the request pins what they saw: the draft's digest, or the SHA-256 of
the report's figures); another approves, and the approval commits or publishes in the same
transaction, refused when what was pinned no longer holds. The asker may withdraw the
request, another board user may decline it. Each step is a ledger event with its own actor
(``approval.requested``, ``.approved``, ``.declined``, ``.withdrawn``, subject
``approval:{id}``), and the commit or publication event names both board users.

Writers take one lock (see :mod:`coop.db`), so of two board users approving at once the
second finds the request decided and gets 409 ``approval-decided``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from coop.approvals import mail as approval_mail
from coop.approvals import queries
from coop.approvals.models import Action, BoardApproval, Outcome, decided_payload, requested_payload
from coop.auth.models import UserAccount
from coop.auth.policy import (
    Actor,
    Decision,
    Denied,
    Role,
    can_ask_second_approval,
    can_decide_request,
    can_withdraw_request,
)
from coop.auth.service import normalise_email
from coop.errors import Conflict, Forbidden, Invalid, NotFound
from coop.money import closing, distributions
from coop.money.models import Distribution
from coop.reporting import service as reporting
from coop.settings import Settings
from ledger import log


def _allowed(decision: Decision) -> None:
    if isinstance(decision, Denied):
        raise Forbidden(decision.reason, code=decision.code)


def ask_commit(session: Session, actor: Actor, distribution_id: int, *, now: datetime) -> BoardApproval:
    """Ask a second board user to commit a draft that still holds."""
    _allowed(can_ask_second_approval(actor))
    draft = distributions.get(session, distribution_id)
    closing.require_current(session, draft, now)
    row = BoardApproval(
        action=Action.commit_distribution.value,
        target=queries.distribution_target(distribution_id),
        distribution_id=distribution_id,
        pinned=draft.digest,
        requested_by=actor.ledger_name,
        requested_at=now,
    )
    return _ask(session, actor, row, now)


def ask_publish(
    session: Session, actor: Actor, settings: Settings, year: int, languages: Collection[str], *, now: datetime
) -> BoardApproval:
    """Ask a second board user to publish the annual report of ``year`` in ``languages``."""
    _allowed(can_ask_second_approval(actor))
    if not languages:
        raise Invalid("choose at least one language", code="invalid-report", field="languages")
    if log.latest_head(session) is None:
        raise NotFound("the ledger has no signed tree head yet", code="tree-head-not-found")
    row = BoardApproval(
        action=Action.publish_report.value,
        target=queries.report_target(year),
        year=year,
        languages=",".join(sorted(set(languages))),
        pinned=reporting.figures_sha256(session, settings, year, now),
        requested_by=actor.ledger_name,
        requested_at=now,
    )
    return _ask(session, actor, row, now)


def _ask(session: Session, actor: Actor, row: BoardApproval, now: datetime) -> BoardApproval:
    if (earlier := queries.open_for(session, row.target)) is not None:
        raise Conflict(
            f"request {earlier.id} about this waits for a second board member already", code="approval-pending"
        )
    session.add(row)
    session.flush()
    log.append(session, "approval.requested", actor.ledger_name, f"approval:{row.id}", requested_payload(row), at=now)
    approval_mail.tell_the_others(session, row, now)
    return row


def get(session: Session, approval_id: int) -> BoardApproval:
    row = session.get(BoardApproval, approval_id)
    if row is None:
        raise NotFound(f"no request {approval_id}", code="approval-not-found")
    return row


def _decide(session: Session, actor: Actor, row: BoardApproval, outcome: Outcome, now: datetime) -> None:
    if row.decided_at is not None:
        raise Conflict(f"request {row.id} was {row.outcome} already", code="approval-decided")
    row.outcome, row.decided_by, row.decided_at = outcome.value, actor.ledger_name, now
    session.flush()
    log.append(
        session, f"approval.{outcome.value}", actor.ledger_name, f"approval:{row.id}", decided_payload(row), at=now
    )


@dataclass(frozen=True, slots=True)
class Approved:
    """An approved request and what it did: the committed distribution, or the publications."""

    approval: BoardApproval
    distribution: Distribution | None = None
    published: tuple[dict[str, Any], ...] = ()


def approve(session: Session, actor: Actor, settings: Settings, approval_id: int, *, now: datetime) -> Approved:
    """Approve another board user's request: commit or publish now, if what it pinned holds."""
    row = get(session, approval_id)
    if row.decided_at is not None:
        raise Conflict(f"request {row.id} was {row.outcome} already", code="approval-decided")
    _allowed(can_decide_request(actor, row.requested_by))
    _decide(session, actor, row, Outcome.approved, now)
    assert row.id is not None
    eyes = closing.FourEyes(row.id, row.requested_by, actor.ledger_name)
    if row.action == Action.commit_distribution.value:
        assert row.distribution_id is not None
        draft = distributions.get(session, row.distribution_id)
        if draft.digest != row.pinned:  # a draft never changes: only a tampered row gets here
            raise Conflict("the draft is not the one asked about", code="approval-stale")
        return Approved(row, distribution=closing.commit_approved(session, actor, draft, eyes, now=now))
    assert row.year is not None
    if reporting.figures_sha256(session, settings, row.year, now) != row.pinned:
        raise Conflict(
            "the report's figures changed since the request: decline it and ask again", code="approval-stale"
        )
    published = tuple(
        reporting.publish_annual(session, actor, settings, row.year, lang, now, eyes.payload())
        for lang in row.language_list
    )
    return Approved(row, published=published)


def decline(session: Session, actor: Actor, approval_id: int, *, now: datetime) -> BoardApproval:
    """Another board user says no: the request ends and nothing is committed or published."""
    row = get(session, approval_id)
    if row.decided_at is not None:
        raise Conflict(f"request {row.id} was {row.outcome} already", code="approval-decided")
    _allowed(can_decide_request(actor, row.requested_by))
    _decide(session, actor, row, Outcome.declined, now)
    return row


def withdraw(session: Session, actor: Actor, approval_id: int, *, now: datetime) -> BoardApproval:
    """The asker takes the request back."""
    row = get(session, approval_id)
    if row.decided_at is not None:
        raise Conflict(f"request {row.id} was {row.outcome} already", code="approval-decided")
    _allowed(can_withdraw_request(actor, row.requested_by))
    _decide(session, actor, row, Outcome.withdrawn, now)
    return row


def board_user(session: Session, email: str) -> Actor:
    """The board user who logs in with ``email``, as an actor (for the command line, whose
    operator names the two board users of a commit or publication)."""
    user = session.execute(
        select(UserAccount).where(col(UserAccount.email) == normalise_email(email), col(UserAccount.role) == "board")
    ).scalar_one_or_none()
    if user is None or user.id is None or user.disabled_at is not None:
        raise NotFound(f"no board user {email} who can log in", code="board-user-not-found")
    return Actor("user", user.id, Role.board)
