"""Four eyes: a board user's request to commit a distribution or publish an annual report,
waiting for a second board user, and how it ended (written once)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class Action(StrEnum):
    """What a request asks the second board user to let happen."""

    commit_distribution = "distribution.commit"
    publish_report = "report.publish"


class Outcome(StrEnum):
    approved = "approved"
    declined = "declined"
    withdrawn = "withdrawn"


class BoardApproval(SQLModel, table=True):
    """A request and, once decided, its outcome. ``pinned`` is what the asker saw: the draft's
    digest, or the SHA-256 of the report's figures; the request is approved only while that
    is still so. At most one request per ``target`` is open at a time."""

    __tablename__ = "board_approval"
    __table_args__ = (
        Index(
            "uq_board_approval_open_target",
            "target",
            unique=True,
            sqlite_where=text("decided_at IS NULL"),
            postgresql_where=text("decided_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(sa_column=Column(String(40), nullable=False))
    target: str = Field(sa_column=Column(String(80), nullable=False))
    """``distribution:{id}`` or ``report:annual:{year}``."""
    distribution_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("distribution.id"), nullable=True)
    )
    year: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    languages: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    """The report's languages, comma-separated in alphabetical order."""
    pinned: str = Field(sa_column=Column(String(64), nullable=False))
    requested_by: str = Field(sa_column=Column(String(40), nullable=False))
    requested_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    outcome: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    decided_by: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

    @property
    def language_list(self) -> list[str]:
        return self.languages.split(",") if self.languages else []


def requested_payload(row: BoardApproval) -> dict[str, Any]:
    """The approval.requested event: what is asked, about what, and what it is pinned to."""
    body: dict[str, Any] = {"action": row.action, "target": row.target, "pinned": row.pinned}
    if row.languages:
        body["languages"] = row.language_list
    return body


def decided_payload(row: BoardApproval) -> dict[str, Any]:
    """The approval.approved/.declined/.withdrawn event."""
    return {"action": row.action, "target": row.target}
