"""A cooperative that keeps its events' contents from the public (COOP_LEDGER_PUBLIC_ENTRIES=false):
the entry bundles are for the board and auditors, while the checkpoint and the hash tiles stay
public for witnesses and anyone checking the tree; `coop ledger audit --token` reads them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from coop.cli import app
from coop.db import Database
from coop.settings import Settings
from ledger.audit_client import BearerForOrigin, HttpLog
from tests import factories as f
from tests.conftest import make_settings
from tests.record.test_tiles import fill

runner = CliRunner()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path, public_entries=False)


def test_private_entry_bundles_are_for_the_board_and_auditors_and_the_tree_stays_public(
    client: TestClient, database: Database
) -> None:
    board = f.board(client, database)
    member = f.member(client, board)
    fill(database, 300)
    bundle = "/api/v1/ledger/tile/entries/000"

    anonymous = client.get(bundle)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.json()["code"] == "unauthenticated"
    assert "public" not in anonymous.headers.get("cache-control", "")
    assert client.get(bundle, headers={"Authorization": "Bearer coop_nonsense"}).status_code == 401
    assert client.get(bundle, headers=member.headers).status_code == 403
    assert client.get(bundle, headers=f.api_key(database, "hdab")).status_code == 403

    auditor = f.api_key(database, "auditor")
    full = client.get(bundle, headers=auditor)
    assert full.status_code == 200 and full.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert full.headers["vary"] == "Authorization" and full.content == client.get(bundle, headers=board).content
    partial = client.get("/api/v1/ledger/tile/entries/001.p/45", headers=board)
    assert partial.status_code == 200 and partial.headers["cache-control"] == "private, max-age=5"
    assert client.get("/api/v1/ledger/events", headers=auditor).json()["items"][0]["seq"] == 1

    hashes = client.get("/api/v1/ledger/tile/0/000")  # anonymous, and a bad credential is not looked at
    assert hashes.status_code == 200 and hashes.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/api/v1/ledger/tile/1/000.p/1", headers={"Authorization": "Bearer x"}).status_code == 200
    assert client.get("/api/v1/ledger/checkpoint").status_code == 200
    assert client.get("/api/v1/ledger/public-key").json()["public_entries"] is False


def test_the_audit_reads_private_entries_with_an_auditor_key_and_says_what_it_needs_without(
    live_server: str, database: Database, tmp_path: Path
) -> None:
    fill(database, 40)
    state = str(tmp_path / "state")
    without = runner.invoke(app, ["ledger", "audit", live_server, "--state", state], env={"COOP_AUDIT_TOKEN": ""})
    message = " ".join(without.output.split())
    assert without.exit_code == 2 and "Traceback" not in without.output
    assert "this log's entries are for its board and auditors: ask the cooperative for an auditor key (--token)" in (
        message
    )
    assert not (tmp_path / "state" / "checkpoint").exists()

    key = f.api_key(database, "auditor")["Authorization"].removeprefix("Bearer ")
    refused = runner.invoke(app, ["ledger", "audit", live_server, "--state", state, "--token", "coop_nonsense"])
    assert refused.exit_code == 2 and "the key given (--token) was refused" in " ".join(refused.output.split())
    passed = runner.invoke(app, ["ledger", "audit", live_server, "--state", state, "--token", key])
    assert passed.exit_code == 0, passed.output
    size = fill(database, 3) - 3  # the key's creation is an event too
    assert f"audited: {size} events" in " ".join(passed.output.split())
    again = runner.invoke(app, ["ledger", "audit", live_server, "--state", state], env={"COOP_AUDIT_TOKEN": key})
    assert again.exit_code == 0, again.output
    assert f"audited: {size + 3} events" in " ".join(again.output.split())


def test_the_auditor_key_goes_to_the_log_s_own_origin_only() -> None:
    """httpx applies the auth to the request it was given and drops Authorization on a redirect to
    another origin; the auditor's key never reaches another host, whatever the log answers."""
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("authorization")))
        if request.url.host == "coop.example" and request.url.path.endswith("/checkpoint"):
            return httpx.Response(302, headers={"Location": "https://elsewhere.example/checkpoint"})
        if request.url.path.endswith("/public-key"):
            return httpx.Response(302, headers={"Location": "/api/v1/ledger/moved-key"})
        return httpx.Response(200, content=b"ok")

    with httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True) as client:
        log = HttpLog("https://coop.example", client, token="coop_secret")
        assert log.get("checkpoint") == b"ok" and log.get("public-key") == b"ok"
        client.get("https://coop.example/x", auth=BearerForOrigin("https://coop.example:8443/log", "coop_secret"))
    assert seen == [
        ("https://coop.example/api/v1/ledger/checkpoint", "Bearer coop_secret"),
        ("https://elsewhere.example/checkpoint", None),
        ("https://coop.example/api/v1/ledger/public-key", "Bearer coop_secret"),
        ("https://coop.example/api/v1/ledger/moved-key", "Bearer coop_secret"),  # the same origin keeps it
        ("https://coop.example/x", None),  # another port is another origin
    ]
