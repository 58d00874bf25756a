"""Reads of the permit register that pages, statements and money share."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from coop.permits.models import Permit


def numbers(session: Session) -> dict[int, str]:
    """Every permit's number, by id."""
    return {pid: number for pid, number in session.execute(select(col(Permit.id), col(Permit.permit_number)))}
