"""Throttling failed logins: counts shared by every process through the database, growing
delays per account and per address instead of a lock, X-Forwarded-For believed only from
configured proxies, and every simultaneous failure counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from ipaddress import ip_network
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from coop.app import create_app
from coop.auth.models import LoginFailures
from coop.auth.throttle import Limit, client_address, wait_seconds
from coop.db import Database
from coop.settings import Settings
from tests import factories as f
from tests.together import together

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WRONG = "not the password at all"


def _with(settings: Settings, **auth: Any) -> Settings:
    """The test's settings with other throttling numbers. A first delay of ten minutes keeps
    every wait far longer than any test takes, so no assertion depends on the clock."""
    return settings.model_copy(
        update={"auth": settings.auth.model_copy(update={"login_first_delay_seconds": 600, **auth})}
    )


@contextmanager
def _app(settings: Settings, address: str = "203.0.113.10") -> Iterator[TestClient]:
    with TestClient(create_app(settings), client=(address, 40000)) as c:
        yield c


def _from(client: TestClient, address: str) -> TestClient:
    """Another client of the same application (the same process), from another address."""
    return TestClient(client.app, client=(address, 40001))


def _login(client: TestClient, email: str, password: str, **headers: str) -> Any:
    return client.post("/api/v1/auth/token", data={"username": email, "password": password}, headers=headers)


def _member(client: TestClient, database: Database) -> f.MemberHandle:
    return f.member(client, f.board(client, database))


def test_the_wait_doubles_after_the_free_failures_and_has_a_ceiling() -> None:
    limit = Limit(free=5, longest=900)
    waits = [wait_seconds(n, T0, T0, limit, 1, 86_400) for n in range(4, 17)]
    assert waits == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert wait_seconds(7, T0, T0 + timedelta(seconds=3), limit, 1, 86_400) == 1  # 4 s from the last failure
    assert wait_seconds(7, T0, T0 + timedelta(seconds=4), limit, 1, 86_400) == 0
    assert wait_seconds(10**6, T0, T0, limit, 1, 86_400) == 900
    assert wait_seconds(50, T0, T0 + timedelta(days=1), limit, 1, 86_400) == 0  # forgotten after the window


def test_the_repeated_failures_answer_429_with_retry_after(settings: Settings, database: Database) -> None:
    with _app(_with(settings)) as client:
        m = _member(client, database)
        for _ in range(settings.auth.login_max_failures):
            assert _login(client, m.email, WRONG).status_code == 401
        r = _login(client, m.email, f.PASSWORD)
    assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "too-many-requests"
    assert 0 < int(r.headers["Retry-After"]) <= 600


def test_two_application_instances_share_the_count(settings: Settings, database: Database) -> None:
    """Two processes (two applications on one database) together allow the free failures once."""
    throttled = _with(settings)
    with _app(throttled) as one, _app(throttled) as other:
        m = _member(one, database)
        for i in range(settings.auth.login_max_failures):
            assert _login(one if i % 2 else other, m.email, WRONG).status_code == 401
        assert _login(one, m.email, f.PASSWORD).status_code == 429
        assert _login(other, m.email, f.PASSWORD).status_code == 429


def test_a_stranger_cannot_shut_a_named_member_out(settings: Settings, database: Database) -> None:
    with _app(_with(settings), "198.51.100.66") as stranger:
        at_home = _from(stranger, "192.0.2.20")
        m = _member(at_home, database)
        for _ in range(settings.auth.login_max_failures * 2):
            assert _login(stranger, m.email, WRONG).status_code in (401, 429)
        assert _login(stranger, m.email, f.PASSWORD).status_code == 429  # the stranger's address waits
        assert _login(at_home, m.email, f.PASSWORD).status_code == 200  # the member does not


def test_failures_from_one_address_do_not_lock_other_accounts_from_it(settings: Settings, database: Database) -> None:
    """An office behind one address: one colleague's typing does not shut the others out."""
    with _app(_with(settings)) as office:
        board = f.board(office, database)
        typist, colleague = f.member(office, board), f.member(office, board)
        for _ in range(settings.auth.login_max_failures + 3):
            _login(office, typist.email, WRONG)
        assert _login(office, typist.email, f.PASSWORD).status_code == 429
        assert _login(office, colleague.email, f.PASSWORD).status_code == 200


def test_one_address_trying_many_accounts_waits(settings: Settings, database: Database) -> None:
    with _app(_with(settings, login_client_max_failures=6)) as sprayer:
        board = f.board(sprayer, database)
        people = [f.member(sprayer, board) for _ in range(3)]
        for i in range(6):
            assert _login(sprayer, people[i % 3].email, WRONG).status_code == 401
        r = _login(sprayer, people[0].email, f.PASSWORD)
        assert r.status_code == 429


def test_guesses_from_everywhere_make_the_account_wait_only_briefly(settings: Settings, database: Database) -> None:
    with _app(_with(settings, login_account_max_failures=4), "192.0.2.1") as home:
        m = _member(home, database)
        for i in range(4):
            assert _login(_from(home, f"198.51.100.{i + 1}"), m.email, WRONG).status_code == 401
        r = _login(home, m.email, f.PASSWORD)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) <= settings.auth.login_account_max_delay_seconds  # a minute, not a lock


