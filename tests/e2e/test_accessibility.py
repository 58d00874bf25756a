"""Every portal page, as a member and as the board, in both languages, passes axe-core's
WCAG 2.1 A and AA rules in a real browser (contrast, labels, names, landmarks, language)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.conftest import PAGES_ONLY, Clock
from tests.e2e.conftest import log_in

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _violations(page: Any, axe: Path) -> list[str]:
    page.add_script_tag(path=str(axe))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    assert len(result["passes"]) >= 10, "axe ran its rules"  # e.g. color-contrast, label, html-has-lang
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


@PAGES_ONLY
def test_every_page_passes_wcag_21_aa(
    client: TestClient, database: Database, live_server: str, browser: Any, axe_script: Path
) -> None:
    board, people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=50_000)
    member_pages = [*f.MEMBER_PAGES, *f.acting_pages(client, people)]  # people[0] acts for people[1]
    carer_pages = f.carer_pages(client, database, people[1])  # a carer who is not a member acts for people[1]
    found: dict[str, list[str]] = {}
    # axe is injected as a script, which the pages' Content-Security-Policy rightly refuses;
    # test_portal_browser shows the pages work under the real policy
    member = browser.new_context(bypass_csp=True).new_page()
    # the receipt check in Dutch last: log_in reads the Dutch login form
    public = ["/login", "/invitation?token=x", "/receipt/verify?lang=en", "/receipt/verify?lang=nl"]
    for url in public:
        member.goto(f"{live_server}{url}")
        found[url] = _violations(member, axe_script)
    log_in(member, live_server, people[0].email)
    for lang in ("nl", "en"):
        for url in member_pages:
            member.goto(f"{live_server}{url}?lang={lang}")
            found[f"{url} ({lang})"] = _violations(member, axe_script)
    carer = browser.new_context(bypass_csp=True).new_page()
    log_in(carer, live_server, f.CARER_EMAIL, f.CARER_PASSWORD)
    for lang in ("nl", "en"):
        for url in carer_pages:
            carer.goto(f"{live_server}{url}?lang={lang}")
            found[f"carer {url} ({lang})"] = _violations(carer, axe_script)
    chair = browser.new_context(bypass_csp=True).new_page()
    log_in(chair, live_server, f.BOARD_EMAIL)
    for url in f.BOARD_PAGES:
        chair.goto(f"{live_server}{url}")
        found[url] = _violations(chair, axe_script)
    assert len(found) == len(public) + 2 * len(member_pages) + 2 * len(carer_pages) + len(f.BOARD_PAGES)
    assert {url: v for url, v in found.items() if v} == {}


def test_the_yes_for_sensitive_data_is_given_in_the_browser_and_passes_at_both_widths(
    client: TestClient, database: Database, live_server: str, browser: Any, axe_script: Path
) -> None:
    """The choices page's own yes per sensitive kind of data: chosen with the keyboard-usable
    radio buttons under the real Content-Security-Policy, then checked by axe in both
    languages on a desktop and a phone, with the yes given and an excluded kind of data."""
    anna = f.member(client, f.founded(client, database))
    page = browser.new_page()
    log_in(page, live_server, anna.email)
    page.goto(f"{live_server}/me/choices?lang=en")
    page.get_by_role("group", name="Genetic and genomic data (sensitive)").get_by_label(
        "Yes, the cooperative may use it"
    ).check()
    page.get_by_role("group", name="Biobanks (sensitive)").get_by_label("Yes, the cooperative may use it").check()
    page.get_by_role("checkbox", name="Biobanks (sensitive)").check()  # and never share it: the page says so
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").wait_for()
    api = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()
    assert api["sensitive_yes"] == ["genetic", "biobanks"] and api["excluded_categories"] == ["biobanks"]
    checked = browser.new_context(bypass_csp=True).new_page()
    log_in(checked, live_server, anna.email)
    found: dict[str, list[str]] = {}
    for width in (1280, 390):
        checked.set_viewport_size({"width": width, "height": 900})
        for lang in ("nl", "en"):
            checked.goto(f"{live_server}/me/choices?lang={lang}")
            found[f"{lang} {width}"] = _violations(checked, axe_script)
    assert {k: v for k, v in found.items() if v} == {}


@PAGES_ONLY
def test_the_pages_of_four_eyes_pass_wcag_21_aa_in_both_languages_on_desktop_and_phone(
    client: TestClient, database: Database, live_server: str, browser: Any, axe_script: Path, clock: Clock
) -> None:
    """A draft and a report waiting for the second board member, as that board member sees
    them (with the buttons to approve and decline), and the confirmations."""
    board, _people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=50_000)
    clock.moment = f.AFTER
    pages = f.four_eyes_pages(client, database, board)
    found: dict[str, list[str]] = {}
    for width in (1280, 390):
        chair = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900}).new_page()
        log_in(chair, live_server, f.BOARD_EMAIL)
        chair.wait_for_url(lambda url: "/login" not in url)
        for lang in ("nl", "en"):
            for url in pages:
                response = chair.goto(f"{live_server}{url}?lang={lang}")
                assert response is not None and response.ok, url
                found[f"{url} ({lang}, {width}px)"] = _violations(chair, axe_script)
        chair.close()
    assert len(found) == 2 * 2 * len(pages)
    assert {url: v for url, v in found.items() if v} == {}
