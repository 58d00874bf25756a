"""Two-factor sign-in in the portal, over the same services as the API: a board user sets up an
app from a QR code (or the secret as text), switches it on with a first code and sees the
recovery codes once; signing in then asks for a code after the password, holding only a
short-lived signed challenge in between; production mode sends a board user without it to
set it up, whatever page they open."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from fastapi.testclient import TestClient

from coop.auth import totp
from coop.db import Database
from coop.types import utcnow
from tests import factories as f
from tests.conftest import Clock

PAGE = "/me/two-factor"


def _secret(html: str) -> str:
    match = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', html)
    assert match, "the secret is shown as text"
    return match.group(1).replace(" ", "")


def _post(client: TestClient, path: str, page: str, **data: str) -> object:
    return client.post(path, data={"csrf": f.csrf(page), **data}, follow_redirects=False)


def enrol_in_portal(client: TestClient, clock: Clock) -> tuple[str, list[str]]:
    page = client.get(PAGE)
    assert page.status_code == 200 and 'action="/me/two-factor/start"' in page.text
    started = _post(client, f"{PAGE}/start", page.text)
    assert started.status_code == 303  # type: ignore[attr-defined]
    page = client.get(PAGE)
    assert "<svg" in page.text and 'role="img"' in page.text and "aria-label=" in page.text
    secret = _secret(page.text)
    wrong = client.post(f"{PAGE}/enable", data={"csrf": f.csrf(page.text), "code": "12345x"})
    assert "error=wrong-code" in str(wrong.url) and 'role="alert"' in wrong.text
    now = utcnow()
    with clock.at(now):
        done = client.post(f"{PAGE}/enable", data={"csrf": f.csrf(page.text), "code": pyotp.TOTP(secret).at(now)})
    assert done.status_code == 200, done.text
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.text)
    assert len(codes) == 10
    assert "coop_session=" in done.headers["set-cookie"], "this browser gets a new login"
    return secret, codes


def test_a_board_user_switches_it_on_and_signs_in_with_a_code(
    client: TestClient, database: Database, clock: Clock
) -> None:
    f.founded(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    secret, codes = enrol_in_portal(client, clock)
    page = client.get(PAGE)
    assert secret not in page.text.replace(" ", "") and "svg" not in page.text, "the secret is never shown again"
    assert not any(code in page.text for code in codes)
    assert client.get("/board/members").status_code == 200

    client.post("/logout", data={"csrf": f.csrf(page.text)})
    login = client.get("/login")
    asked = client.post(
        "/login",
        data={"csrf": f.csrf(login.text), "email": f.BOARD_EMAIL, "password": f.PASSWORD},
        follow_redirects=False,
    )
    assert asked.status_code == 303 and asked.headers["location"] == "/login/code"
    assert "coop_session=" not in asked.headers["set-cookie"], "no login before the code"
    assert "coop_sign_in=" in asked.headers["set-cookie"] and "HttpOnly" in asked.headers["set-cookie"]
    assert client.get("/board/members", follow_redirects=False).headers["location"] == "/login"
    form = client.get("/login/code")
    assert form.status_code == 200 and 'autocomplete="one-time-code"' in form.text
    later = utcnow() + timedelta(seconds=30)
    with clock.at(later):
        wrong = client.post("/login/code", data={"csrf": f.csrf(form.text), "code": "000000x"})
        assert wrong.status_code == 401 and 'role="alert"' in wrong.text
        right = _post(client, "/login/code", form.text, code=pyotp.TOTP(secret).at(later))
    assert right.status_code == 303 and right.headers["location"] == "/board/members"  # type: ignore[attr-defined]
    assert client.get("/board/members").status_code == 200


def test_the_code_step_refuses_a_forged_or_late_challenge(client: TestClient, database: Database, clock: Clock) -> None:
    f.founded(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    secret, _ = enrol_in_portal(client, clock)
    page = client.get(PAGE)
    client.post("/logout", data={"csrf": f.csrf(page.text)})
    assert client.get("/login/code", follow_redirects=False).headers["location"] == "/login"
    secret_key = client.app.state.jwt_secret  # type: ignore[attr-defined]
    late = totp.issue_challenge(secret_key, 1, 1, now=utcnow() - timedelta(minutes=totp.CHALLENGE_MINUTES + 1))
    client.cookies.set("coop_sign_in", late, path="/login")
    form = client.get("/login/code")
    code = pyotp.TOTP(secret).now()
    back = _post(client, "/login/code", form.text, code=code)
    assert back.headers["location"] == "/login?error=challenge-expired"  # type: ignore[attr-defined]
    assert "Het inloggen duurde te lang" in client.get("/login?error=challenge-expired").text
    from coop.auth.secrets import issue_token

    login_token, _ = issue_token(secret_key, "user:1", "board", 5, 1, now=utcnow())
    client.cookies.set("coop_sign_in", login_token, path="/login")
    forged = _post(client, "/login/code", form.text, code=code)
    assert forged.headers["location"] == "/login?error=challenge-expired", "a login token is no challenge"  # type: ignore[attr-defined]
    assert "coop_session" not in client.cookies


def test_production_sends_a_board_user_to_set_it_up(
    client: TestClient, database: Database, production: TestClient, clock: Clock
) -> None:
    member = f.member(client, f.founded(client, database))
    f.portal_login(production, f.BOARD_EMAIL)
    for url in ("/board/members", "/board/users", "/me/password"):
        sent = production.get(url, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"] == PAGE, url
    page = production.get(f"{PAGE}?lang=en")
    assert "Turn on two-step sign-in first" not in page.text and "The board must use two-step sign-in" in page.text
    enrol_in_portal(production, clock)
    assert production.get("/board/members").status_code == 200
    f.portal_login(client, member.email)
    assert client.get(PAGE).status_code == 403, "members have no two-factor sign-in"
