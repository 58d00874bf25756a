"""Proxy appointments as members make them over the API: asked by the principal, and (for
:func:`appointed`) accepted by the proxy, so in force."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories.members import MemberHandle


def ask_proxy(client: TestClient, principal: MemberHandle, proxy: MemberHandle, **body: Any) -> dict:
    """``principal`` asks ``proxy`` (201); the appointment waits for the proxy's answer."""
    r = client.post(
        f"/api/v1/members/{principal.id}/proxies", json={"proxy_member_id": proxy.id, **body}, headers=principal.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def accept_proxy(client: TestClient, proxy: MemberHandle, appointment_id: int) -> dict:
    r = client.post(f"/api/v1/members/{proxy.id}/acting-for/{appointment_id}/accept", headers=proxy.headers)
    assert r.status_code == 200, r.text
    return r.json()


def appointed(client: TestClient, principal: MemberHandle, proxy: MemberHandle, **body: Any) -> dict:
    """An appointment in force: asked by ``principal`` and accepted by ``proxy``."""
    return accept_proxy(client, proxy, ask_proxy(client, principal, proxy, **body)["id"])


def acting_pages(client: TestClient, people: list[MemberHandle]) -> list[str]:
    """``people[0]`` acts for ``people[1]`` (research, voting, name shown) and is still asked by
    ``people[2]``: the pages ``people[0]`` then has as a proxy."""
    acting = appointed(client, people[1], people[0], purposes=["research"], voting=True, show_name=True)
    ask_proxy(client, people[2], people[0], purposes=["education"])
    return [f"/acting-for/{acting['id']}{page}" for page in ("", "/choices", "/votes", "/data-use")]
