"""Alembic is the only source of schema: models and migrations must agree on both engines,
and migrations go down and up again cleanly."""

from __future__ import annotations

import pytest
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from alembic import command
from coop import demo
from coop.auth.policy import Actor, Role
from coop.choices import recount
from coop.choices import service as choices
from coop.choices.encoding import Preference
from coop.db import Database
from coop.proxies import service as proxies
from coop.settings import ROOT
from coop.types import utcnow
from coop.vocabulary.terms import Purpose, UserType


def _config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def test_models_and_migrations_agree(db_url: str) -> None:
    command.check(_config(db_url))  # raises when autogenerate would find a difference


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    config = _config(db_url)
    command.downgrade(config, "base")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        tables = (
            conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type='table'"
                if db_url.startswith("sqlite")
                else "SELECT tablename FROM pg_tables WHERE schemaname='public'"
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert set(tables) <= {"alembic_version"}
    command.upgrade(config, "head")
    command.check(config)


def test_the_members_index_is_filled_from_the_entries_and_given_back(db_url: str) -> None:
    """0030 moves the member-first key of manifest_entry to manifest_member, with the rows."""
    config = _config(db_url)
    command.downgrade(config, "0029")
    engine = create_engine(db_url)
    entries = [(3, 1, b"b" * 32), (1, 1, b"c" * 32), (1, 2, b"a" * 32)]
    with engine.begin() as conn:
        for row in entries:
            conn.exec_driver_sql(
                "INSERT INTO manifest_entry (member_id, manifest_id, pseudonym) VALUES (%s, %s, %s)"
                if db_url.startswith("postgresql")
                else "INSERT INTO manifest_entry (member_id, manifest_id, pseudonym) VALUES (?, ?, ?)",
                row,
            )
    command.upgrade(config, "head")
    with engine.begin() as conn:
        index = conn.exec_driver_sql("SELECT member_id, manifest_id FROM manifest_member ORDER BY 1, 2").all()
        assert [tuple(r) for r in index] == [(1, 1), (1, 2), (3, 1)]
        with pytest.raises(DBAPIError, match="append-only"), conn.begin_nested():
            conn.exec_driver_sql("DELETE FROM manifest_entry WHERE member_id = 3")
    command.downgrade(config, "0029")
    with engine.begin() as conn:
        kept = conn.exec_driver_sql("SELECT member_id, manifest_id, pseudonym FROM manifest_entry ORDER BY 1, 2").all()
        assert [(m, n, bytes(p)) for m, n, p in kept] == sorted(entries)
    engine.dispose()
    command.upgrade(config, "head")
    command.check(config)


def test_the_profiles_are_counted_from_the_members_already_there(database: Database, db_url: str) -> None:
    """0028 counts the choice profiles of a cooperative that had members before it: the same
    counts the services keep, and nothing for ``coop ledger verify`` to find."""
    demo.seed(database, 12, voting_seconds=0.5)  # members with their choices
    now = utcnow()
    principal, proxy = Actor("user", 905, Role.member, member_id=5), Actor("user", 901, Role.member, member_id=1)
    with database.unit_of_work() as s:
        asked = proxies.appoint(s, principal, 5, 1, [Purpose.research], None, False, 3, now)
        assert asked.id is not None
        proxies.accept(s, proxy, 1, asked.id, now)
        to_proxy = ((Purpose.research, UserType.academic, Preference.proxy),)
        choices.change(s, principal, 5, choices.ChoicePatch(preferences=to_proxy), None, now)
    counts = "SELECT user_type, codes, proxies, members FROM choice_profile WHERE members <> 0 ORDER BY 1, 2, 3"
    proxied = "SELECT member_id, proxies FROM choice_member_profile WHERE proxies <> '' ORDER BY 1"
    with database.unit_of_work(write=False) as s:
        kept, followed = s.execute(text(counts)).all(), s.execute(text(proxied)).all()
    assert followed and any(proxies for _, _, proxies, _ in kept), "a member follows a proxy"
    database.dispose()
    config = _config(db_url)
    command.downgrade(config, "0027")
    command.upgrade(config, "head")
    with database.unit_of_work(write=False) as s:
        assert s.execute(text(counts)).all() == kept
        assert s.execute(text(proxied)).all() == followed
        assert recount.check(s.connection()) == []


SEED = [
    "INSERT INTO member (id, name, email, language, status, admitted_at, left_at) VALUES "
    "(1, 'A', 'a@x.nl', 'nl', 'active', '2026-01-01 00:00:00', NULL), "
    "(2, 'B', 'b@x.nl', 'nl', 'left', '2026-01-01 00:00:00', '2026-02-01 00:00:00')",
    "INSERT INTO member_invitation (id, member_id, token_hash, created_at, expires_at, used_at) VALUES "
    "(1, 1, 'h1', '2026-01-01 00:00:00', '2026-01-04 00:00:00', '2026-01-02 00:00:00'), "
    "(2, 2, 'h2', '2026-01-01 00:00:00', '2026-01-04 00:00:00', NULL)",
    "INSERT INTO choice_version (id, member_id, version, valid_from, is_member, opt_out, excluded_mask, "
    "preference_mask, donate_dividend, recorded_by) VALUES (1, 1, 1, '2026-01-01 00:00:00', TRUE, FALSE, 0, 0, "
    "FALSE, 'cli')",
    "INSERT INTO user_account (id, email, password_hash, role, member_id, created_at) VALUES "
    "(1, 'a@x.nl', 'p', 'member', 1, '2026-01-02 00:00:00')",
    "INSERT INTO carer (id, name, email, language, created_at) VALUES (1, 'C', 'c@x.nl', 'nl', '2026-01-01 00:00:00')",
    "INSERT INTO user_account (id, email, password_hash, role, carer_id, created_at) VALUES "
    "(2, 'c@x.nl', 'p', 'carer', 1, '2026-01-02 00:00:00')",
    "INSERT INTO proxy_appointment (id, principal_id, proxy_carer_id, purposes_mask, voting, valid_from, appointed_by, "
    "needs_acceptance, show_name) VALUES (1, 1, 1, 1, false, '2026-01-01 00:00:00', 'user:1', true, false)",
    "INSERT INTO api_key (id, org, role, prefix, secret_hash, created_at, revoked_at) VALUES "
    "(1, 'HDAB', 'hdab', 'abc', 's', '2026-01-01 00:00:00', '2026-01-05 00:00:00')",
    "INSERT INTO proposal (id, title, kind, body, opens_at, closes_at, quorum_pct, majority_pct, created_by, "
    "created_at) VALUES (1, 't', 'mandate', '{}', '2026-01-01 00:00:00', '2026-01-02 00:00:00', 10, 50, 'cli', "
    "'2026-01-01 00:00:00'), (2, 'u', 'mandate', '{}', '2026-01-01 00:00:00', '2026-01-02 00:00:00', 10, 50, 'cli', "
    "'2026-01-01 00:00:00')",
    "INSERT INTO vote (id, proposal_id, member_id, vote, cast_at, cast_by) VALUES "
    "(1, 1, 1, 'yes', '2026-01-01 01:00:00', 'user:1'), (2, 2, 1, 'yes', '2026-01-01 01:00:00', 'user:1')",
    "UPDATE proposal SET closed_at = '2026-01-02 00:00:00', outcome = 'rejected', electorate = 2, yes = 1, no = 0, "
    "abstain = 0 WHERE id = 1",
    "INSERT INTO board_approval (id, action, target, year, languages, pinned, requested_by, requested_at, outcome, "
    "decided_by, decided_at) VALUES (1, 'report.publish', 'report:annual:2025', 2025, 'en,nl', 'h', 'user:1', "
    "'2026-01-01 00:00:00', 'withdrawn', 'user:1', '2026-01-01 01:00:00'), (2, 'report.publish', "
    "'report:annual:2026', 2026, 'nl', 'h', 'user:1', '2026-01-01 00:00:00', NULL, NULL, NULL)",
    "INSERT INTO manifest_entry (member_id, manifest_id, pseudonym) VALUES (1, 1, 'p')",
    "INSERT INTO manifest_member (member_id, manifest_id) VALUES (1, 1)",
]

ALLOWED = [
    "UPDATE carer SET name = 'erased', email = 'erased-c@x.nl' WHERE id = 1",
    "UPDATE proxy_appointment SET accepted_at = '2026-01-02 00:00:00' WHERE id = 1",
    "UPDATE member SET name = 'erased', email = 'erased-1@x.nl' WHERE id = 1",
    "UPDATE member SET status = 'left', left_at = '2026-03-01 00:00:00' WHERE id = 1",
    "UPDATE member_invitation SET withdrawn_at = '2026-01-02 00:00:00' WHERE id = 2",
    "UPDATE user_account SET password_hash = 'q', email = 'new@x.nl' WHERE id = 1",
    "UPDATE user_account SET disabled_at = '2026-03-01 00:00:00' WHERE id = 1",
    "UPDATE vote SET vote = 'no', cast_at = '2026-01-01 02:00:00' WHERE id = 2",
    "UPDATE choice_version SET valid_to = '2026-02-01 00:00:00' WHERE id = 1 AND sensitive_yes_mask = 0",
    "UPDATE proposal SET closed_at = '2026-01-02 00:00:00', outcome = 'adopted', electorate = 2, yes = 1, no = 0, "
    "abstain = 0, adopted_version = 2 WHERE id = 2",
    "UPDATE board_approval SET outcome = 'approved', decided_by = 'user:2', decided_at = '2026-01-02 00:00:00' "
    "WHERE id = 2",
]

REFUSED = [
    "DELETE FROM carer WHERE id = 1",
    "UPDATE carer SET language = 'en' WHERE id = 1",
    "UPDATE user_account SET carer_id = NULL WHERE id = 2",
    "DELETE FROM proxy_appointment WHERE id = 1",
    "UPDATE proxy_appointment SET proxy_carer_id = NULL, proxy_member_id = 1 WHERE id = 1",
    "DELETE FROM member WHERE id = 2",
    "UPDATE member SET language = 'en' WHERE id = 1",
    "UPDATE member SET admitted_at = '2025-01-01 00:00:00' WHERE id = 1",
    "UPDATE member SET status = 'active', left_at = NULL WHERE id = 2",
    "DELETE FROM member_invitation WHERE id = 1",
    "UPDATE member_invitation SET token_hash = 'h3' WHERE id = 2",
    "UPDATE member_invitation SET expires_at = '2027-01-01 00:00:00' WHERE id = 2",
    "UPDATE member_invitation SET used_at = NULL WHERE id = 1",
    "DELETE FROM user_account WHERE id = 1",
    "UPDATE user_account SET role = 'board' WHERE id = 1",
    "UPDATE user_account SET member_id = 2 WHERE id = 1",
    "DELETE FROM api_key WHERE id = 1",
    "UPDATE api_key SET org = 'Other' WHERE id = 1",
    "UPDATE api_key SET revoked_at = NULL WHERE id = 1",
    "DELETE FROM proposal WHERE id = 2",
    "UPDATE proposal SET closes_at = '2026-06-01 00:00:00' WHERE id = 2",
    "UPDATE proposal SET yes = 2 WHERE id = 1",
    "DELETE FROM vote WHERE id = 2",
    "UPDATE choice_version SET sensitive_yes_mask = 32 WHERE id = 1",
    "UPDATE choice_version SET opt_out = TRUE WHERE id = 1",
    "UPDATE vote SET vote = 'no' WHERE id = 1",
    "UPDATE vote SET member_id = 2 WHERE id = 2",
    "INSERT INTO vote (id, proposal_id, member_id, vote, cast_at, cast_by) VALUES "
    "(3, 1, 2, 'no', '2026-01-01 01:00:00', 'user:2')",
    "DELETE FROM board_approval WHERE id = 1",
    "UPDATE board_approval SET outcome = 'approved', decided_by = 'user:2' WHERE id = 1",
    "UPDATE board_approval SET pinned = 'other' WHERE id = 2",
    "UPDATE board_approval SET requested_by = 'user:2' WHERE id = 2",
    "UPDATE manifest_entry SET member_id = 2 WHERE member_id = 1",  # still append-only once rebuilt (0029)
    "DELETE FROM manifest_entry WHERE member_id = 1",
    "UPDATE manifest_entry SET pseudonym = 'q' WHERE manifest_id = 1",  # and once keyed by pseudonym (0030)
    "UPDATE manifest_member SET manifest_id = 2 WHERE member_id = 1",
    "DELETE FROM manifest_member WHERE member_id = 1",
]


def _seeded(db_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for statement in SEED:
            conn.exec_driver_sql(statement)
    return engine


@pytest.mark.parametrize("statement", ALLOWED)
def test_the_state_tables_allow_what_their_rules_allow(db_url: str, statement: str) -> None:
    engine = _seeded(db_url)
    with engine.begin() as conn:
        assert conn.exec_driver_sql(statement).rowcount == 1
    engine.dispose()


@pytest.mark.parametrize("statement", REFUSED)
def test_the_state_tables_refuse_what_their_rules_forbid(db_url: str, statement: str) -> None:
    engine = _seeded(db_url)
    with pytest.raises(DBAPIError, match=r"written once|append-only|the proposal is closed"), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()


def test_an_appointment_names_exactly_one_proxy(db_url: str) -> None:
    """A member or a carer, never both, never neither."""
    engine = _seeded(db_url)
    for member, carer in (("1", "1"), ("NULL", "NULL")):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO proxy_appointment (principal_id, purposes_mask, voting, valid_from, appointed_by, "
                "needs_acceptance, show_name, proxy_member_id, proxy_carer_id) VALUES "
                f"(1, 1, false, '2026-01-01 00:00:00', 'user:1', true, false, {member}, {carer})"
            )
    engine.dispose()


@pytest.mark.parametrize(
    "table",
    [
        "member",
        "member_invitation",
        "user_account",
        "api_key",
        "proposal",
        "vote",
        "board_approval",
        "carer",
        "proxy_appointment",
    ],
)
def test_the_state_tables_refuse_being_emptied(db_url: str, table: str) -> None:
    """TRUNCATE on PostgreSQL; on SQLite an unqualified DELETE is its truncate."""
    engine = _seeded(db_url)
    statement = f"TRUNCATE {table} CASCADE" if db_url.startswith("postgresql") else f"DELETE FROM {table}"
    with pytest.raises(DBAPIError, match="written once"), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()
