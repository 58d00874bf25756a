"""Test databases and the application under test, on SQLite and PostgreSQL.

Each xdist worker migrates one template database per engine with Alembic (never
``create_all``); each test gets a fresh copy: a file copy on SQLite, ``CREATE DATABASE
... TEMPLATE`` on PostgreSQL. Tests that use ``db_url`` run once per engine.

``COOP_TEST_POSTGRES``: ``auto`` (default: use the server when it answers, and say so
loudly when it does not), ``require`` (CI: fail when it does not answer), ``off``.
``COOP_TEST_PG_URL`` names the server (default: postgres on 127.0.0.1:5432).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from coop import deps
from coop.app import bind, create_app
from coop.cli import upgrade_database
from coop.db import Database
from coop.settings import (
    AuthSettings,
    DatabaseSettings,
    LedgerSettings,
    PdfSettings,
    PrivacySettings,
    Settings,
    get_settings,
)
from coop.types import utcnow
from ledger.log import WRITE_LOCK_KEY
from tests.pg_recycle import RecycledDatabase

PG_URL = os.environ.get("COOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_MODE = os.environ.get("COOP_TEST_POSTGRES", "auto")


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(libpq_url(PG_URL), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _engines() -> list[str]:
    if PG_MODE == "off":
        return ["sqlite"]
    if _pg_reachable():
        return ["sqlite", "postgresql"]
    if PG_MODE == "require":
        raise pytest.UsageError(f"COOP_TEST_POSTGRES=require but PostgreSQL does not answer at {PG_URL}")
    return ["sqlite"]


ENGINES = _engines()
POSTGRESQL_ONLY = pytest.mark.parametrize("db_url", [e for e in ENGINES if e == "postgresql"], indirect=True)
"""For what only a database server can do (go away, deadlock): the test runs on PostgreSQL."""
PAGES_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""For tests of what the browser makes of the pages (accessibility, layout, the API's
documentation): the HTML and CSS are the same on both engines, so they run once, on the
embedded default; the flows behind the pages run on both (tests/portal, the other browser
tests)."""


CHROMIUM = os.environ.get("COOP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
"""Debian's Chromium, for the browser tests under tests/e2e/."""


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"database engines under test: {', '.join(ENGINES)}"]
    if CHROMIUM:
        lines.append(f"browser tests: Chromium at {CHROMIUM}")
    else:
        lines.append("!!! browser tests are NOT run: no Chromium (apt-get install chromium; .ci/run installs it) !!!")
    if "postgresql" not in ENGINES:
        lines.append(
            "!!! PostgreSQL is NOT being tested: no server answered at "
            f"{PG_URL} (set COOP_TEST_POSTGRES=require to make this an error) !!!"
        )
    return lines


def pg_admin() -> psycopg.Connection:
    return psycopg.connect(libpq_url(PG_URL), autocommit=True)


def pg_db_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def worker_tag(worker_id: str) -> str:
    return f"{worker_id}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory, worker_tag: str) -> Iterator[dict[str, str]]:
    """One migrated template per engine for this worker."""
    made: dict[str, str] = {}
    sqlite_file = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite:///{sqlite_file}")
    made["sqlite"] = str(sqlite_file)
    if "postgresql" in ENGINES:
        name = f"coop_tpl_{worker_tag}"
        with pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        upgrade_database(pg_db_url(name))
        made["postgresql"] = name
    yield made
    if "postgresql" in made:
        with pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{made["postgresql"]}" WITH (FORCE)')


@pytest.fixture(scope="session")
def recycled(templates: dict[str, str], worker_tag: str) -> Iterator[RecycledDatabase | None]:
    """This worker's PostgreSQL test database, emptied between tests (see tests/pg_recycle.py)."""
    if "postgresql" not in templates:
        yield None
        return
    recycled = RecycledDatabase(
        templates["postgresql"], f"coop_t_{worker_tag}", pg_admin, lambda n: libpq_url(pg_db_url(n))
    )
    yield recycled
    recycled.drop()


