"""Admitting members in bulk from the membership administration's file: each row admitted or
refused on its own with its line and reason, the same file again admits nobody twice, a
file that cannot be read changes nothing, and a crowd sending the same file at once admits
each member once. Through the API, the command line and the board's page."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from coop.cli import app
from coop.db import Database
from coop.members.models import Invitation, Member
from coop.settings import Settings
from ledger import log
from tests import factories as f
from tests.concurrency.conftest import crowd, statuses

IMPORT = "/api/v1/members/import"

FILE = (
    "name,email,language,reference\n"
    "Anna de Vries,anna@example.nl,nl,LA-1\n"  # line 2
    "Ben Smit,ben@example.nl,en,LA-2\n"  # 3
    "Carla Jansen,not-an-email,nl,LA-3\n"  # 4: invalid-email
    "Dirk Bakker,dirk@example.nl,fr,LA-4\n"  # 5: unknown-language
    "Anna again,ANNA@example.nl,nl,LA-5\n"  # 6: duplicate-in-file (emails compare without case)
    ",empty@example.nl,nl,LA-6\n"  # 7: invalid-name
    "Eva Mulder,eva@example.nl,,\n"  # 8: default language, no reference
    "\n"
)


def _post(client: TestClient, headers: dict[str, str], body: bytes | str) -> httpx.Response:
    return client.post(IMPORT, content=body, headers={**headers, "Content-Type": "text/csv"})


def _count(database: Database, table: type) -> int:
    with database.unit_of_work(write=False) as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


def _events(database: Database, type_: str) -> int:
    with database.unit_of_work(write=False) as s:
        return sum(e.type == type_ for e in log.events_after(s, 0, 100_000))


def test_each_row_is_admitted_or_refused_with_its_line_and_reason(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    r = _post(client, board, FILE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"] == 7
    assert [a["line"] for a in body["admitted"]] == [2, 3, 8]
    assert [(x["line"], x["code"]) for x in body["refused"]] == [
        (4, "invalid-email"),
        (5, "unknown-language"),
        (6, "duplicate-in-file"),
        (7, "invalid-name"),
    ]
    assert all(x["reason"] for x in body["refused"]) and body["already_members"] == 0
    with database.unit_of_work(write=False) as s:
        members = {m.email: m for m in s.execute(select(Member)).scalars()}
    assert set(members) == {"anna@example.nl", "ben@example.nl", "eva@example.nl"}
    assert (members["anna@example.nl"].language, members["anna@example.nl"].external_ref) == ("nl", "LA-1")
    assert (members["ben@example.nl"].language, members["eva@example.nl"].language) == ("en", "nl")
    assert members["eva@example.nl"].external_ref is None
    numbers = {a["number"] for a in body["admitted"]}
    assert numbers == {m.number for m in members.values()}
    # each admission as one by one: an event, first choices, an invitation; no identity in the ledger
    assert _events(database, "member.admitted") == _events(database, "choices.started") == 3
    assert _events(database, "member.invited") == _count(database, Invitation) == 3
    with database.unit_of_work(write=False) as s:
        payloads = b"".join(e.payload.encode() for e in log.events_after(s, 0, 100_000))
    assert b"example.nl" not in payloads and b"LA-1" not in payloads and b"Anna" not in payloads


def test_the_same_file_again_admits_nobody_twice(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    first = _post(client, board, FILE).json()
    again = _post(client, board, FILE).json()
    assert again["admitted"] == []
    assert again["already_members"] == len(first["admitted"]) == 3
    assert Counter(x["code"] for x in again["refused"]) == Counter(
        {"member-exists": 3, "invalid-email": 1, "unknown-language": 1, "duplicate-in-file": 1, "invalid-name": 1}
    )
    assert _count(database, Member) == 3 and _events(database, "member.admitted") == 3
    # a known reference under a new address is the same member, not a new one
    moved = _post(client, board, "name,email,reference\nAnna de Vries,anna.new@example.nl,LA-1\n").json()
    assert [x["code"] for x in moved["refused"]] == ["reference-exists"] and _count(database, Member) == 3


def test_dutch_spreadsheets_are_read(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    dutch = "\ufeffNaam;E-mail;Taal;Lidnummer;Opmerking\r\nFemke Visser;femke@example.nl;NL;17;nieuw\r\n"
    body = _post(client, board, dutch.encode("utf-8")).json()
    assert [a["line"] for a in body["admitted"]] == [2] and body["refused"] == []
    with database.unit_of_work(write=False) as s:
        member = s.execute(select(Member)).scalar_one()
    assert (member.name, member.email, member.language, member.external_ref) == (
        "Femke Visser",
        "femke@example.nl",
        "nl",
        "17",
    )


def test_a_file_that_cannot_be_read_changes_nothing(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    for body, code in (
        ("naam,adres\nAnna,Dorpsstraat 1\n", "csv-columns"),
        ("", "csv-no-header"),
        ("name,email\nJos\xe9,jose@example.nl\n".encode("latin-1"), "csv-unreadable"),
    ):
        r = _post(client, board, body)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == code
    assert _count(database, Member) == 0 and _events(database, "member.admitted") == 0


def test_only_the_board_imports(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    member = f.member(client, board)
    hdab = f.api_key(database, "hdab")
    for headers in (member.headers, hdab, {}):
        assert _post(client, headers, FILE).status_code in (401, 403)
    assert _count(database, Member) == 1


def test_a_large_file_passes_the_body_limit_only_where_files_are_taken(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    padding = "x" * 150
    rows = "".join(f"Member {i} {padding},m{i}@example.nl,nl,R{i}\n" for i in range(6_000))  # > 1 MiB
    big = "name,email,language,reference\n" + rows
    assert len(big) > database.settings.auth.max_body_bytes
    r = _post(client, board, big)
    assert r.status_code == 200, r.text[:300]
    assert len(r.json()["admitted"]) == 6_000 and _count(database, Member) == 6_000
    too_big = client.post("/api/v1/members", content=big, headers={**board, "Content-Type": "application/json"})
    assert too_big.status_code == 413


def test_a_crowd_sending_the_same_file_admits_each_member_once(
    client: TestClient, database: Database, live_server: str
) -> None:
    board = f.board(client, database)
    rows = "".join(f"Member {i},crowd{i}@example.nl,nl,C{i}\n" for i in range(40))
    body = "name,email,language,reference\n" + rows

    def send(http: httpx.Client, _i: int) -> httpx.Response:
        return http.post(IMPORT, content=body, headers={**board, "Content-Type": "text/csv"})

    responses = crowd(live_server, send)
    assert set(statuses(responses)) == {200}
    reports = [r.json() for r in responses]
    assert sum(len(x["admitted"]) for x in reports) == 40
    assert all(len(x["admitted"]) + x["already_members"] == 40 for x in reports)
    assert _count(database, Member) == 40 and _events(database, "member.admitted") == 40


def test_the_command_line_imports_and_reports_refused_rows(
    cli_env: Settings, database: Database, tmp_path: Path
) -> None:
    runner = CliRunner()
    path = tmp_path / "members.csv"
    path.write_text(FILE, encoding="utf-8")
    r = runner.invoke(app, ["members", "import", str(path)])
    assert r.exit_code == 1, r.output  # some rows were refused for a reason other than being members
    assert "3 admitted, 4 refused" in r.output and "invalid-email" in r.output
    clean = tmp_path / "clean.csv"
    clean.write_text("name,email\nGijs Dekker,gijs@example.nl\n", encoding="utf-8")
    assert runner.invoke(app, ["members", "import", str(clean)]).exit_code == 0
    again = runner.invoke(app, ["members", "import", str(clean)])
    assert again.exit_code == 0 and "0 admitted, 1 refused (1 of them members already)" in again.output
    assert _count(database, Member) == 4
    bad = tmp_path / "bad.csv"
    bad.write_text("naam,adres\n", encoding="utf-8")
    refused = runner.invoke(app, ["members", "import", str(bad)])
    assert refused.exit_code == 1 and "name and email" in refused.output


def test_the_board_imports_a_file_in_the_portal(client: TestClient, database: Database) -> None:
    f.board(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/members")
    assert 'action="/board/members/import"' in page.text and 'enctype="multipart/form-data"' in page.text
    r = client.post(
        "/board/members/import",
        data={"csrf": f.csrf(page.text)},
        files={"file": ("leden.csv", FILE.encode(), "text/csv")},
        headers={"Accept-Language": "nl"},
    )
    assert r.status_code == 200
    assert "3 nieuwe leden toegelaten" in r.text and "Dit is geen e-mailadres." in r.text
    assert _count(database, Member) == 3
    wrong = client.post(
        "/board/members/import",
        data={"csrf": f.csrf(page.text)},
        files={"file": ("leden.csv", b"naam,adres\n", "text/csv")},
        follow_redirects=False,
    )
    assert wrong.status_code == 303 and "error=csv-columns" in wrong.headers["location"]
    forged = client.post("/board/members/import", data={"csrf": "x"}, files={"file": ("a.csv", FILE.encode())})
    assert forged.status_code == 403 and _count(database, Member) == 3
