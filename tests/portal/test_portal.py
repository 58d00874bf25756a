"""The portal through HTTP: log in with a cookie, every form needs its CSRF token, a member's
changes reach the API and the ledger of record, the board's pages are the board's, and a
member never sees another member's page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.conftest import Clock


def test_a_member_manages_choices_proxies_and_opt_out(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    f.portal_login(client, anna.email)
    overview = client.get("/me")
    assert overview.status_code == 200 and anna.number in overview.text
    assert "De coöperatie beslist voor u" in overview.text  # Dutch by default, in plain words
    choices = client.get("/me/choices")
    form = {"csrf": f.csrf(choices.text), "pref:research:commercial": "deny", "donate": "on"}
    saved = client.post("/me/choices", data=form, follow_redirects=False).headers["location"]
    assert saved.startswith("/me/choices?saved=1&receipt=")  # and offers the change's receipt
    api = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()
    assert {"purpose": "research", "user_type": "commercial", "decision": "deny"} in api["preferences"]
    assert api["donate_dividend"] is True
    proxies = client.get("/me/proxies")
    r = client.post(
        "/me/proxies",
        data={"csrf": f.csrf(proxies.text), "proxy": bram.number, "purposes": "research"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/me/proxies?saved=1"
    listed = client.get(f"/api/v1/members/{anna.id}/proxies", headers=anna.headers).json()
    assert listed[0]["proxy_member_id"] == bram.id
    opt = client.get("/me/opt-out")
    assert "artikel 71" in opt.text
    client.post("/me/opt-out", data={"csrf": f.csrf(opt.text), "choice": "out"})
    assert client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()["opt_out"] is True
    client.post("/me/opt-out", data={"csrf": f.csrf(opt.text), "choice": "in"})
    assert client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()["opt_out"] is False
    history = client.get("/me/history")
    assert history.status_code == 200 and history.text.count("<tr>") >= 5
    events = client.get("/api/v1/ledger/events", params={"limit": 1000}, headers=board).json()["items"]
    assert sum(e["type"] == "choices.changed" and e["subject"] == f"member:{anna.id}" for e in events) >= 4
    assert client.get("/board/members").status_code == 403  # a member never sees the board's pages
    assert "The cooperative decides for you" in client.get("/me?lang=en").text


def test_forms_without_their_csrf_token_change_nothing(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    client.get("/me/choices")
    r = client.post("/me/opt-out", data={"choice": "out"})
    assert r.status_code == 422  # the token is a required field
    forged = client.post("/me/opt-out", data={"csrf": "0" * 64, "choice": "out"})
    assert forged.status_code == 403 and "text/html" in forged.headers["content-type"]
    assert client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()["opt_out"] is False


def test_pages_need_a_login(client: TestClient, database: Database) -> None:
    r = client.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    page = client.get("/login")
    bad = client.post(
        "/login", data={"csrf": f.csrf(page.text), "email": "x@coop-test.nl", "password": "wrong password!"}
    )
    assert bad.status_code == 401 and "klopt niet" in bad.text


def test_the_board_admits_a_member_and_commits_a_distribution(
    client: TestClient, database: Database, clock: Clock
) -> None:
    board, people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=100_000)
    with database.unit_of_work(write=False) as s:
        from sqlalchemy import select

        from coop.auth.models import UserAccount

        email = s.execute(select(UserAccount.email).where(UserAccount.role == "board")).scalar_one()
    f.portal_login(client, email)
    members = client.get("/board/members")
    r = client.post(
        "/board/members",
        data={"csrf": f.csrf(members.text), "name": "Dirk Dekker", "email": "dirk@coop-test.nl", "language": "nl"},
    )
    assert r.status_code == 200 and "/invitation?token=" in r.text
    token = re.search(r"invitation\?token=([A-Za-z0-9_\-]+)", r.text)
    assert token
    found = client.get("/api/v1/members", params={"q": "Dirk"}, headers=board).json()
    assert found["total"] == 1
    clock.moment = f.AFTER
    page = client.get("/board/distributions")
    for name, day in f.PERIOD.items():  # the period suggested is the year the books hold, now it has ended
        assert f'name="{name}" type="date" value="{day}"' in page.text
    client.post("/board/distributions", data={"csrf": f.csrf(page.text), **f.PERIOD})
    page = client.get("/board/distributions")
    draft_id = re.search(r"/board/distributions/(\d+)\"", page.text)
    assert draft_id, page.text
    review = client.get(f"/board/distributions/{draft_id.group(1)}")
    assert "twee bestuursleden" in review.text and '/commit"' not in review.text  # no commit by one board member
    asked = client.post(f"/board/distributions/{draft_id.group(1)}/commit-requests", data={"csrf": f.csrf(review.text)})
    assert asked.status_code == 200 and "wacht op goedkeuring door een tweede bestuurslid" in asked.text
    (request,) = client.get("/api/v1/approvals", headers=board).json()
    confirm = client.get(f"/board/approvals/{request['id']}")
    assert "U heeft dit zelf gevraagd" in confirm.text and "/approve" not in confirm.text
    own = client.post(f"/board/approvals/{request['id']}/approve", data={"csrf": f.csrf(confirm.text)})
    assert "Een tweede bestuurslid moet het goedkeuren" in own.text  # refused, in Dutch, back on the draft
    assert client.get(f"/api/v1/distributions/{draft_id.group(1)}", headers=board).json()["status"] == "draft"
    client.post("/logout", data={"csrf": f.csrf(own.text)})
    f.second_board(client, database)
    f.portal_login(client, f.SECOND_BOARD_EMAIL)
    confirm = client.get(f"/board/approvals/{request['id']}")
    assert "Als u goedkeurt, wordt het geld nu geboekt" in confirm.text
    approved = client.post(f"/board/approvals/{request['id']}/approve", data={"csrf": f.csrf(confirm.text)})
    assert approved.status_code == 200 and "goedgekeurd door treasurer@coop-test.nl" in approved.text
    board = f.board(client, database)  # logging out ended the first board member's earlier login tokens too
    committed = client.get(f"/api/v1/distributions/{draft_id.group(1)}", headers=board).json()
    assert committed["status"] == "committed"
    permits = client.get("/board/permits")
    assert permits.status_code == 200 and "NL-HDAB-2026-0042" in permits.text
    reports = client.get("/board/reports")
    assert reports.status_code == 200 and "PDF (English)" in reports.text
    # the member then sees the dividend
    client.post("/logout", data={"csrf": f.csrf(reports.text)})
    f.portal_login(client, people[0].email)
    assert "€" in client.get("/me/dividends").text and client.get("/me/data-use").status_code == 200


def test_a_member_votes_and_sees_only_their_own_pages(client: TestClient, database: Database) -> None:

    board = f.founded(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    proposal = f.propose(client, board)
    f.portal_login(client, bram.email)
    me = client.get("/me").text
    assert bram.number in me and anna.number not in me  # the pages know only who is logged in
    votes = client.get("/me/votes")
    assert proposal["title"] in votes.text
    r = client.post(
        f"/me/votes/{proposal['id']}", data={"csrf": f.csrf(votes.text), "vote": "yes"}, follow_redirects=False
    )
    assert r.headers["location"] == "/me/votes?saved=1"
    changed = client.post(
        f"/me/votes/{proposal['id']}", data={"csrf": f.csrf(votes.text), "vote": "no"}, follow_redirects=False
    )
    assert changed.headers["location"] == "/me/votes?saved=1"  # changing a vote while open
    seen = client.get(f"/api/v1/governance/proposals/{proposal['id']}", headers=bram.headers).json()
    assert seen["my_vote"] == "no"
    assert client.get("/me/statement/2026.pdf").headers["content-type"] == "application/pdf"


def test_an_invitation_accepted_in_the_portal_gives_a_login(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    admitted = f.admit(client, board, name="Eva Smit", language="en")
    page = client.get("/invitation", params={"token": admitted["invitation_token"]})
    assert page.status_code == 200
    done = client.post(
        "/invitation",
        data={"csrf": f.csrf(page.text), "token": admitted["invitation_token"], "password": "a long new password"},
    )
    assert done.status_code == 200 and 'role="status"' in done.text
    again = client.post(
        "/invitation",
        data={"csrf": f.csrf(page.text), "token": admitted["invitation_token"], "password": "a long new password"},
    )
    assert again.status_code == 410  # used once
    assert "Deze uitnodiging is al gebruikt. U kunt inloggen." in again.text  # said in the portal's own words
    f.portal_login(client, admitted["member"]["email"], "a long new password")
    assert "Hello Eva Smit" in client.get("/me").text  # in the member's own language


def test_every_field_has_a_label_and_every_page_a_language_and_one_heading(
    client: TestClient, database: Database
) -> None:
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: set[str] = set()
            self.labelled: set[str] = set()
            self.inputs: list[dict[str, str | None]] = []
            self.in_label = 0
            self.h1 = 0
            self.lang: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "html":
                self.lang = a.get("lang")
            if tag == "h1":
                self.h1 += 1
            if tag == "label":
                self.in_label += 1
                if a.get("for"):
                    self.labelled.add(str(a["for"]))
            if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
                self.inputs.append({**a, "wrapped": "yes" if self.in_label else None})

        def handle_endtag(self, tag: str) -> None:
            if tag == "label":
                self.in_label -= 1

    _board, people, _permit = f.cooperative(client, database)
    pages = f.MEMBER_PAGES
    f.portal_login(client, people[0].email)
    checked = 0
    for url in pages:
        html = client.get(url).text
        parser = Fields()
        parser.feed(html)
        assert parser.lang in ("nl", "en") and parser.h1 == 1, url
        for field in parser.inputs:
            assert field["wrapped"] or field.get("id") in parser.labelled, (url, field)
            checked += 1
    client.post("/logout", data={"csrf": f.csrf(client.get("/me").text)})
    f.portal_login(client, f.BOARD_EMAIL)
    for url in f.BOARD_PAGES:
        parser = Fields()
        parser.feed(client.get(url).text)
        assert parser.lang in ("nl", "en") and parser.h1 == 1, url
        for field in parser.inputs:
            assert field["wrapped"] or field.get("id") in parser.labelled, (url, field)
            checked += 1
    assert checked > 40


def test_a_refused_change_is_explained_on_the_page(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    page = client.get("/me/proxies")
    r = client.post("/me/proxies", data={"csrf": f.csrf(page.text), "proxy": anna.number})
    assert r.status_code == 200 and "U kunt uzelf niet als gevolmachtigde kiezen." in r.text  # refused, and said so
    assert client.get(f"/api/v1/members/{anna.id}/proxies", headers=anna.headers).json() == []


def test_the_board_pages_through_members(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    for i in range(52):
        f.admit(client, board, name=f"Lid {i:02d}")
    f.portal_login(client, f.BOARD_EMAIL)
    first = client.get("/board/members").text
    assert "Pagina 1 van 2 (52 leden)" in first and "Lid 00" in first and "Lid 51" not in first
    second = client.get("/board/members", params={"page": 2}).text
    assert "Pagina 2 van 2" in second and "Lid 51" in second and "Lid 00" not in second


def test_out_of_range_ids_and_years_are_refused_not_crashed_on(client: TestClient, database: Database) -> None:
    f.board(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    csrf = f.csrf(client.get("/board/members").text)
    for url in ("/board/distributions/99999999999", "/board/reports/0.pdf", "/board/approvals/99999999999"):
        assert client.get(url).status_code == 422, url
    for url in (
        "/board/proposals/99999999999/close",
        "/board/distributions/99999999999/commit-requests",
        "/board/reports/99999/publish-requests",
        "/board/approvals/99999999999/approve",
        "/board/approvals/99999999999/decline",
        "/board/approvals/99999999999/withdraw",
    ):
        r = client.post(url, data={"csrf": csrf})
        assert r.status_code == 422 and "text/html" in r.headers["content-type"], url


def test_an_error_link_shows_only_what_the_cooperative_wrote(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    anna = f.member(client, board)
    crafted = {"error": "Uw account is geblokkeerd. Bel 0900-1234 en geef uw wachtwoord."}
    for url in ("/login", "/invitation"):
        page = client.get(url, params=crafted)
        assert "geblokkeerd" not in page.text and 'role="alert"' not in page.text, url
    f.portal_login(client, anna.email)
    for url in ("/me", "/me/proxies"):
        page = client.get(url, params=crafted)
        assert "geblokkeerd" not in page.text and 'role="alert"' not in page.text, url
    assert 'role="alert"' not in client.get("/me/proxies", params={"error": "no-such-code"}).text
    page = client.get("/me/proxies")
    r = client.post("/me/proxies", data={"csrf": f.csrf(page.text), "proxy": anna.number}, follow_redirects=False)
    assert r.headers["location"] == "/me/proxies?error=proxy-self"  # a code, never text
    r = client.post(
        "/me/proxies", data={"csrf": f.csrf(page.text), "proxy": "M-99999999999999"}, follow_redirects=False
    )
    assert r.headers["location"] == "/me/proxies?error=not-a-member-number"
    assert "Dit is geen lidnummer." in client.get(r.headers["location"]).text
    english = client.get("/me/proxies", params={"error": "proxy-self", "lang": "en"}).text
    assert '<p class="error" role="alert">That did not work: You cannot be your own proxy.</p>' in english


def test_every_refusal_the_portal_explains_is_in_dutch_and_english() -> None:
    from coop.i18n import translator
    from coop.portal import web
    from coop.portal.texts import REFUSALS

    assert REFUSALS and all(translator(lang)(key) for key in REFUSALS.values() for lang in ("nl", "en"))
    assert web.refusal_code("proxy-self") == "proxy-self"
    assert web.refusal_code("a-code-the-portal-does-not-know") == "failed"  # said generally, never in raw words
    assert web.refusal_text("a-code-the-portal-does-not-know", "nl") is None


def test_a_link_cannot_make_the_reports_page_say_what_was_published(client: TestClient, database: Database) -> None:
    f.board(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    for text in ("Het verslag is ingetrokken", "ab" * 32):
        crafted = client.get("/board/reports", params={"sha256": text})
        assert text not in crafted.text and 'role="status"' not in crafted.text


def test_pages_need_no_inline_script_or_style() -> None:
    """The Content-Security-Policy allows no script and styles from this site only; the one
    page with a script, the receipt check, loads it as a file from this site."""
    from pathlib import Path

    templates = sorted((Path(__file__).resolve().parents[2] / "coop" / "templates").rglob("*.html"))
    assert len(templates) > 10
    scripted = {"receipt_check.html": '<script src="/static/receipt-check.js" defer></script>'}
    for template in templates:
        html = template.read_text()
        if template.name in scripted:
            assert scripted[template.name] in html
            html = html.replace(scripted[template.name], "")
        assert not re.search(r"<script|<style|\sstyle\s*=|\son[a-z]+\s*=|javascript:", html, re.I), template.name


def test_opting_out_says_the_law_may_make_exceptions(client: TestClient, database: Database) -> None:
    """Art. 71(4): national law may let public bodies use the data of members who opted out."""
    board = f.board(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    assert "artikel 71, lid 4" in client.get("/me/opt-out").text
    assert "Article 71(4)" in client.get("/me/opt-out?lang=en").text
    opt = client.get("/me/opt-out")
    client.post("/me/opt-out", data={"csrf": f.csrf(opt.text), "choice": "out"})
    assert "behalve als de wet een uitzondering maakt" in client.get("/me?lang=nl").text


def test_the_board_sees_a_proposal_that_has_not_opened_yet_as_scheduled(client: TestClient, database: Database) -> None:
    """The portal says what the API says: a proposal whose window lies ahead is scheduled, not open."""
    from datetime import timedelta

    from coop.types import utcnow

    board = f.founded(client, database)
    later = utcnow() + timedelta(days=1)
    proposal = f.propose(client, board, opens_at=later.isoformat(), closes_at=(later + timedelta(hours=1)).isoformat())
    assert client.get(f"/api/v1/governance/proposals/{proposal['id']}", headers=board).json()["status"] == "scheduled"
    f.portal_login(client, f.BOARD_EMAIL)
    row = re.search(rf"<tr><td>{proposal['id']}</td>.*?</tr>", client.get("/board/proposals?lang=en").text, re.S)
    assert row and "scheduled" in row.group(0) and ">open<" not in row.group(0)


def test_the_overview_while_opted_out_says_no_on_every_line(client: TestClient, database: Database) -> None:
    """Opted out, nothing goes to new permits: no line may still say yes, or that the
    cooperative or the member decides."""

    board = f.founded(client, database)  # the founding mandate allows some uses
    anna = f.member(client, board)
    preferences = [{"purpose": "research", "user_type": "academic", "decision": "allow"}]
    url = f"/api/v1/members/{anna.id}/choices"
    etag = client.get(url, headers=anna.headers).headers["ETag"]
    r = client.patch(
        url, json={"opt_out": True, "preferences": preferences}, headers={**anna.headers, "If-Match": etag}
    )
    assert r.status_code == 200, r.text
    f.portal_login(client, anna.email)
    page = client.get("/me?lang=en").text
    lines = re.findall(r'<td class="kind-(\w+)">(.*?)</td>', page, re.S)
    assert lines
    assert "You say yes" not in page and "currently: yes" not in page and "The cooperative decides" not in page
    assert all(kind == "deny" for kind, _ in lines)
    assert all(text.startswith(("No: you have opted out", "Not for this user")) for _, text in lines)
