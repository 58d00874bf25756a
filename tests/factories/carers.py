"""Carers (proxies who are not members) as members appoint them over the API, and their
first sign-in from the mailed link."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from coop.db import Database
from coop.mail.models import OutboxMessage
from tests.factories.members import MemberHandle, login
from tests.factories.portal import csrf

CARER_PASSWORD = "a carer's long password"


def ask_carer(client: TestClient, principal: MemberHandle, email: str, name: str = "Carla Zorg", **body: Any) -> dict:
    """``principal`` asks a carer by name and email (201); the appointment waits for their yes."""
    carer = {"name": name, "email": email, "language": "en"}
    r = client.post(f"/api/v1/members/{principal.id}/proxies", json={"carer": carer, **body}, headers=principal.headers)
    assert r.status_code == 201, r.text
    return r.json()


def invitation(database: Database, email: str) -> dict:
    """The context of the newest carer invitation mailed to ``email``."""
    with database.unit_of_work(write=False) as s:
        rows = s.execute(
            select(OutboxMessage).where(OutboxMessage.recipient == email, OutboxMessage.kind == "carer-invitation")  # type: ignore[arg-type]
        ).scalars()
        return dict(json.loads(list(rows)[-1].context))


def set_password(client: TestClient, token: str, password: str = CARER_PASSWORD) -> None:
    page = client.get("/password/reset", params={"token": token})
    done = client.post("/password/reset", data={"csrf": csrf(page.text), "token": token, "password": password})
    assert done.status_code == 200, done.text


def signed_in_carer(client: TestClient, database: Database, email: str) -> dict[str, str]:
    """The carer sets a password from the mailed link and logs in: their headers."""
    set_password(client, invitation(database, email)["token"])
    return login(client, email, CARER_PASSWORD)


CARER_EMAIL = "carer.pages@example.org"


def carer_pages(client: TestClient, database: Database, principal: MemberHandle) -> list[str]:
    """``principal`` asks a carer (education, voting) who makes a password and accepts: the
    pages that carer then has (log in as :data:`CARER_EMAIL` with :data:`CARER_PASSWORD`)."""
    asked = ask_carer(client, principal, CARER_EMAIL, purposes=["education"], voting=True)
    headers = signed_in_carer(client, database, CARER_EMAIL)
    r = client.post(f"/api/v1/carers/me/acting-for/{asked['id']}/accept", headers=headers)
    assert r.status_code == 200, r.text
    return ["/me/proxies", f"/acting-for/{asked['id']}", f"/acting-for/{asked['id']}/choices"]
