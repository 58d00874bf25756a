"""The portal as a browser without script uses it: forms with their CSRF token, a login cookie."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories.members import PASSWORD

MEMBER_PAGES = [
    "/me",
    "/me/choices",
    "/me/opt-out",
    "/me/proxies",
    "/me/history",
    "/me/agreed",
    "/me/agreed/mandate/1",
    "/me/votes",
    "/me/data-use",
    "/me/access",
    "/me/dividends",
    "/me/messages",
    "/me/details",
    "/me/export",
    "/me/password",
    "/me/leave",
]
BOARD_PAGES = [
    "/board/members",
    "/board/members/1",
    "/board/members/1/access",
    "/board/proposals",
    "/board/proposals/new?kind=mandate",
    "/board/proposals/new?kind=benefit-policy",
    "/board/permits",
    "/board/permits/new",
    "/board/permits/1",
    "/board/money",
    "/board/distributions",
    "/board/reports",
    "/board/approvals",
    "/board/api-keys",
    "/board/users",
    "/board/mail",
    "/board/witnesses",
    "/me/two-factor",
]
"""The portal's pages, as a member and as the board see them (the board's in a cooperative
with one permit, as ``cooperative`` makes it)."""


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, "every form carries a CSRF token"
    return match.group(1)


def portal_login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Log in through the portal's form; the client keeps the session cookie."""
    page = client.get("/login")
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
    r = client.post(
        "/login", data={"csrf": csrf(page.text), "email": email, "password": password}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    cookie = r.headers["set-cookie"]
    assert "coop_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
