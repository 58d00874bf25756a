"""The application around the domains: the request body limit (also for bodies sent in
chunks, without Content-Length) and the security headers on every response."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi.testclient import TestClient

from coop.db import Database
from ledger import log
from tests import factories as f

LIMIT = 1024 * 1024


def _events(database: Database) -> int:
    with database.unit_of_work(write=False) as s:
        return log.tree_size(s)


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_body_over_the_limit_is_413_and_changes_nothing(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    before = _events(database)
    body = json.dumps({"name": "A" * (LIMIT + 10), "email": "big@coop-test.nl"}).encode()
    headers = {**board, "Content-Type": "application/json"}
    r = client.post("/api/v1/members", content=_chunks(body), headers=headers)
    assert "content-length" not in r.request.headers and r.request.headers["transfer-encoding"] == "chunked"
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "payload-too-large"
    assert _events(database) == before
    small = json.dumps({"name": "Anna de Vries", "email": "anna@coop-test.nl"}).encode()
    assert client.post("/api/v1/members", content=_chunks(small, 7), headers=headers).status_code == 201


def test_a_chunked_form_over_the_limit_is_413(client: TestClient, database: Database) -> None:
    f.board(client, database)
    body = b"csrf=x&email=a%40b.nl&password=" + b"p" * (LIMIT + 10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for url in ("/api/v1/auth/token", "/login"):
        r = client.post(url, content=_chunks(body), headers=headers)
        assert r.status_code == 413, (url, r.text)
        assert r.json()["code"] == "payload-too-large"
