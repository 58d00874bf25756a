"""Applications to the HDAB and the permits it grants."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session

from coop.auth.policy import Actor, Permission, Role
from coop.db import Database
from coop.permits import service as permits
from coop.permits.models import Permit
from coop.permits.schemas import PermitOut
from coop.types import utcnow
from coop.vocabulary.terms import Category, Purpose, UserType
from tests.factories import services
from tests.factories.governance import with_members
from tests.factories.members import MemberHandle, api_key

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


def registered(
    client: TestClient, database: Database, members: int = 3, manifest: bool = False
) -> tuple[dict[str, str], dict, list[MemberHandle]]:
    """Statutes, the board, ``members`` members and a permit approved now, registered by an
    HDAB key below HTTP (with its manifest when ``manifest``): the HDAB's headers, the
    permit as ``GET /permits/{id}`` shows it, the members."""
    _board, people = with_members(client, database, members)
    hdab = api_key(database, "hdab")
    hdab_actor = services.actor_of(client, hdab, Permission.register_permits)
    with services.database_of(client).unit_of_work() as session:
        permit = services.register_permit(client, session, hdab_actor, permit_body(approved_at=utcnow().isoformat()))
        shown = PermitOut.of(permit, services.now_of(client)).model_dump(mode="json")
    if manifest:
        with services.database_of(client).unit_of_work() as session:
            services.make_manifest(client, session, hdab_actor, permits.get(session, hdab_actor, shown["id"]))
    return hdab, shown, people


def report_usage(client: TestClient, headers: dict[str, str], permit_id: int, **body: object) -> httpx.Response:
    """A usage report for the permit, occurring now unless ``occurred_at`` says otherwise."""
    return client.post(
        f"{PERMITS}/{permit_id}/usage", json={"occurred_at": utcnow().isoformat(), **body}, headers=headers
    )


def granted(session: Session, number: str, now: datetime, days: int = 30) -> Permit:
    """Below HTTP: an academic research permit on EHR data, approved and valid from ``now``
    for ``days`` days, registered by an HDAB key."""
    new = permits.NewPermit(
        number,
        "UMC",
        UserType.academic,
        (Purpose.research,),
        (Category.ehr,),
        (),
        "",
        (),
        now,
        now,
        now + timedelta(days=days),
        0,
        0,
        None,
    )
    permit, _ = permits.register(session, Actor("key", 1, Role.hdab), new, now)
    return permit
