"""The application around the domains: the request body limit (also for bodies sent in
chunks, without Content-Length) and the security headers on every response."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi.testclient import TestClient

from coop.app import create_app
from coop.db import Database
from coop.settings import Settings
from coop.types import utcnow
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


def _directives(policy: str) -> dict[str, set[str]]:
    parts = [p.split() for p in policy.split(";") if p.strip()]
    return {p[0]: set(p[1:]) for p in parts}


def test_every_response_carries_the_security_headers(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    responses = {
        "json": client.get("/api/v1/vocabulary"),
        "problem": client.get("/api/v1/members"),
        "unknown path": client.get("/api/v1/nothing-here"),
        "too large": client.post("/api/v1/members", content=b"{}", headers={**board, "Content-Length": "99999999"}),
        "page": client.get("/login"),
        "redirect": client.get("/me", follow_redirects=False),
        "stylesheet": client.get("/static/portal.css"),
        "public page": client.get("/api/v1/public/transparency.html"),
        "docs": client.get("/docs"),
        "openapi": client.get("/openapi.json"),
        "pdf": client.get(f"/api/v1/reports/annual/{utcnow().year}.pdf", headers=board),
    }
    for name, r in responses.items():
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["referrer-policy"] == "no-referrer", name  # a page's address may hold an invitation token
        policy = _directives(r.headers["content-security-policy"])
        assert policy["frame-ancestors"] == {"'none'"}, name
    assert responses["too large"].status_code == 413 and responses["docs"].status_code == 200
    assert responses["pdf"].headers["content-type"] == "application/pdf"
    assert responses["stylesheet"].headers["content-type"].startswith("text/css")
    for name in ("page", "public page"):
        policy = _directives(responses[name].headers["content-security-policy"])
        assert policy["default-src"] == {"'none'"} and "script-src" not in policy, name  # no script at all
        assert policy["style-src"] == {"'self'"} and policy["base-uri"] == {"'none'"}, name
        assert policy["form-action"] == {"'self'"}, name
    for name in ("json", "problem", "openapi"):
        assert _directives(responses[name].headers["content-security-policy"])["default-src"] == {"'none'"}, name


def test_the_portal_styles_come_from_this_site(client: TestClient) -> None:
    page = client.get("/login").text
    assert '<link rel="stylesheet" href="/static/portal.css">' in page
    css = client.get("/static/portal.css")
    assert css.status_code == 200 and "--brand: #1b3a4b" in css.text
    public = client.get("/api/v1/public/transparency.html").text
    assert '<link rel="stylesheet" href="/static/transparency.css">' in public
    assert client.get("/static/transparency.css").status_code == 200


def test_an_unexpected_error_is_a_problem_with_the_security_headers(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/api/v1/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/v1/broken")
    assert r.status_code == 500 and r.json()["code"] == "internal-error" and "a bug" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    assert _directives(r.headers["content-security-policy"])["frame-ancestors"] == {"'none'"}
