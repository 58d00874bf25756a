"""The board's page of one permit: what it allows, its groups, usage and results, and the
forms to register a result, extend it once and revoke it (ticking that it is sure). Refusals
are said on the page and change nothing; members and the HDAB's key do not get the page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from coop.db import Database
from coop.i18n import HOME_ZONE
from coop.types import utcnow
from tests import factories as f


def _local(moment: datetime) -> str:
    return moment.astimezone(HOME_ZONE).strftime("%Y-%m-%dT%H:%M")


def test_the_board_registers_a_result_extends_and_revokes_a_permit_on_its_page(
    client: TestClient, database: Database
) -> None:
    hdab, permit, people = f.registered(client, database, members=2, manifest=True)
    f.portal_login(client, f.BOARD_EMAIL)
    listing = client.get("/board/permits")
    assert f'href="/board/permits/{permit["id"]}"' in listing.text
    url = f"/board/permits/{permit['id']}"
    page = client.get(url)
    assert page.status_code == 200 and permit["permit_number"] in page.text
    assert "Groep 1: 2 leden" in page.text and "SPE Nederland" in page.text

    soon = utcnow() + timedelta(minutes=2)  # the form says minutes; the permit was approved this minute
    result = {"kind": "dataset", "title": "Open cijfers", "url": "https://example.org/cijfers"}
    done = client.post(
        f"{url}/results",
        data={"csrf": f.csrf(page.text), **result, "published_at": _local(soon), "open_access": "on"},
        follow_redirects=False,
    )
    assert done.headers["location"] == f"{url}?saved=1"
    assert 'Dataset: <a href="https://example.org/cijfers">Open cijfers</a>' in client.get(url).text
    used = client.get(f"/api/v1/members/{people[0].id}/data-use", headers=people[0].headers).json()
    assert [(r["title"], r["open_access"]) for r in used[0]["results"]] == [("Open cijfers", True)]
    bad = client.post(
        f"{url}/results",
        data={"csrf": f.csrf(page.text), **result, "url": "ftp://x", "published_at": _local(soon)},
        follow_redirects=False,
    )
    assert bad.headers["location"] == f"{url}?error=invalid-result"
    assert "webadres of DOI nodig" in client.get(bad.headers["location"]).text

    new_end = utcnow() + timedelta(days=5 * 365)
    extend = {"csrf": f.csrf(page.text), "valid_until": _local(new_end)}
    assert client.post(f"{url}/extend", data=extend, follow_redirects=False).headers["location"] == f"{url}?saved=1"
    again = {**extend, "valid_until": _local(new_end + timedelta(days=1))}
    refused = client.post(f"{url}/extend", data=again, follow_redirects=False)
    assert refused.headers["location"] == f"{url}?error=already-extended"
    shown = client.get(f"/api/v1/permits/{permit['id']}", headers=hdab).json()
    assert shown["extended_until"] is not None

    unsure = client.post(
        f"{url}/revoke", data={"csrf": f.csrf(page.text), "reason": "misbruik"}, follow_redirects=False
    )
    assert unsure.headers["location"] == f"{url}?error=not-confirmed"
    assert client.get(f"/api/v1/permits/{permit['id']}", headers=hdab).json()["status"] != "revoked"
    sure = client.post(
        f"{url}/revoke", data={"csrf": f.csrf(page.text), "reason": "misbruik", "sure": "yes"}, follow_redirects=False
    )
    assert sure.headers["location"] == f"{url}?saved=1"
    assert client.get(f"/api/v1/permits/{permit['id']}", headers=hdab).json()["status"] == "revoked"
    assert "Trek de vergunning in" not in client.get(url).text, "nothing left to revoke or extend"


def test_a_member_does_not_get_a_permits_page(client: TestClient, database: Database) -> None:
    _hdab, permit, people = f.registered(client, database, members=1)
    f.portal_login(client, people[0].email)
    assert client.get(f"/board/permits/{permit['id']}").status_code == 403
    me = client.get("/me")
    r = client.post(
        f"/board/permits/{permit['id']}/revoke", data={"csrf": f.csrf(me.text), "reason": "x", "sure": "yes"}
    )
    assert r.status_code == 403


def _registration(page: str, **changes: object) -> dict[str, object]:
    now = utcnow()
    return {
        "csrf": f.csrf(page),
        "permit_number": "NL-HDAB-2026-0777",
        "applicant": "Erasmus MC",
        "user_type": "academic",
        "purposes": ["research"],
        "categories": ["ehr", "claims"],
        "authorised_persons": "Dr. A. Onderzoeker\nDr. B. Analist",
        "data_holders": "SPE Nederland",
        "conditions": "Resultaten open publiceren.",
        "approved_at": _local(now - timedelta(days=1)),
        "valid_from": _local(now - timedelta(days=1)),
        "valid_until": _local(now + timedelta(days=365)),
        "fee": "12.500,00".replace(".", ""),
        "benefit_share_pct": "10",
        **changes,
    }


def test_the_board_registers_a_permit_in_the_portal_and_wrong_fields_are_said_beside_them(
    client: TestClient, database: Database
) -> None:
    board = f.founded(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    assert 'href="/board/permits/new"' in client.get("/board/permits").text
    page = client.get("/board/permits/new").text
    wrong = _registration(page, permit_number="met spaties", purposes=[], fee="1.234,56", valid_until="morgen")
    refused = client.post("/board/permits/new", data=wrong)
    assert refused.status_code == 422
    for field, words in [
        ("permit_number", "alleen letters, cijfers"),
        ("purposes", "Vink minstens één doel aan."),
        ("fee", "Schrijf een bedrag in euro"),
        ("valid_until", "Vul in tot wanneer de vergunning geldt."),
    ]:
        assert re.search(rf'<span class="field-error" id="{field}-error">[^<]*{re.escape(words)}', refused.text), field
    assert 'value="Erasmus MC"' in refused.text and "Dr. B. Analist" in refused.text, "what was typed stays"
    assert client.get("/api/v1/permits", headers=board).json() == []

    public = client.post("/board/permits/new", data=_registration(page, purposes=["policy"]))
    assert public.status_code == 422 and "alleen voor de publieke sector" in public.text

    right = _registration(page)
    done = client.post("/board/permits/new", data=right, follow_redirects=False)
    assert done.status_code == 303
    [permit] = client.get("/api/v1/permits", headers=board).json()
    assert done.headers["location"] == f"/board/permits/{permit['id']}?saved=1"
    assert permit["authorised_persons"] == ["Dr. A. Onderzoeker", "Dr. B. Analist"]
    assert permit["fee_cents"] == 1_250_000 and permit["categories"] == ["ehr", "claims"]
    again = client.post("/board/permits/new", data=right, follow_redirects=False)
    assert again.status_code == 303, again.text
    assert again.headers["location"] == done.headers["location"], "the same permit again is the same permit"
    other = client.post("/board/permits/new", data={**right, "applicant": "Iemand anders"})
    assert other.status_code == 409 and "met een andere inhoud" in other.text
