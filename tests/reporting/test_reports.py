"""The annual benefit report, member statements and the public transparency page: the PDFs
read back carry the API's figures to the cent, the same figures give the same bytes, a
published report's hash is in the ledger of record, and nobody sees what they should not."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from coop.auth.policy import CLI_ACTOR
from coop.cli import app
from coop.db import Database
from coop.settings import Settings
from coop.types import utcnow
from reports.texts import euros
from tests import factories as f
from tests import pdfs
from tests.conftest import Clock

runner = CliRunner()


def _year_with_everything(
    client: TestClient, database: Database, clock: Clock
) -> tuple[dict, list[f.MemberHandle], int, dict]:
    """f.YEAR with members, a permit, its money, a result and its distribution; the grant
    the distribution made possible is paid in f.NEXT, once f.YEAR has ended."""
    board, people, permit_id = f.cooperative(client, database)
    hdab = f.api_key(database, "hdab")
    client.patch(f"/api/v1/members/{people[2].id}/choices", json={"donate_dividend": True}, headers=people[2].headers)
    f.money(client, board, permit_id, income=100_000, expense=10_000)
    clock.moment = f.AFTER
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board).json()
    assert f.commit(client, database, board, d["id"]).status_code == 200
    grant = {
        "id": "g-1",
        "paid_on": f"{f.NEXT}-01-02",
        "amount_cents": 20_000,
        "recipient": "Stichting Hart",
        "purpose": "patient education",
    }
    assert client.post("/api/v1/solidarity/grants", json=grant, headers=board).status_code == 201
    result = {
        "kind": "publication",
        "title": "Heart failure outcomes",
        "url": "https://example.org/paper",
        "published_at": utcnow().isoformat(),  # after the permit's approval, in the year
        "open_access": True,
    }
    assert client.post(f"/api/v1/permits/{permit_id}/results", json=result, headers=hdab).status_code == 201
    client.get("/api/v1/ledger/tree-head")  # signs a head for the integrity statement
    return board, people, permit_id, d


def test_the_annual_report_carries_the_apis_figures(client: TestClient, database: Database, clock: Clock) -> None:
    board, _, permit_id, d = _year_with_everything(client, database, clock)
    figures = client.get(f"/api/v1/reports/annual/{f.YEAR}", headers=board)
    assert figures.status_code == 200, figures.text
    body = figures.json()
    assert (body["income_cents"], body["expenses_cents"], body["net_income_cents"]) == (100_000, 10_000, 90_000)
    split = body["split"]
    assert (split["reserve_cents"], split["solidarity_cents"], split["members_pool_cents"]) == (
        d["reserve_cents"],
        d["solidarity_cents"],
        d["members_pool_cents"],
    )
    assert split["donated_cents"] == d["donated_cents"] == 15_000
    assert body["grants_cents"] == 0  # the grant is paid in f.NEXT, from the fund f.YEAR's distribution filled
    later = client.get(f"/api/v1/reports/annual/{f.NEXT}", headers=board).json()
    assert later["grants_cents"] == 20_000 and later["grants"][0]["recipient"] == "Stichting Hart"
    assert body["revenue_by_user_type"]["academic"] == 100_000 and sum(body["revenue_by_purpose"].values()) == 100_000
    assert [p["revenue_cents"] for p in body["permits"] if p["id"] == permit_id] == [100_000]
    assert body["results"][0]["title"] == "Heart failure outcomes"
    assert body["members"] == "<10"  # three members: a small count is never shown
    assert sum(1 for _, _, n in body["dividend_bins"] if n == "<10") == 1
    pdf = client.get(f"/api/v1/reports/annual/{f.YEAR}.pdf", params={"lang": "en"}, headers=board)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdfs.text(pdf.content)
    for section in (
        "Summary",
        "Revenue by permit, user type and purpose",
        "Split over reserve, solidarity fund and members",
        "Members' dividends",
        "Grants from the solidarity fund",
        "Permit register",
        "Results returned to society",
        "Members' choices",
        "Members' decisions",
        "Integrity statement",
    ):
        assert section in text, section
    for cents in (100_000, 10_000, 90_000, split["reserve_cents"], split["solidarity_cents"], 15_000):
        assert euros(cents, "en") in text, cents
    assert "NL-HDAB-2026-0042" in text and "Heart failure outcomes" in text
    next_year = pdfs.text(
        client.get(f"/api/v1/reports/annual/{f.NEXT}.pdf", params={"lang": "en"}, headers=board).content
    )
    assert "Stichting Hart" in next_year and euros(20_000, "en") in next_year
    head = client.get("/api/v1/ledger/tree-head").json()
    assert head["root_hash"] in text.replace(" ", "")
    dutch = pdfs.text(client.get(f"/api/v1/reports/annual/{f.YEAR}.pdf", headers=board).content)
    assert "alleen voor de overheid" in dutch and "public sector only" in text  # the choices' heat map
    assert "Samenvatting" in dutch and euros(90_000, "nl") in dutch and "Verklaring van integriteit" in dutch
    pdfs.render_png(pdf.content, f"annual-report-{f.YEAR}-en")


def test_the_same_figures_give_the_same_bytes_and_publishing_records_the_hash(
    client: TestClient, database: Database, clock: Clock
) -> None:
    board, _, permit_id, _ = _year_with_everything(client, database, clock)
    published = f.publish(client, database, board, f.YEAR, ["en"])
    assert published.status_code == 200, published.text
    (record,) = published.json()["published"]
    again = client.get(
        f"/api/v1/reports/annual/{f.YEAR}.pdf", params={"lang": "en", "tree_size": record["tree_size"]}, headers=board
    ).content
    assert hashlib.sha256(again).hexdigest() == record["sha256"]  # anyone with the figures can rebuild it
    twice = client.get(
        f"/api/v1/reports/annual/{f.YEAR}.pdf", params={"lang": "en", "tree_size": record["tree_size"]}, headers=board
    ).content
    assert twice == again
    events = client.get(
        "/api/v1/ledger/events", params={"after_seq": record["ledger_seq"] - 1, "limit": 1}, headers=board
    )
    event = events.json()["items"][0]
    assert event["type"] == "report.published" and event["payload"]["sha256"] == record["sha256"]
    asker, approver = event["payload"]["requested_by"], event["payload"]["approved_by"]
    assert asker.startswith("user:") and approver.startswith("user:") and asker != approver == event["actor"]
    (repeat,) = f.publish(client, database, board, f.YEAR, ["en"]).json()["published"]
    assert repeat["ledger_seq"] == record["ledger_seq"]  # unchanged figures are published once
    late = {"id": "exp-late", "paid_on": f"{f.YEAR}-12-30", "amount_cents": 1_000, "description": "late invoice"}
    closed = client.post("/api/v1/expenses", json=late, headers=board)  # f.YEAR is distributed: its books are closed
    assert closed.status_code == 409 and closed.json()["code"] == "period-closed"
    result = {"kind": "publication", "title": "A late paper", "url": "https://example.org/late"}
    result |= {"published_at": utcnow().isoformat(), "open_access": True}
    hdab = f.api_key(database, "hdab")
    assert client.post(f"/api/v1/permits/{permit_id}/results", json=result, headers=hdab).status_code == 201
    client.get("/api/v1/ledger/tree-head")
    (changed,) = f.publish(client, database, board, f.YEAR, ["en"]).json()["published"]
    assert changed["ledger_seq"] > record["ledger_seq"] and changed["sha256"] != record["sha256"]
    missing = client.get(f"/api/v1/reports/annual/{f.YEAR}.pdf", params={"tree_size": 999_999}, headers=board)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_the_annual_report_is_for_the_board(client: TestClient, database: Database, clock: Clock) -> None:
    _, people, *_ = _year_with_everything(client, database, clock)
    for headers in (people[0].headers, f.api_key(database, "auditor"), f.api_key(database, "hdab")):
        assert client.get(f"/api/v1/reports/annual/{f.YEAR}.pdf", headers=headers).status_code == 403
    assert client.get(f"/api/v1/reports/annual/{f.YEAR}").status_code == 401


def test_a_member_statement_in_the_members_language(client: TestClient, database: Database, clock: Clock) -> None:
    _, people, _, _ = _year_with_everything(client, database, clock)
    mine = client.get(f"/api/v1/members/{people[0].id}/statement/{f.YEAR}.pdf", headers=people[0].headers)
    assert mine.status_code == 200 and mine.headers["content-type"] == "application/pdf"
    dividends = client.get(f"/api/v1/members/{people[0].id}/dividends", headers=people[0].headers).json()
    text = pdfs.text(mine.content)
    assert f"Uw overzicht {f.YEAR}" in text and people[0].number in text
    assert euros(dividends["distributions"][0]["total_cents"], "nl") in text
    assert "NL-HDAB-2026-0042" in text and "Heart failure outcomes" in text
    donor = pdfs.text(
        client.get(f"/api/v1/members/{people[2].id}/statement/{f.YEAR}.pdf", headers=people[2].headers).content
    )
    assert "U schonk dit bedrag aan het solidariteitsfonds" in donor
    other = client.get(f"/api/v1/members/{people[1].id}/statement/{f.YEAR}.pdf", headers=people[0].headers)
    assert other.status_code == 404
    pdfs.render_png(mine.content, f"member-statement-{f.YEAR}-nl")


def test_the_public_page_shows_flows_and_never_a_member(client: TestClient, database: Database, clock: Clock) -> None:
    _, people, _, d = _year_with_everything(client, database, clock)
    page = client.get("/api/v1/public/transparency")
    assert page.status_code == 200
    body = page.json()
    (flow,) = [x for x in body["benefit_flows"] if x["year"] == f.YEAR]
    assert flow["income_cents"] == 100_000 and flow["members_cents"] == d["members_pool_cents"]
    (later,) = [x for x in body["benefit_flows"] if x["year"] == f.NEXT]
    assert later["grants_cents"] == 20_000 and body["permits"][0]["results"][0]["title"] == "Heart failure outcomes"
    assert body["members"] == "<10" and body["tree_head"]["tree_size"] >= 1
    cell = body["choices"]["research"]["academic"]
    assert cell["allow_pct"] is None and not cell["forbidden"]  # too few members to show a share
    reserved = body["choices"]["statistics"]["academic"]  # the law decides: no share, whatever is stored
    assert reserved["forbidden"] and reserved["allow_pct"] is None and reserved["allow"] == 0
    assert not body["choices"]["statistics"]["public"]["forbidden"]
    for person in people:
        assert person.email not in page.text and person.number not in page.text
    html = client.get("/api/v1/public/transparency.html", params={"lang": "en"})
    assert html.status_code == 200 and "NL-HDAB-2026-0042" in html.text and "Where the money went" in html.text
    assert euros(100_000, "en") in html.text and "public sector only" in html.text


def test_the_command_line_writes_the_same_report_and_publishes_it(
    client: TestClient, database: Database, cli_env: Settings, tmp_path: Path, clock: Clock
) -> None:
    board, *_ = _year_with_everything(client, database, clock)
    clock.moment = None  # the command line reads the real clock; so does the API from here
    target = tmp_path / "report.pdf"
    r = runner.invoke(app, ["report", "annual", str(f.YEAR), "-o", str(target), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert target.read_bytes() == client.get(f"/api/v1/reports/annual/{f.YEAR}.pdf?lang=en", headers=board).content
    alone = runner.invoke(app, ["report", "publish", str(f.YEAR), "--lang", "en", "--asked-by", f.BOARD_EMAIL])
    assert alone.exit_code == 1 and "two board users" in alone.output
    f.second_board(client, database)
    four_eyes = ["--asked-by", f.BOARD_EMAIL, "--approved-by", f.SECOND_BOARD_EMAIL]
    published = runner.invoke(app, ["report", "publish", str(f.YEAR), "--lang", "en", *four_eyes])
    assert published.exit_code == 0, published.output
    assert hashlib.sha256(target.read_bytes()).hexdigest() in published.output
    assert runner.invoke(app, ["report", "annual", str(f.YEAR), "-o", str(target), "--lang", "de"]).exit_code == 2
    missing = runner.invoke(app, ["report", "annual", str(f.YEAR), "-o", str(target), "--tree-size", "99999"])
    assert missing.exit_code == 1 and "no signed tree head" in missing.output


def test_the_dividend_histogram_counts_members_once(database: Database) -> None:
    """Two distributions in one year credit the same 12 members: 12 members, each in the bin of
    what the year gave them together; the split's percentages are the policy's."""
    from datetime import date

    from coop.governance import service as governance
    from coop.money.models import Distribution, DistributionMember
    from coop.reporting import figures
    from coop.types import utcnow

    with database.unit_of_work() as s:
        governance.init_statutes(s, CLI_ACTOR, f.STATUTES, now=utcnow())  # 20/30/50
        for half, (start, end) in enumerate(
            [(date(2025, 1, 1), date(2025, 6, 30)), (date(2025, 7, 1), date(2025, 12, 31))]
        ):
            d = Distribution(
                period_start=start,
                period_end=end,
                policy_version=1,
                digest="0" * 64,
                net_income_cents=429_495,
                reserve_cents=85_899,
                solidarity_cents=128_848,
                members_pool_cents=214_748,
                unclaimed_cents=0,
                donated_cents=0,
                created_by="test",
                created_at=utcnow(),
                committed_at=utcnow(),
            )
            s.add(d)
            s.flush()
            s.add_all(
                DistributionMember(member_id=m, distribution_id=d.id, cents=600 + half, donated=False)
                for m in range(1, 13)
            )
    with database.unit_of_work(write=False) as s:
        annual = figures.annual(s, database.settings, 2025, utcnow())
    assert annual.members_credited == 10  # 12 members, published rounded to ten (not 24 -> 20)
    assert [n for low, high, n in annual.dividend_bins if low <= 1201 and (high is None or high > 1201)] == [10]
    assert annual.split.percentages == (20, 30, 50)
    from reports import annual as annual_pdf

    legend = pdfs.text(annual_pdf.render(annual, "en"))
    assert "20%" in legend and "30%" in legend and "50%" in legend and "19%" not in legend


def test_the_annual_report_keeps_its_layout(client: TestClient, database: Database) -> None:
    """Chart axes carry thousands separators, no text runs past its table or the page, and
    no page ends with a section heading."""
    import dataclasses
    from datetime import date

    from coop.i18n import translator
    from coop.reporting import figures
    from reports import annual as annual_pdf
    from reports.inputs import DecisionLine

    board, _people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=4_321_000, expense=10_000)
    with database.unit_of_work(write=False) as s:
        annual = figures.annual(s, database.settings, f.YEAR, utcnow())
    votes = [
        DecisionLine(f"Revised benefit policy {i}", "benefit_policy", date(f.YEAR, 3, i + 1), "adopted", 9, 2, 1, 40)
        for i in range(12)
    ]
    annual = dataclasses.replace(annual, decisions=votes)
    for lang, thousands in (("nl", "40.000"), ("en", "40,000")):
        pdf = annual_pdf.render(annual, lang)
        text = pdfs.text(pdf)
        assert thousands in text and "40000" not in text, lang  # the revenue chart's axis
        assert pdfs.past_the_margin(pdf, annual_pdf.MARGIN) == [], lang
        t = translator(lang)
        headings = {t(key) for key in ("summary", "revenue_by_permit", "split", "dividends", "grants", "register")}
        headings |= {t(key) for key in ("returned", "overdue", "choices", "decisions", "integrity")}
        for number, lines in enumerate(pdfs.page_lines(pdf), start=1):
            footer = (t("annual_title", year=f.YEAR), t("page", n=number))
            last = [line for line in lines if not any(part in line for part in footer)][-1]
            assert last not in headings, (lang, number, last)
        pdfs.render_png(pdf, f"annual-report-layout-{lang}")


def test_the_year_and_its_distributions_agree(client: TestClient, database: Database) -> None:
    """A year distributed up to June: the cover's net income is what the distributions
    counted plus what is not distributed yet, in the JSON and in the PDF alike."""
    from datetime import date

    last = f.YEAR - 1  # a year that has ended
    f.statutes(database, now=utcnow().replace(year=last, month=1, day=1))
    board = f.board(client, database)
    hdab = f.api_key(database, "hdab")
    permit = client.post("/api/v1/permits", json=f.permit_body(approved_at=utcnow().isoformat()), headers=hdab).json()
    for key, day, cents in (("spring", f"{last}-03-01", 100_000), ("autumn", f"{last}-09-01", 50_000)):
        body = {"id": key, "received_on": day, "amount_cents": cents, "kind": "fee"}
        assert client.post(f"/api/v1/permits/{permit['id']}/payments", json=body, headers=board).status_code == 201
    cost = {"id": "hosting", "paid_on": f"{last}-04-01", "amount_cents": 10_000, "description": "hosting"}
    assert client.post("/api/v1/expenses", json=cost, headers=board).status_code == 201
    half = {"period_start": f"{last}-01-01", "period_end": f"{last}-06-30"}
    d = client.post("/api/v1/distributions", json=half, headers=board).json()
    assert f.commit(client, database, board, d["id"]).status_code == 200
    body = client.get(f"/api/v1/reports/annual/{last}", headers=board).json()
    assert (body["net_income_cents"], body["split"]["net_income_cents"], body["undistributed_cents"]) == (
        140_000,
        90_000,
        50_000,
    )
    assert body["split"]["periods"] == [[f"{last}-01-01", f"{last}-06-30"]]
    text = pdfs.text(client.get(f"/api/v1/reports/annual/{last}.pdf", params={"lang": "en"}, headers=board).content)
    for cents in (140_000, 90_000, 50_000):
        assert euros(cents, "en") in text, cents
    assert "Net income not yet distributed" in text and "Distributed for the period(s):" in text
    assert date(last, 6, 30).strftime("%-d %B %Y") in text
