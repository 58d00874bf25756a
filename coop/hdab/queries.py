"""Reads of the HDAB's consultations: a recorded consultation, as it was answered."""

from __future__ import annotations

from sqlmodel import Session

from coop.errors import NotFound
from coop.hdab.models import Consultation


def get(session: Session, consultation_id: int) -> Consultation:
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound(f"no consultation {consultation_id}", code="consultation-not-found")
    return consultation
