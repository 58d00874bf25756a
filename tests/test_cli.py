"""The command line: bootstrap, keys, and ``ledger verify`` exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from coop.auth.policy import CLI_ACTOR
from coop.cli import app
from coop.db import Database
from coop.settings import Settings, get_settings
from ledger import log
from tests import factories as f

runner = CliRunner()


def test_bootstrap_board_and_api_keys(cli_env: Settings) -> None:
    r = runner.invoke(app, ["bootstrap-board", "--email", "chair@coop-test.nl", "--password", "a long board password"])
    assert r.exit_code == 0, r.output
    again = runner.invoke(app, ["bootstrap-board", "--email", "x@coop-test.nl", "--password", "a long board password"])
    assert again.exit_code == 1 and "exists already" in again.output
    r = runner.invoke(app, ["api-key", "create", "--org", "HDAB NL", "--role", "hdab"])
    assert r.exit_code == 0 and r.stdout.strip().splitlines()[-1].startswith("coop_")
    bad = runner.invoke(app, ["api-key", "create", "--org", "X", "--role", "wizard"])
    assert bad.exit_code == 1 and "unknown organisation role" in bad.output
    assert runner.invoke(app, ["api-key", "revoke", "1"]).exit_code == 0
    assert runner.invoke(app, ["api-key", "revoke", "99"]).exit_code == 1
    listing = runner.invoke(app, ["api-key", "list"])
    assert "HDAB NL" in listing.output


def test_ledger_verify_passes_then_names_the_altered_event(cli_env: Settings) -> None:
    db = Database(cli_env)
    with db.unit_of_work() as s:
        for i in range(12):
            log.append(s, "test.event", "cli", "test:1", {"i": i})
    r = runner.invoke(app, ["ledger", "verify"])
    assert r.exit_code == 0, r.output
    assert "12 events" in r.output
    with db.write_engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE ledger_event DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER ledger_event_no_update")
        conn.exec_driver_sql("UPDATE ledger_event SET actor = 'user:666' WHERE seq = 9")
    db.dispose()
    r = runner.invoke(app, ["ledger", "verify"])
    assert r.exit_code == 1
    assert "first bad event: 9" in r.output


def test_verify_trusts_extra_keys_given(cli_env: Settings, tmp_path: Path) -> None:
    db = Database(cli_env)
    with db.unit_of_work() as s:
        log.append(s, "test.event", "cli", "test:1", {})
    db.dispose()
    # rotate the signing key: old heads are only valid with the old key trusted
    old = tmp_path / "old.pem"
    cli_env.ledger.signing_key_file.rename(old)
    assert runner.invoke(app, ["ledger", "verify"]).exit_code == 1
    assert runner.invoke(app, ["ledger", "verify", "--trusted-key", str(old)]).exit_code == 0


def test_init_statutes_once(cli_env: Settings) -> None:
    example = Path(__file__).resolve().parents[1] / "coop" / "statutes.example.toml"
    r = runner.invoke(app, ["init", "--statutes", str(example)])
    assert r.exit_code == 0, r.output
    assert "mandate version 1" in r.output
    again = runner.invoke(app, ["init", "--statutes", str(example)])
    assert again.exit_code == 1 and "initialised already" in again.output


def test_demo_seeds_an_empty_database_only(cli_env: Settings) -> None:
    r = runner.invoke(app, ["demo", "--if-empty", "--members", "40"])
    assert r.exit_code == 0, r.output
    assert "board@demo-coop.nl" in r.output
    assert runner.invoke(app, ["demo", "--if-empty"]).exit_code == 0
    assert runner.invoke(app, ["demo"]).exit_code == 1


def test_ledger_export_writes_a_file_bean_check_accepts(cli_env: Settings, tmp_path: Path) -> None:
    import subprocess
    import sys
    from datetime import date

    from ledger import books
    from ledger.books import Entry, Kind, Posting

    db = Database(cli_env)
    with db.unit_of_work() as s:
        books.open_account(s, "assets:bank", Kind.asset, "Bank")
        books.open_account(s, "income:permit:1:fee", Kind.income, "Fee")
        books.post(
            s,
            Entry(
                "pay-1", date(2026, 3, 1), "fee", (Posting("assets:bank", 1050), Posting("income:permit:1:fee", -1050))
            ),
            "cli",
        )
    db.dispose()
    target = tmp_path / "books.beancount"
    r = runner.invoke(app, ["ledger", "export", "--format", "beancount", "-o", str(target)])
    assert r.exit_code == 0, r.output
    assert "Assets:Bank  10.50 EUR" in target.read_text()
    check = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), str(target)], capture_output=True, check=False
    )
    assert check.returncode == 0
    assert runner.invoke(app, ["ledger", "export", "--format", "csv", "-o", str(target)]).exit_code == 1


def test_distribute_drafts_and_commits(cli_env: Settings) -> None:
    from datetime import date

    from sqlalchemy import select

    from coop.auth.policy import Role
    from coop.auth.service import create_account
    from coop.governance import service as governance
    from coop.money import service as money
    from coop.types import utcnow
    from ledger import canonical
    from ledger.models import LedgerEvent

    example = Path(__file__).resolve().parents[1] / "coop" / "statutes.example.toml"
    db = Database(cli_env)
    last = utcnow().year - 1  # a year that has ended, so it can be distributed
    with db.unit_of_work() as s:
        governance.init_statutes(s, CLI_ACTOR, example, now=utcnow().replace(year=last, month=1, day=1))
        now = utcnow()
        permit = f.granted(s, "P-1", now)
        money.payment(s, CLI_ACTOR, "p1", permit.id, date(last, 2, 1), 10_000, "fee", now=now)
        for email in ("chair@cli.example", "treasurer@cli.example"):
            create_account(s, CLI_ACTOR, cli_env.auth, email, "a long enough password", Role.board, None, now=now)
    db.dispose()
    unended = runner.invoke(app, ["distribute", "--from", f"{last + 1}-01-01", "--to", f"{last + 1}-12-31"])
    assert unended.exit_code == 1 and f"can be distributed from {last + 2}-01-01" in unended.output
    period = ["distribute", "--from", f"{last}-01-01", "--to", f"{last}-12-31", "--commit"]
    alone = runner.invoke(app, [*period, "--asked-by", "chair@cli.example"])
    assert alone.exit_code == 1 and "two board users" in alone.output  # four eyes: one board user cannot commit
    same = runner.invoke(app, [*period, "--asked-by", "chair@cli.example", "--approved-by", "chair@cli.example"])
    assert same.exit_code == 1 and "a second board member must approve it" in same.output
    r = runner.invoke(app, [*period, "--asked-by", "chair@cli.example", "--approved-by", "treasurer@cli.example"])
    assert r.exit_code == 0, r.output
    assert "committed" in r.output and "10,000" in r.output
    with db.unit_of_work(write=False) as s:
        (committed,) = s.execute(select(LedgerEvent).where(LedgerEvent.type == "distribution.committed")).scalars()
    payload = canonical.loads(committed.payload)
    assert payload["requested_by"] != payload["approved_by"] == committed.actor
    db.dispose()
    again = runner.invoke(app, ["distribute", "--from", f"{last}-06-01", "--to", f"{last}-12-31"])
    assert again.exit_code == 1 and "covered part of this period" in again.output


def test_a_writing_command_leaves_its_events_signed(cli_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """With an hour between heads, only the first commit signs at commit; the command still
    ends with a head over everything it recorded, so nothing is left unsigned when nobody serves."""
    monkeypatch.setenv("COOP_LEDGER_HEAD_INTERVAL_SECONDS", "3600")
    get_settings.cache_clear()
    for org in ("HDAB NL", "SPE Noord", "Auditor BV"):
        assert runner.invoke(app, ["api-key", "create", "--org", org, "--role", "auditor"]).exit_code == 0
    db = Database(cli_env)
    with db.unit_of_work(write=False) as s:
        assert log.tree_size(s) == 3 and log.unsigned_events(s) == 0
    db.dispose()
