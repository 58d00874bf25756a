"""Reads of the requests for four eyes: the one open for a distribution or a report year, and
every request still waiting."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlmodel import Session, col

from coop.approvals.models import Action, BoardApproval
from coop.auth.models import UserAccount


def distribution_target(distribution_id: int) -> str:
    return f"distribution:{distribution_id}"


def report_target(year: int) -> str:
    return f"report:annual:{year}"


def open_for(session: Session, target: str) -> BoardApproval | None:
    """The request waiting for a second board user about ``target``, if any."""
    return session.execute(
        select(BoardApproval).where(col(BoardApproval.target) == target, col(BoardApproval.decided_at).is_(None))
    ).scalar_one_or_none()


def waiting(session: Session, action: Action | None = None) -> list[BoardApproval]:
    """Every request still waiting, oldest first."""
    stmt = select(BoardApproval).where(col(BoardApproval.decided_at).is_(None))
    if action is not None:
        stmt = stmt.where(col(BoardApproval.action) == action.value)
    return list(session.execute(stmt.order_by(col(BoardApproval.id))).scalars())


def last_decided(session: Session, target: str) -> BoardApproval | None:
    """The request about ``target`` decided last, if any (to say who approved a commit)."""
    return session.execute(
        select(BoardApproval)
        .where(col(BoardApproval.target) == target, col(BoardApproval.decided_at).is_not(None))
        .order_by(col(BoardApproval.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def board_names(session: Session, ledger_names: Collection[str | None]) -> dict[str, str]:
    """How the board's pages name board users: by the email of their login (``user:{id}``);
    other actors (``cli``) by their ledger name."""
    ids = {int(n.split(":")[1]): n for n in ledger_names if n and n.startswith("user:") and n[5:].isdigit()}
    rows = session.execute(
        select(col(UserAccount.id), col(UserAccount.email)).where(col(UserAccount.id).in_(list(ids)))
    )
    found: dict[int, str] = {int(i): str(e) for i, e in rows} if ids else {}
    return {n: found.get(i, n) for i, n in ids.items()} | {n: n for n in ledger_names if n and n not in ids.values()}
