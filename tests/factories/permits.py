"""Applications to the HDAB and the permits it grants."""

from __future__ import annotations

from datetime import timedelta

from coop.types import utcnow

CONSULTATIONS = "/api/v1/hdab/consultations"
PERMITS = "/api/v1/permits"


def application(**overrides: object) -> dict:
    """A consultation request: an academic applicant asking for research on EHR data."""
    return {
        "application_ref": "HDAB-2026-0042",
        "applicant": "Universiteit Utrecht",
        "user_type": "academic",
        "purposes": ["research"],
        "categories": ["ehr"],
        "duration_months": 36,
        "offered_benefit_share_pct": 0,
        "open_results": True,
        "processing_in_eu": True,
        "expected_benefit": "Better treatment of heart failure",
        **overrides,
    }


def permit_body(**overrides: object) -> dict:
    """A permit as the HDAB granted it: approved yesterday, valid from an hour ago for three years."""
    now = utcnow()
    return {
        "permit_number": "NL-HDAB-2026-0042",
        "applicant": "Universiteit Utrecht",
        "user_type": "academic",
        "purposes": ["research"],
        "categories": ["ehr", "claims"],
        "authorised_persons": ["Dr. A. Onderzoeker"],
        "conditions": "Results to be published openly.",
        "data_holders": ["SPE Nederland"],
        "approved_at": (now - timedelta(days=1)).isoformat(),
        "valid_from": (now - timedelta(hours=1)).isoformat(),
        "valid_until": (now + timedelta(days=3 * 365)).isoformat(),
        "fee_cents": 250_000,
        "benefit_share_pct": 0,
        **overrides,
    }