def test_a_success_forgets_that_address_failures_on_the_account(settings: Settings, database: Database) -> None:
    with _app(_with(settings)) as client:
        m = _member(client, database)
        for _ in range(settings.auth.login_max_failures - 1):
            _login(client, m.email, WRONG)
        assert _login(client, m.email, f.PASSWORD).status_code == 200
        for _ in range(settings.auth.login_max_failures - 1):
            assert _login(client, m.email, WRONG).status_code == 401  # a fresh allowance
        assert _login(client, m.email, f.PASSWORD).status_code == 200


def test_the_portal_login_shares_the_count(settings: Settings, database: Database) -> None:

    with _app(_with(settings)) as client:
        m = _member(client, database)
        for _ in range(settings.auth.login_max_failures):
            _login(client, m.email, WRONG)
        page = client.get("/login")
        r = client.post("/login", data={"csrf": f.csrf(page.text), "email": m.email, "password": f.PASSWORD})
    assert r.status_code == 429 and "Probeer het over" in r.text


def test_the_table_keeps_no_email_or_address(settings: Settings, database: Database) -> None:
    with _app(_with(settings)) as client:
        m = _member(client, database)
        _login(client, m.email, WRONG)
    with database.unit_of_work(write=False) as s:
        rows = s.execute(select(LoginFailures)).scalars().all()
    assert len(rows) == 3 and all(r.failures == 1 for r in rows)
    assert all(len(r.key_hash) == 64 and "@" not in r.key_hash and "203.0" not in r.key_hash for r in rows)


def test_forgotten_counts_are_pruned(settings: Settings, database: Database) -> None:
    long_ago = datetime.now(UTC) - timedelta(seconds=settings.auth.login_window_seconds + 60)
    with database.unit_of_work() as s:
        s.add(LoginFailures(key_hash="0" * 64, failures=9, last_failed_at=long_ago))
    with _app(_with(settings)) as client:
        _login(client, "nobody@coop-test.nl", WRONG)
    with database.unit_of_work(write=False) as s:
        keys = set(s.execute(select(LoginFailures.key_hash)).scalars())
    assert "0" * 64 not in keys and len(keys) == 3


PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # not a proxy: its header is not believed
        ("127.0.0.1", ["198.51.100.1"], "127.0.0.1"),  # nor from a local client
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["192.0.2.9, 198.51.100.1"], "198.51.100.1"),  # the left part was written by the client
        ("10.0.0.2", ["198.51.100.1, 10.1.1.1"], "198.51.100.1"),  # through two proxies
        ("10.0.0.2", ["198.51.100.1", "10.1.1.1"], "198.51.100.1"),  # the header given twice
        ("10.0.0.2", ["[2001:db8::7]:443, 198.51.100.1:5555"], "198.51.100.1:5555"),
        ("10.0.0.2", [], "10.0.0.2"),
        ("2001:db8::1", ["2001:db8::2, 192.0.2.33"], "192.0.2.33"),
        (None, ["198.51.100.1"], "unknown"),
    ],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    peer: str | None, forwarded: list[str], client: str
) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_a_local_client_cannot_pick_its_address(settings: Settings, database: Database) -> None:
    """Without configured proxies, a new X-Forwarded-For per guess changes nothing."""
    with _app(_with(settings), "127.0.0.1") as local:
        m = _member(local, database)
        for i in range(settings.auth.login_max_failures):
            _login(local, m.email, WRONG, **{"X-Forwarded-For": f"198.51.100.{i}"})
        assert _login(local, m.email, f.PASSWORD, **{"X-Forwarded-For": "192.0.2.200"}).status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_count(settings: Settings, database: Database) -> None:
    behind = _with(settings, trusted_proxies=[ip_network("10.0.0.0/8")])
    with _app(behind, "10.0.0.2") as proxy:
        m = _member(proxy, database)
        for _ in range(settings.auth.login_max_failures):
            _login(proxy, m.email, WRONG, **{"X-Forwarded-For": "198.51.100.66"})
        assert _login(proxy, m.email, f.PASSWORD, **{"X-Forwarded-For": "198.51.100.66"}).status_code == 429
        spoofed = {"X-Forwarded-For": "192.0.2.1, 198.51.100.66"}  # claiming another address changes nothing
        assert _login(proxy, m.email, f.PASSWORD, **spoofed).status_code == 429
        assert _login(proxy, m.email, f.PASSWORD, **{"X-Forwarded-For": "192.0.2.20"}).status_code == 200


def test_serve_leaves_forwarded_headers_to_the_application(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn would otherwise take X-Forwarded-For from any local client."""
    import uvicorn
    from typer.testing import CliRunner

    from coop.cli import app

    called: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: called.update(kwargs))
    # `serve` switches background delivery on in development, for its own process: here that
    # is the test worker's, so keep it to this test (or later tests' servers deliver their mail)
    monkeypatch.setenv("COOP_MAIL_BACKGROUND", "false")
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    assert called["proxy_headers"] is False


def test_simultaneous_failures_are_all_counted(settings: Settings, database: Database) -> None:
    """Many clients at once, through two application instances: every failure counts,
    none is answered with a 500."""
    generous = _with(settings, login_max_failures=1000, login_account_max_failures=1000, login_client_max_failures=1000)
    clients = 24
    with _app(generous) as one, _app(generous) as other:
        m = _member(one, database)
        guesses = [partial(_login, one if i % 2 else other, m.email, WRONG) for i in range(clients)]
        statuses = Counter(r.status_code for r in together(*guesses))
    assert statuses == Counter({401: clients})
    with database.unit_of_work(write=False) as s:
        counts = sorted(s.execute(select(LoginFailures.failures)).scalars())
    assert counts == [clients] * 3