@pytest.fixture(params=ENGINES)
def db_url(
    request: pytest.FixtureRequest, templates: dict[str, str], tmp_path: Path, recycled: RecycledDatabase | None
) -> Iterator[str]:
    """A fresh, migrated database for one test: a copy of the template on SQLite, the
    worker's emptied database on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "coop.db"
        shutil.copyfile(templates["sqlite"], target)
        yield f"sqlite:///{target}"
        return
    assert recycled is not None
    try:
        yield pg_db_url(recycled.take())
    finally:
        recycled.give_back()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


def make_settings(db_url: str, tmp_path: Path, **ledger: object) -> Settings:
    """Real Argon2id with the least work the settings accept (one pass over 19 MiB; the
    production default is three passes over 64 MiB: what the tests check does not depend on
    the cost, and the suite hashes thousands of passwords), and a tree head signed at every
    commit so tests see them."""
    keys = tmp_path / "keys"
    return Settings(
        database=DatabaseSettings(url=db_url),
        auth=AuthSettings(
            secret_file=keys / "jwt-secret",
            argon2_time_cost=1,
            argon2_memory_kib=19_456,
        ),
        ledger=LedgerSettings(signing_key_file=keys / "ledger.pem", **{"head_interval_seconds": 0.0, **ledger}),
        privacy=PrivacySettings(pseudonym_key_file=keys / "pseudonym-key"),
        pdf=PdfSettings(key_file=keys / "pdf-key.pem", certificate_file=keys / "pdf-certificate.pem"),
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings)
    yield db
    db.dispose()


class Clock:
    """The moment the apps under test are given (``coop.deps.now``): the real one, unless a
    test moves it with :meth:`at`."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def __call__(self) -> datetime:
        return self.moment or utcnow()

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        earlier, self.moment = self.moment, moment
        try:
            yield
        finally:
            self.moment = earlier


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _app(settings: Settings, clock: Clock) -> FastAPI:
    app = create_app(settings)
    app.dependency_overrides[deps.now] = clock
    return app


_APPS: dict[str, FastAPI] = {}


def _shape(settings: Settings) -> str:
    """The settings but the test's own database and files: what an application keeps of its
    settings beyond those (the mode, the limits of request bodies, the mail worker) is fixed
    when it is made."""
    sections = {
        name: {k: v for k, v in section if not isinstance(v, Path)} if isinstance(section, BaseModel) else section
        for name, section in settings
    }
    del sections["database"]["url"]
    return repr(sections)


def shared_app(settings: Settings, clock: Clock) -> FastAPI:
    """An application for this test's database, keys and clock, made once per worker for
    settings of the same shape and bound to each test's own with :func:`coop.app.bind`.

    FastAPI prepares its ~200 routes (their dependencies, parameters and models) on the first
    request an application answers, and the OpenAPI schema on the first request for it: that
    took a third of a second or more in each of the suite's ~1,500 tests with an application,
    for routes that are the same in all of them. Binding swaps all that ``create_app`` derives
    from the test's settings; the application itself holds no other state between tests."""
    key = _shape(settings)
    app = _APPS.get(key)
    if app is None:
        app = _APPS[key] = create_app(settings)
    else:
        bind(app, settings)
    app.dependency_overrides.clear()
    app.dependency_overrides[deps.now] = clock
    return app


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    with TestClient(shared_app(settings, clock)) as c:
        yield c


@pytest.fixture
def live_server(settings: Settings, clock: Clock) -> Iterator[str]:
    """The app served by uvicorn on a free localhost port, in a thread: for the browser
    tests, and for crowds of concurrent clients."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app(settings, clock), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the app did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@contextmanager
def writer_lock_held(db_url: str) -> Iterator[None]:
    """Another writer holding the writers' lock, as a long transaction would."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    with psycopg.connect(libpq_url(db_url)) as pg:
        pg.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        try:
            yield
        finally:
            pg.rollback()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in pytest_report_header(terminalreporter.config):
        terminalreporter.write_line(line, yellow="!!!" in line, bold=True)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The command line pointed at the test's database."""
    monkeypatch.setenv("COOP_DATABASE_URL", settings.database.url)
    monkeypatch.setenv("COOP_AUTH_SECRET_FILE", str(settings.auth.secret_file))
    monkeypatch.setenv("COOP_LEDGER_SIGNING_KEY_FILE", str(settings.ledger.signing_key_file))
    monkeypatch.setenv("COOP_PRIVACY_PSEUDONYM_KEY_FILE", str(settings.privacy.pseudonym_key_file))
    monkeypatch.setenv("COOP_PDF_KEY_FILE", str(settings.pdf.key_file))
    monkeypatch.setenv("COOP_PDF_CERTIFICATE_FILE", str(settings.pdf.certificate_file))
    monkeypatch.setenv("COOP_AUTH_ARGON2_MEMORY_KIB", "19456")
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


SLOW_FIRST = (
    "tests/test_api_fuzz.py",
    "tests/e2e/",
    "tests/decisions/test_engine_properties.py",
    "tests/record/",
    "tests/concurrency/",
    "tests/test_crash.py",
    "tests/test_demo.py",
    "tests/test_docs.py",
    "tests/reporting/",
    "tests/test_pdfsigning.py",
    "tests/mail/test_worker_crash.py",
)
"""Tests that take ten seconds or more (last measured in CI), started first: the two test
workers then share the quick ones at the end instead of one waiting for the other's long
test."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, slow in enumerate(SLOW_FIRST) if item.nodeid.startswith(slow)), len(SLOW_FIRST))

    items.sort(key=rank)  # stable: the tests of one rank keep their order
