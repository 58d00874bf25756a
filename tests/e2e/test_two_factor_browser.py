"""Two-factor sign-in in Debian's Chromium: a board user sets up an authenticator app from the
secret shown beside the QR code, switches it on with a code computed here as the app would,
keeps the recovery codes, and signs in again with the password and then a current code. Each
new page (the app's set-up, the recovery codes, the code step) passes axe-core's WCAG 2.1 A and
AA rules and fits 1280 and 390 px, in Dutch and in English."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
from fastapi.testclient import TestClient

from coop.db import Database
from coop.types import utcnow
from tests import factories as f
from tests.conftest import PAGES_ONLY, Clock
from tests.e2e.checks import WIDTHS, overflow, violations
from tests.e2e.conftest import log_in, shot

LABELS = {
    "nl": {
        "email": "E-mailadres",
        "password": "Wachtwoord",
        "code": "Code",
        "enable": "Code uit uw app",
        "turn_on": "Aanzetten",
        "login": "Inloggen",
    },
    "en": {
        "email": "Email address",
        "password": "Password",
        "code": "Code",
        "enable": "Code from your app",
        "turn_on": "Turn on",
        "login": "Log in",
    },
}


def _checked(page: Any, axe: Any, name: str, found: dict[str, list[str]]) -> None:
    """axe's violations and sideways scrolling of the page as shown, at both widths."""
    for kind, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"two-factor-{name}-{kind}")
        found[f"{name} at {width}px"] = violations(page, axe) + overflow(page)


# Once, on SQLite (PAGES_ONLY): what the browser adds here is the pages as shown; switching it
# on and signing in with a code through the same pages is tested on both engines in
# tests/auth/test_two_factor_pages.py, the rules behind them in tests/auth/test_two_factor.py.
@PAGES_ONLY
def test_enrolment_and_sign_in_with_a_code_computed_here(
    client: TestClient, database: Database, live_server: str, browser: Any, axe_script: Any, clock: Clock
) -> None:
    f.founded(client, database)
    found: dict[str, list[str]] = {}
    moment = utcnow()
    for lang, said in LABELS.items():
        context = browser.new_context(bypass_csp=True)  # axe is injected as a script
        page = context.new_page()
        log_in(page, live_server, f.BOARD_EMAIL)
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"{live_server}/board/members?lang={lang}")
        page.locator("header").get_by_role(
            "link", name={"nl": "Inloggen in twee stappen"}.get(lang, "Two-step sign-in")
        ).click()
        page.get_by_role("button", name={"nl": "Een app instellen"}.get(lang, "Set up an app")).click()
        page.get_by_role("img").wait_for()
        _checked(page, axe_script, f"set-up-{lang}", found)
        secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
        moment += timedelta(minutes=2)
        with clock.at(moment):
            page.get_by_label(said["enable"]).fill(pyotp.TOTP(secret).at(moment))
            page.get_by_role("button", name=said["turn_on"]).click()
            page.get_by_role("status").wait_for()
        codes = page.locator(".recovery-codes code").all_inner_texts()
        assert len(codes) == 10
        _checked(page, axe_script, f"codes-{lang}", found)

        page.get_by_role("button", name={"nl": "Uitloggen"}.get(lang, "Log out")).click()
        page.goto(f"{live_server}/login")  # in the language chosen above
        page.get_by_label(said["email"]).fill(f.BOARD_EMAIL)
        page.get_by_label(said["password"], exact=True).fill(f.PASSWORD)
        page.locator("main").get_by_role("button", name=said["login"]).click()
        page.wait_for_url(f"{live_server}/login/code")
        page.goto(f"{live_server}/login/code?lang={lang}")
        _checked(page, axe_script, f"code-step-{lang}", found)
        moment += timedelta(minutes=2)
        with clock.at(moment):
            page.get_by_label(said["code"], exact=True).fill(pyotp.TOTP(secret).at(moment))
            page.get_by_role("button", name=said["login"]).click()
            page.wait_for_url(f"{live_server}/board/members")
        assert client.get("/api/v1/auth/two-factor", headers=f.board(client, database)).json()["enabled"]

        page.goto(f"{live_server}/me/two-factor")  # switched off again, for the next language
        moment += timedelta(minutes=2)
        with clock.at(moment):
            page.locator("#off-code").fill(pyotp.TOTP(secret).at(moment))
            page.get_by_role("button", name={"nl": "Uitzetten"}.get(lang, "Turn off")).click()
            page.get_by_role("status").wait_for()
        context.close()
    assert len(found) == 2 * 3 * len(WIDTHS)
    assert {where: what for where, what in found.items() if what} == {}
