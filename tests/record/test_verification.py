"""``coop ledger verify`` reconciles every table of the record with the events that made it.

A varied cooperative (the demo's, plus leavers, re-invitations, revoked proxies and keys,
an extended and a revoked permit, a vote changed in an open proposal) is built once per
engine into a template database; each test gets a copy, lifts a table's guards with raw
SQL as anyone with database access can, alters a row, and expects verify to name the
table, the row and the event. Then the tail of the log: events no signed head covers,
and checkpoints an auditor kept.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from coop import demo
from coop.access import service as access_service
from coop.access.models import AccessWhat
from coop.auth import service as auth_service
from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.carers import invite
from coop.carers.service import NewCarer
from coop.choices import queries as choices_queries
from coop.choices import recount
from coop.choices import service as choices_service
from coop.choices.encoding import Preference
from coop.choices.service import ChoicePatch
from coop.cli import app, upgrade_database
from coop.db import Database, metadata
from coop.governance import voting
from coop.governance.documents import DocumentKind
from coop.governance.queries import require_in_force
from coop.members import details
from coop.members import service as members_service
from coop.members.models import Language
from coop.permits import service as permits_service
from coop.permits.models import Permit
from coop.proxies import service as proxies
from coop.record import parallel, reconcile
from coop.record.schemas import TreeHeadOut
from coop.record.verification import LEDGER, NOT_PROVEN, OUTSIDE_THE_RECORD, PARTS, tables, verify_record
from coop.settings import Settings, get_settings
from coop.types import utcnow
from coop.vocabulary.terms import Category, Purpose, UserType, mask
from ledger import log
from ledger import verify as ledger_verify
from ledger.verify import Report
from tests.conftest import ENGINES, make_settings, pg_admin, pg_db_url

runner = CliRunner()


def test_every_table_is_reconciled_or_listed_outside_the_record() -> None:
    reconciled = {t.name for t in tables()}
    listed = reconciled | set(PARTS) | set(LEDGER) | set(OUTSIDE_THE_RECORD)
    assert set(metadata().tables) - listed == set(), "add the table to coop/record/verification.py"
    assert listed - set(metadata().tables) == set()
    assert all(reason for reason in [*PARTS.values(), *OUTSIDE_THE_RECORD.values()])


def test_every_column_is_proven_or_listed_with_its_reason() -> None:
    for table in tables():
        columns = {c.name for c in metadata().tables[table.name].columns}
        unproven = set(NOT_PROVEN.get(table.name, {}))
        assert columns == set(table.proves) | unproven, table.name
        assert not set(table.proves) & unproven, table.name


@dataclass
class Cooperative:
    database: Database
    facts: dict[str, int]

    def verify(self, **kwargs: Any) -> Report:
        db = self.database
        kwargs.setdefault("now", utcnow())
        with db.unit_of_work(write=False) as s:
            return verify_record(s.connection(), db.settings, {db.signer.key_id: db.signer.public_key}, **kwargs)

    def one(self, sql: str) -> Any:
        with self.database.unit_of_work(write=False) as s:
            return s.execute(text(sql)).scalar_one()

    def seq(self, subject: str, types: str, nth: int = -1) -> int:
        """The sequence number of the ``nth`` event about ``subject`` whose type starts with ``types``."""
        with self.database.unit_of_work(write=False) as s:
            return [e.seq for e in log.events_of(s, subject) if e.type.startswith(types)][nth]

    def tamper(self, table: str, *statements: str) -> None:
        """What anyone with database access can do: lift the table's guards, change rows."""
        with self.database.write_engine.begin() as conn:
            if self.database.dialect == "postgresql":
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            else:
                triggers = conn.exec_driver_sql(
                    f"SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '{table}'"
                ).scalars()
                for name in list(triggers):
                    conn.exec_driver_sql(f"DROP TRIGGER {name}")
            for statement in statements:
                conn.exec_driver_sql(
                    statement.replace("%", "%%") if self.database.dialect == "postgresql" else statement
                )


def _build(db: Database) -> dict[str, int]:
    """The demo cooperative, and what it lacks: a leaver, a re-invitation, a revoked proxy and
    key, an extended and a revoked permit, an open proposal with a changed vote, a corrected
    name and a new email address."""
    demo.seed(db, 12)
    auth = db.settings.auth
    board = Actor("user", 1, Role.board)
    facts: dict[str, int] = {}
    with db.unit_of_work() as s:
        newcomer, _ = members_service.admit(s, board, auth, "New Comer", "newcomer@coop-test.nl", Language.en, utcnow())
        assert newcomer.id is not None
        members_service.reinvite(s, board, auth, newcomer.id, utcnow())
        facts["newcomer"] = newcomer.id
        joiner, invited = members_service.admit(s, board, auth, "Joi Ner", "joiner@coop-test.nl", Language.nl, utcnow())
        account = members_service.accept_invitation(s, auth, invited.token, "a long enough password", utcnow())
        assert joiner.id is not None and account.id is not None
        facts["joiner"] = joiner.id
        joined = Actor("user", account.id, Role.member, member_id=joiner.id)
        auth_service.change_password(
            s, joined, auth, "a long enough password", "another long enough password", now=utcnow()
        )
        details.rename(s, joined, joiner.id, "Joi Ner-Jansen", utcnow())  # personal data: events name nobody
        details.request_email_change(s, joined, db.settings.mail, joiner.id, "joiner@elsewhere.nl", utcnow())
        [link] = s.execute(
            text(
                "SELECT context FROM mail_outbox WHERE kind = 'email-change-confirm' "
                "AND recipient = 'joiner@elsewhere.nl'"
            )
        ).scalars()
        details.confirm_email_change(s, json.loads(link)["token"], utcnow())
        members_service.leave(s, board, 12, utcnow())
        facts["leaver"] = 12
        nine = Actor("user", 10, Role.member, member_id=9)
        current = choices_queries.read(s, nine, 9, utcnow())
        changed = choices_service.change(s, nine, 9, ChoicePatch(opt_out=not current.opt_out), None, utcnow())
        facts["opted_out"], facts["opt_out_version"] = 9, changed.version
        six = Actor("user", 7, Role.member, member_id=6)
        genetic = ChoicePatch(sensitive_yes=frozenset({Category.genetic}))
        yes = choices_service.change(s, six, 6, genetic, None, utcnow())
        facts["sensitive_yes"], facts["sensitive_yes_version"] = 6, yes.version
        eight = Actor("user", 9, Role.member, member_id=8)
        appointment = proxies.appoint(
            s, eight, 8, 1, [Purpose.care_improvement], None, True, db.settings.choices.proxy_max_depth, utcnow()
        )
        assert appointment.id is not None
        proxies.accept(s, Actor("user", 2, Role.member, member_id=1), 1, appointment.id, utcnow())
        proxies.revoke(s, eight, 8, appointment.id, utcnow())
        facts["revoked_proxy"] = appointment.id
        six = Actor("user", 7, Role.member, member_id=6)
        pending = proxies.appoint(s, six, 6, 2, None, None, False, db.settings.choices.proxy_max_depth, utcnow())
        assert pending.id is not None
        facts["pending_proxy"] = pending.id
        seven = Actor("user", 8, Role.member, member_id=7)
        proxies.appoint(
            s, seven, 7, 11, [Purpose.education], None, False, db.settings.choices.proxy_max_depth, utcnow()
        )
        members_service.leave(s, board, 11, utcnow())  # a proxy who leaves ends the appointment
        five = Actor("user", 6, Role.member, member_id=5)
        carla = NewCarer("Carla Zorg", "carla@coop-test.nl", Language.en)
        cared = invite.appoint_carer(s, five, db.settings, 5, carla, None, None, True, utcnow())
        assert cared.id is not None and cared.proxy_carer_id is not None
        carer_login = s.execute(text(f"SELECT id FROM user_account WHERE carer_id = {cared.proxy_carer_id}")).scalar()
        carer = Actor("user", int(carer_login), Role.carer, carer_id=cared.proxy_carer_id)
        proxies.accept(s, carer, None, cared.id, utcnow())
        deny = ChoicePatch(preferences=((Purpose.research, UserType.academic, Preference.deny),))
        by_carer = choices_service.change(s, carer, 5, deny, None, utcnow())
        facts["carer_proxy"], facts["carer"], facts["carer_version"] = cared.id, cared.proxy_carer_id, by_carer.version
        key = auth_service.create_api_key(s, CLI_ACTOR, "Holder BV", "data_holder", now=utcnow()).key
        assert key.id is not None
        auth_service.revoke_api_key(s, CLI_ACTOR, key.id, now=utcnow())
        facts["revoked_key"] = key.id
        hdab = Actor("key", 1, Role.hdab)
        first = s.get(Permit, 1)
        assert first is not None
        permits_service.extend(s, hdab, 1, first.valid_until + timedelta(days=365), utcnow())
        permits_service.revoke(s, hdab, 2, "the applicant withdrew", utcnow())
        policy = require_in_force(s, DocumentKind.benefit_policy, utcnow()).document.model_dump(mode="json")
        proposal = voting.open_proposal(
            s,
            board,
            voting.NewProposal(
                "Still open", DocumentKind.benefit_policy, policy, utcnow(), utcnow() + timedelta(hours=1), 10, 50
            ),
            utcnow(),
        )
        assert proposal.id is not None
        facts["open_proposal"] = proposal.id
    with db.unit_of_work() as s:
        anna = Actor("user", 2, Role.member, member_id=1)
        voting.cast(s, anna, proposal.id, voting.Choice.yes, None, False, utcnow())
        voting.cast(s, anna, proposal.id, voting.Choice.no, None, True, utcnow())
        voting.cast(s, carer, proposal.id, voting.Choice.yes, 5, False, utcnow())  # for member 5
    with db.unit_of_work() as s:  # reads of members' data by others: a page, a list, a manifest
        for name, reader, read in (
            ("access_page", board, access_service.Read(AccessWhat.member_page, member_id=3)),
            ("access_list", board, access_service.Read(AccessWhat.member_list, members=[1, 2, 3])),
            ("access_manifest", hdab, access_service.Read(AccessWhat.manifest, manifest_id=1)),
        ):
            row = access_service.record(s, reader, read, utcnow())
            assert row is not None and row.id is not None
            facts[name] = row.id
    return facts


@dataclass
class Template:
    engine: str
    location: str
    keys: Path
    facts: dict[str, int]


@pytest.fixture(scope="module", params=ENGINES)
def template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, worker_tag: str
) -> Iterator[Template]:
    home = tmp_path_factory.mktemp("cooperative")
    if request.param == "sqlite":
        location = str(home / "cooperative.db")
        url = f"sqlite:///{location}"
    else:
        location = f"coop_coop_{worker_tag}"
        with pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{location}"')
        url = pg_db_url(location)
    upgrade_database(url)
    db = Database(make_settings(url, home))
    try:
        facts = _build(db)
    finally:
        db.dispose()
    yield Template(request.param, location, home, facts)
    if request.param == "postgresql":
        with pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{location}" WITH (FORCE)')


@pytest.fixture
def cooperative(template: Template, tmp_path: Path, worker_tag: str) -> Iterator[Cooperative]:
    """A fresh copy of the varied cooperative."""
    if template.engine == "sqlite":
        target = tmp_path / "coop.db"
        shutil.copyfile(template.location, target)
        url, name = f"sqlite:///{target}", None
    else:
        name = f"coop_t_{worker_tag}_{tmp_path.name}"[:63]
        with pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.location}"')
        url = pg_db_url(name)
    db = Database(make_settings(url, template.keys))
    try:
        yield Cooperative(db, template.facts)
    finally:
        db.dispose()
        if name:
            with pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_varied_cooperative_verifies_clean(cooperative: Cooperative) -> None:
    report = cooperative.verify()
    assert report.ok, report.problems
    assert report.warnings == []
    record = [t for t in metadata().tables if t not in OUTSIDE_THE_RECORD]
    counts = {t: cooperative.one(f"SELECT count(*) FROM {t}") for t in record}
    assert [t for t, n in counts.items() if n == 0] == [], "the cooperative leaves a table of the record empty"


@dataclass(frozen=True)
class Alteration:
    table: str
    statements: Callable[[Cooperative], list[str]]
    named: str
    """The table verify names."""
    row: Callable[[Cooperative], str]
    event: Callable[[Cooperative], int | None]


def _choice_seq(c: Cooperative, member: int, version: int) -> int:
    return c.seq(f"member:{member}", "choices.", version - 1)


def _payment(c: Cooperative) -> str:
    return str(c.one("SELECT min(id) FROM money_entry WHERE id LIKE 'payment:%'"))


def _first_in(c: Cooperative, manifest_id: int) -> int:
    return int(c.one(f"SELECT min(member_id) FROM manifest_entry WHERE manifest_id = {manifest_id}"))


def _entry_seq(c: Cooperative, entry: str) -> int:
    return int(c.one(f"SELECT ledger_seq FROM money_entry WHERE id = '{entry}'"))


def _sharer(c: Cooperative) -> int:
    """A member paid a dividend to their own account."""
    return int(c.one("SELECT min(member_id) FROM distribution_member WHERE cents > 0 AND NOT donated"))


def _vote_of_closed(c: Cooperative) -> int:
    return int(c.one("SELECT min(member_id) FROM vote WHERE proposal_id = 1"))


def _event_with(c: Cooperative, subject: str, types: str, field: str, value: int) -> int:
    """The newest event about ``subject`` of ``types`` whose payload has ``field`` = ``value``."""
    with c.database.unit_of_work(write=False) as s:
        events = [e for e in log.events_of(s, subject) if e.type.startswith(types)]
    return [e.seq for e in events if json.loads(e.payload).get(field) == value][-1]


def _first_invitation(c: Cooperative) -> int:
    return int(c.one(f"SELECT min(id) FROM member_invitation WHERE member_id = {c.facts['newcomer']}"))


def _newest_invitation(c: Cooperative, who: str) -> int:
    return int(c.one(f"SELECT max(id) FROM member_invitation WHERE member_id = {c.facts[who]}"))


def _accepted_login(c: Cooperative) -> int:
    """The login of the member who accepted their invitation."""
    return int(
        c.one(
            "SELECT u.id FROM user_account u JOIN member_invitation i ON i.member_id = u.member_id "
            "WHERE i.used_at IS NOT NULL"
        )
    )


def _bank_opened(c: Cooperative) -> int:
    return int(c.one("SELECT ledger_seq FROM money_account WHERE code = 'assets:bank'"))


def _extraction(c: Cooperative) -> int:
    return int(c.one("SELECT min(id) FROM usage_event WHERE manifest_id = 1 AND kind = 'extraction'"))


def _usage(c: Cooperative) -> int:
    return int(c.one("SELECT max(id) FROM usage_event WHERE kind = 'access'"))


ALTERATIONS = {
    "a member's opt-out flipped": Alteration(
        "choice_version",
        lambda c: [
            f"UPDATE choice_version SET opt_out = NOT opt_out "
            f"WHERE member_id = {c.facts['opted_out']} AND version = {c.facts['opt_out_version']}"
        ],
        "choice_version",
        lambda c: f"member_id={c.facts['opted_out']} version={c.facts['opt_out_version']}",
        lambda c: _choice_seq(c, c.facts["opted_out"], c.facts["opt_out_version"]),
    ),
    "a member's yes for sensitive data taken away": Alteration(
        "choice_version",
        lambda c: [
            f"UPDATE choice_version SET sensitive_yes_mask = 0 "
            f"WHERE member_id = {c.facts['sensitive_yes']} AND version = {c.facts['sensitive_yes_version']}"
        ],
        "choice_version",
        lambda c: f"member_id={c.facts['sensitive_yes']} version={c.facts['sensitive_yes_version']}",
        lambda c: _choice_seq(c, c.facts["sensitive_yes"], c.facts["sensitive_yes_version"]),
    ),
    "a yes for sensitive data the member never gave": Alteration(
        "choice_version",
        lambda c: [
            f"UPDATE choice_version SET sensitive_yes_mask = {mask([Category.biobanks])} "
            f"WHERE member_id = {c.facts['opted_out']} AND version = {c.facts['opt_out_version']}"
        ],
        "choice_version",
        lambda c: f"member_id={c.facts['opted_out']} version={c.facts['opt_out_version']}",
        lambda c: _choice_seq(c, c.facts["opted_out"], c.facts["opt_out_version"]),
    ),
    "a choice version deleted": Alteration(
        "choice_version",
        lambda c: [
            f"DELETE FROM choice_version WHERE member_id = {c.facts['opted_out']} "
            f"AND version = {c.facts['opt_out_version']}",
            f"UPDATE choice_version SET valid_to = NULL WHERE member_id = {c.facts['opted_out']} "
            f"AND version = {c.facts['opt_out_version'] - 1}",
        ],
        "choice_version",
        lambda c: f"member_id={c.facts['opted_out']}",
        lambda c: _choice_seq(c, c.facts["opted_out"], c.facts["opt_out_version"]),
    ),
    "balanced postings multiplied by 10": Alteration(
        "money_posting",
        lambda c: [f"UPDATE money_posting SET amount_cents = amount_cents * 10 WHERE entry_id = '{_payment(c)}'"],
        "money_posting",
        lambda c: f"of money_entry id={_payment(c)}",
        lambda c: _entry_seq(c, _payment(c)),
    ),
    "a dividend moved to another member": Alteration(
        "distribution_member",
        lambda c: [f"UPDATE distribution_member SET member_id = {c.facts['newcomer']} WHERE member_id = {_sharer(c)}"],
        "distribution_member",
        lambda c: "of distribution id=1",
        lambda c: c.seq("distribution:1", "distribution.drafted"),
    ),
    "a dividend's payout moved to another member's account": Alteration(
        "money_posting",
        lambda c: [
            f"UPDATE money_posting SET account = 'liabilities:members:{c.facts['newcomer']}' "
            f"WHERE entry_id = 'distribution:1' AND account = 'liabilities:members:{_sharer(c)}'"
        ],
        "money_posting",
        lambda c: "of money_entry id=distribution:1",
        lambda c: _entry_seq(c, "distribution:1"),
    ),
    "a manifest entry added": Alteration(
        "manifest_entry",
        lambda c: [
            "INSERT INTO manifest_entry (member_id, manifest_id, pseudonym) "
            f"SELECT {c.facts['newcomer']}, 1, pseudonym FROM manifest_entry WHERE manifest_id = 2 "
            "AND pseudonym NOT IN (SELECT pseudonym FROM manifest_entry WHERE manifest_id = 1) LIMIT 1"
        ],
        "manifest_entry",
        lambda c: "manifest_id=1",
        lambda c: int(c.one("SELECT ledger_seq FROM manifest WHERE id = 1")),
    ),
    "a manifest entry deleted": Alteration(
        "manifest_entry",
        lambda c: [
            "DELETE FROM manifest_entry WHERE manifest_id = 1 "
            "AND member_id = (SELECT min(member_id) FROM manifest_entry WHERE manifest_id = 1)"
        ],
        "manifest_entry",
        lambda c: "manifest_id=1",
        lambda c: int(c.one("SELECT ledger_seq FROM manifest WHERE id = 1")),
    ),
    "entries of a manifest that does not exist": Alteration(  # no foreign key stops them (0029)
        "manifest_entry",
        lambda c: [
            "INSERT INTO manifest_entry (member_id, manifest_id, pseudonym) "
            "SELECT member_id, 999, pseudonym FROM manifest_entry WHERE manifest_id = 1"
        ],
        "manifest_entry",
        lambda c: "manifest_id=999",
        lambda c: None,
    ),
    "a member added to a manifest's members index": Alteration(
        "manifest_member",
        lambda c: [f"INSERT INTO manifest_member (member_id, manifest_id) VALUES ({c.facts['newcomer']}, 1)"],
        "manifest_member",
        lambda c: f"manifest_id=1 member_id={c.facts['newcomer']}",
        lambda c: int(c.one("SELECT ledger_seq FROM manifest WHERE id = 1")),
    ),
    "a member missing from a manifest's members index": Alteration(
        "manifest_member",
        lambda c: [f"DELETE FROM manifest_member WHERE manifest_id = 1 AND member_id = {_first_in(c, 1)}"],
        "manifest_member",
        lambda c: f"manifest_id=1 member_id={_first_in(c, 1)}",
        lambda c: int(c.one("SELECT ledger_seq FROM manifest WHERE id = 1")),
    ),
    "a member's index row pointing to another manifest": Alteration(
        "manifest_member",
        lambda c: [
            f"UPDATE manifest_member SET manifest_id = 999 WHERE manifest_id = 1 AND member_id = {_first_in(c, 1)}"
        ],
        "manifest_member",
        lambda c: f"manifest_id=1 member_id={_first_in(c, 1)}",  # and manifest_id=999, without an event
        lambda c: int(c.one("SELECT ledger_seq FROM manifest WHERE id = 1")),
    ),
    "a manifest's size changed": Alteration(
        "manifest",
        lambda c: ["UPDATE manifest SET size = size + 1 WHERE id = 1"],
        "manifest",
        lambda c: "id=1",
        lambda c: int(c.one("SELECT ledger_seq FROM manifest WHERE id = 1")),
    ),
    "a manifest's member set changed": Alteration(
        "manifest_member_set",
        lambda c: [
            "UPDATE manifest_member_set SET bits = (SELECT m.bits FROM manifest_member_set m WHERE m.bits <> "
            "(SELECT bits FROM manifest_member_set WHERE manifest_id = 1) ORDER BY m.manifest_id LIMIT 1) "
            "WHERE manifest_id = 1"  # another manifest's members
        ],
        "manifest_member_set",
        lambda c: "of manifest id=1",
        lambda c: int(c.one("SELECT ledger_seq FROM manifest WHERE id = 1")),
    ),
    "a permit's validity extended": Alteration(
        "permit",
        lambda c: ["UPDATE permit SET valid_until = (SELECT extended_until FROM permit WHERE id = 1) WHERE id = 3"],
        "permit",
        lambda c: "id=3",
        lambda c: c.seq("permit:3", "permit.registered"),
    ),
    "a permit extended without an event": Alteration(
        "permit",
        lambda c: ["UPDATE permit SET extended_until = (SELECT extended_until FROM permit WHERE id = 1) WHERE id = 4"],
        "permit",
        lambda c: "id=4",
        lambda c: None,
    ),
    "a data holder added to a permit": Alteration(
        "permit",
        lambda c: ["""UPDATE permit SET data_holders = '["Intruder BV"]' WHERE id = 1"""],
        "permit",
        lambda c: "id=1",
        lambda c: c.seq("permit:1", "permit.registered"),
    ),
    "a consultation's position changed": Alteration(
        "consultation",
        lambda c: [
            "UPDATE consultation SET position = "
            "CASE WHEN position = 'support' THEN 'object' ELSE 'support' END WHERE id = 1"
        ],
        "consultation",
        lambda c: "id=1",
        lambda c: int(c.one("SELECT ledger_seq FROM consultation WHERE id = 1")),
    ),
    "a usage report deleted": Alteration(
        "usage_event",
        lambda c: [f"DELETE FROM usage_event WHERE id = {_usage(c)}"],
        "usage_event",
        lambda c: f"id={_usage(c)}",
        lambda c: _event_with(
            c,
            f"permit:{c.one(f'SELECT permit_id FROM usage_event WHERE id = {_usage(c)}')}",
            "usage.",
            "usage_id",
            _usage(c),
        ),
    ),
    "a vote of a closed proposal changed": Alteration(
        "vote",
        lambda c: [
            f"UPDATE vote SET vote = CASE WHEN vote = 'yes' THEN 'no' ELSE 'yes' END "
            f"WHERE proposal_id = 1 AND member_id = {_vote_of_closed(c)}"
        ],
        "vote",
        lambda c: f"proposal_id=1 member_id={_vote_of_closed(c)}",
        lambda c: _event_with(c, "proposal:1", "vote.", "member_id", _vote_of_closed(c)),
    ),
    "a carer's vote for a member unnamed": Alteration(
        "vote",
        lambda c: [
            f"UPDATE vote SET proxy_carer_id = NULL WHERE proposal_id = {c.facts['open_proposal']} AND member_id = 5"
        ],
        "vote",
        lambda c: f"proposal_id={c.facts['open_proposal']} member_id=5",
        lambda c: _event_with(c, f"proposal:{c.facts['open_proposal']}", "vote.", "member_id", 5),
    ),
    "a carer's change of a member's choices unnamed": Alteration(
        "choice_version",
        lambda c: [
            "UPDATE choice_version SET acting_carer_id = NULL "
            f"WHERE member_id = 5 AND version = {c.facts['carer_version']}"
        ],
        "choice_version",
        lambda c: f"member_id=5 version={c.facts['carer_version']}",
        lambda c: _choice_seq(c, 5, c.facts["carer_version"]),
    ),
    "a carer's appointment given to a member": Alteration(
        "proxy_appointment",
        lambda c: [
            "UPDATE proxy_appointment SET proxy_carer_id = NULL, proxy_member_id = 1 "
            f"WHERE id = {c.facts['carer_proxy']}"
        ],
        "proxy_appointment",
        lambda c: f"id={c.facts['carer_proxy']}",
        lambda c: _event_with(c, "member:5", "proxy.appointed", "appointment_id", c.facts["carer_proxy"]),
    ),
    "a carer's language changed": Alteration(
        "carer",
        lambda c: [f"UPDATE carer SET language = 'nl' WHERE id = {c.facts['carer']}"],
        "carer",
        lambda c: f"id={c.facts['carer']}",
        lambda c: c.seq(f"carer:{c.facts['carer']}", "carer.registered"),
    ),
    "a changed vote set back": Alteration(
        "vote",
        lambda c: [f"UPDATE vote SET vote = 'yes' WHERE proposal_id = {c.facts['open_proposal']} AND member_id = 1"],
        "vote",
        lambda c: f"proposal_id={c.facts['open_proposal']} member_id=1",
        lambda c: c.seq(f"proposal:{c.facts['open_proposal']}", "vote.changed"),
    ),
    "a distribution share changed": Alteration(
        "distribution_member",
        lambda c: [f"UPDATE distribution_member SET cents = cents + 100 WHERE member_id = {_sharer(c)}"],
        "distribution_member",
        lambda c: "of distribution id=1",
        lambda c: c.seq("distribution:1", "distribution.drafted"),
    ),
    "a distribution's permit split changed": Alteration(
        "distribution_permit",
        lambda c: ["UPDATE distribution_permit SET pool_cents = pool_cents + 1 WHERE permit_id = 1"],
        "distribution_permit",
        lambda c: "of distribution id=1",
        lambda c: c.seq("distribution:1", "distribution.drafted"),
    ),
    "a proxy appointment changed": Alteration(
        "proxy_appointment",
        lambda c: [f"UPDATE proxy_appointment SET purposes_mask = 1 WHERE id = {c.facts['revoked_proxy']}"],
        "proxy_appointment",
        lambda c: f"id={c.facts['revoked_proxy']}",
        lambda c: c.seq("member:8", "proxy.appointed"),
    ),
    "a proxy revocation undone": Alteration(
        "proxy_appointment",
        lambda c: [f"UPDATE proxy_appointment SET revoked_at = NULL WHERE id = {c.facts['revoked_proxy']}"],
        "proxy_appointment",
        lambda c: f"id={c.facts['revoked_proxy']}",
        lambda c: c.seq("member:8", "proxy.revoked"),
    ),
    "a proxy's yes made up": Alteration(
        "proxy_appointment",
        lambda c: [f"UPDATE proxy_appointment SET accepted_at = valid_from WHERE id = {c.facts['pending_proxy']}"],
        "proxy_appointment",
        lambda c: f"id={c.facts['pending_proxy']}",
        lambda c: None,
    ),
    "a proxy's yes moved in time": Alteration(
        "proxy_appointment",
        lambda c: [
            "UPDATE proxy_appointment SET accepted_at = (SELECT min(admitted_at) FROM member) "
            f"WHERE id = {c.facts['revoked_proxy']}"
        ],
        "proxy_appointment",
        lambda c: f"id={c.facts['revoked_proxy']}",
        lambda c: c.seq("member:8", "proxy.accepted"),
    ),
    "a proxy's need to accept removed": Alteration(
        "proxy_appointment",
        lambda c: [
            "UPDATE proxy_appointment SET needs_acceptance = false, accepted_at = valid_from "
            f"WHERE id = {c.facts['pending_proxy']}"
        ],
        "proxy_appointment",
        lambda c: f"id={c.facts['pending_proxy']}",
        lambda c: c.seq("member:6", "proxy.appointed"),
    ),
    "the mandate text changed": Alteration(
        "governance_document",
        lambda c: [
            """UPDATE governance_document SET body = replace(body, '"deny"', '"allow"') """
            "WHERE kind = 'mandate' AND version = 1"
        ],
        "governance_document",
        lambda c: "kind=mandate version=1",
        lambda c: c.seq("mandate:1", "mandate.adopted"),
    ),
    "a member's departure undone": Alteration(
        "member",
        lambda c: [f"UPDATE member SET status = 'active', left_at = NULL WHERE id = {c.facts['leaver']}"],
        "member",
        lambda c: f"id={c.facts['leaver']}",
        lambda c: c.seq(f"member:{c.facts['leaver']}", "member.left"),
    ),
    "a former member's erasure made up": Alteration(
        "member",
        lambda c: [f"UPDATE member SET contact_erased_at = left_at WHERE id = {c.facts['leaver']}"],
        "member",
        lambda c: f"id={c.facts['leaver']}",
        lambda c: None,
    ),
    "a member added without admission": Alteration(
        "member",
        lambda c: [
            "INSERT INTO member (id, name, email, language, status, admitted_at) "
            "SELECT 999, 'Ghost', 'ghost@coop-test.nl', language, status, admitted_at FROM member WHERE id = 1"
        ],
        "member",
        lambda c: "id=999",
        lambda c: None,
    ),
    "a withdrawn invitation revived": Alteration(
        "member_invitation",
        lambda c: [f"UPDATE member_invitation SET withdrawn_at = NULL WHERE member_id = {c.facts['newcomer']}"],
        "member_invitation",
        lambda c: f"id={_first_invitation(c)}",
        lambda c: None,
    ),
    "a leaver's invitation withdrawn before they left": Alteration(
        "member_invitation",
        lambda c: [
            f"UPDATE member_invitation SET withdrawn_at = created_at WHERE id = {_newest_invitation(c, 'leaver')}"
        ],
        "member_invitation",
        lambda c: f"id={_newest_invitation(c, 'leaver')}",
        lambda c: None,
    ),
    "a staying member's invitation withdrawn": Alteration(
        "member_invitation",
        lambda c: [
            f"UPDATE member_invitation SET withdrawn_at = created_at WHERE id = {_newest_invitation(c, 'newcomer')}"
        ],
        "member_invitation",
        lambda c: f"id={_newest_invitation(c, 'newcomer')}",
        lambda c: None,
    ),
    "an invitation's expiry moved": Alteration(
        "member_invitation",
        lambda c: [f"UPDATE member_invitation SET expires_at = created_at WHERE id = {_first_invitation(c)}"],
        "member_invitation",
        lambda c: f"id={_first_invitation(c)}",
        lambda c: c.seq(f"member:{c.facts['newcomer']}", "member.invited", 0),
    ),
    "a member's choices said to have ended": Alteration(
        "choice_version",
        lambda c: [
            f"UPDATE choice_version SET is_member = false WHERE member_id = {c.facts['opted_out']} "
            f"AND version = {c.facts['opt_out_version']}"
        ],
        "choice_version",
        lambda c: f"member_id={c.facts['opted_out']} version={c.facts['opt_out_version']}",
        lambda c: _choice_seq(c, c.facts["opted_out"], c.facts["opt_out_version"]),
    ),
    "an invitation's use moved": Alteration(
        "member_invitation",
        lambda c: ["UPDATE member_invitation SET used_at = expires_at WHERE used_at IS NOT NULL"],
        "member_invitation",
        lambda c: f"of user_account id={_accepted_login(c)}",
        lambda c: c.seq(f"user:{_accepted_login(c)}", "account.created"),
    ),
    "a login made board": Alteration(
        "user_account",
        lambda c: ["UPDATE user_account SET role = 'board' WHERE member_id = 1"],
        "user_account",
        lambda c: f"id={c.one('SELECT id FROM user_account WHERE member_id = 1')}",
        lambda c: c.seq(f"user:{c.one('SELECT id FROM user_account WHERE member_id = 1')}", "account.created"),
    ),
    "an API key's revocation undone": Alteration(
        "api_key",
        lambda c: [f"UPDATE api_key SET revoked_at = NULL WHERE id = {c.facts['revoked_key']}"],
        "api_key",
        lambda c: f"id={c.facts['revoked_key']}",
        lambda c: c.seq(f"key:{c.facts['revoked_key']}", "api-key.revoked"),
    ),
    "a proposal's tally changed": Alteration(
        "proposal",
        lambda c: ["UPDATE proposal SET yes = yes + 5 WHERE id = 1"],
        "proposal",
        lambda c: "id=1",
        lambda c: c.seq("proposal:1", "proposal.closed"),
    ),
    "a result's title changed": Alteration(
        "result",
        lambda c: ["UPDATE result SET title = 'Something else' WHERE id = 1"],
        "result",
        lambda c: "id=1",
        lambda c: _event_with(
            c, f"permit:{c.one('SELECT permit_id FROM result WHERE id = 1')}", "result.", "result_id", 1
        ),
    ),
    "an account's kind changed": Alteration(
        "money_account",
        lambda c: ["UPDATE money_account SET kind = 'income' WHERE code = 'assets:bank'"],
        "money_account",
        lambda c: f"ledger_seq={_bank_opened(c)} (1 accounts)",
        lambda c: _bank_opened(c),
    ),
    "a distribution's reserve changed": Alteration(
        "distribution",
        lambda c: ["UPDATE distribution SET reserve_cents = reserve_cents + 1 WHERE id = 1"],
        "distribution",
        lambda c: "id=1",
        lambda c: c.seq("distribution:1", "distribution.drafted"),
    ),
    "a commit's approval given to its asker": Alteration(
        "board_approval",
        lambda c: ["UPDATE board_approval SET decided_by = requested_by WHERE id = 1"],
        "board_approval",
        lambda c: "id=1",
        lambda c: c.seq("approval:1", "approval.approved"),
    ),
    "a board's read made to look like a proxy's": Alteration(
        "access_record",
        lambda c: [f"UPDATE access_record SET role = 'proxy' WHERE id = {c.facts['access_page']}"],
        "access_record",
        lambda c: f"id={c.facts['access_page']}",
        lambda c: c.seq(f"access:{c.facts['access_page']}", "access.recorded"),
    ),
    "a read moved to another member": Alteration(
        "access_record",
        lambda c: [f"UPDATE access_record SET member_id = 4 WHERE id = {c.facts['access_page']}"],
        "access_record",
        lambda c: f"id={c.facts['access_page']}",
        lambda c: c.seq(f"access:{c.facts['access_page']}", "access.recorded"),
    ),
    "a manifest download erased": Alteration(
        "access_record",
        lambda c: [f"DELETE FROM access_record WHERE id = {c.facts['access_manifest']}"],
        "access_record",
        lambda c: f"id={c.facts['access_manifest']}",
        lambda c: c.seq(f"access:{c.facts['access_manifest']}", "access.recorded"),
    ),
    "a member taken off a list the board read": Alteration(
        "access_record_member",
        lambda c: [f"DELETE FROM access_record_member WHERE record_id = {c.facts['access_list']} AND member_id = 2"],
        "access_record_member",
        lambda c: f"of access_record id={c.facts['access_list']}",
        lambda c: c.seq(f"access:{c.facts['access_list']}", "access.recorded"),
    ),
    "a manifest check changed": Alteration(
        "manifest_check",
        lambda c: ["UPDATE manifest_check SET ineligible = ineligible + 3 WHERE manifest_id = 1"],
        "manifest_check",
        lambda c: f"of usage_event id={_extraction(c)}",
        lambda c: _event_with(
            c, f"permit:{c.one('SELECT permit_id FROM manifest WHERE id = 1')}", "usage.", "usage_id", _extraction(c)
        ),
    ),
}


@pytest.mark.parametrize("alteration", list(ALTERATIONS), ids=list(ALTERATIONS))
def test_verify_names_the_table_row_and_event_of_an_alteration(cooperative: Cooperative, alteration: str) -> None:
    case = ALTERATIONS[alteration]
    row, event = case.row(cooperative), case.event(cooperative)
    cooperative.tamper(case.table, *case.statements(cooperative))
    report = cooperative.verify()
    assert not report.ok
    found = [d for d in report.disagreements if (d.table, d.row, d.seq) == (case.named, row, event)]
    assert found, report.problems
    assert report.first_disagreement == found[0]


def test_a_proxy_left_revocation_is_accepted(cooperative: Cooperative) -> None:
    """When a proxy leaves, their appointments end with a revocation that says why."""
    with cooperative.database.unit_of_work() as s:
        seven = Actor("user", 8, Role.member, member_id=7)
        appointment = proxies.appoint(s, seven, 7, 2, None, None, False, 3, utcnow())
        appointment.revoked_at = utcnow()
        s.flush()
        log.append(
            s,
            "proxy.revoked",
            "user:1",
            "member:7",
            {"appointment_id": appointment.id, "reason": "proxy-left"},
            at=appointment.revoked_at,
        )
    report = cooperative.verify()
    assert report.ok, report.problems


def test_events_of_an_earlier_version_are_accepted_with_what_they_cannot_prove(cooperative: Cooperative) -> None:
    """A database made before events recorded every column: an API key's event without its
    organisation and prefix (rewritten here as that version wrote it, heads re-signed)."""
    key = cooperative.facts["revoked_key"]
    _as_an_earlier_version_recorded(cooperative, [cooperative.seq(f"key:{key}", "api-key.created")])
    report = cooperative.verify()
    assert report.ok, report.problems
    assert report.warnings == [
        "1 api_key rows were made by events recorded before this version, which do not record org, prefix: "
        "those are not proven"
    ]


@pytest.mark.parametrize("at_once", [2, 1000])
def test_an_earlier_version_s_log_is_read_back_in_batches(
    cooperative: Cooperative, monkeypatch: pytest.MonkeyPatch, at_once: int
) -> None:
    """On a log of an earlier version every row of a table is doubted and read back with its
    event, many in one query: each is still judged on its own, and what else disagrees is
    named among them."""
    with cooperative.database.unit_of_work() as s:
        for holder in ("Holder A", "Holder B", "Holder C", "Holder D", "Holder E"):
            auth_service.create_api_key(s, CLI_ACTOR, holder, "data_holder", now=utcnow())
    with cooperative.database.unit_of_work(write=False) as s:
        created = list(s.execute(text("SELECT seq FROM ledger_event WHERE type = 'api-key.created'")).scalars())
    assert len(created) == 8  # the demo's two, the revoked one and these five
    _as_an_earlier_version_recorded(cooperative, created)
    key = cooperative.facts["revoked_key"]
    cooperative.tamper("api_key", f"UPDATE api_key SET revoked_at = NULL WHERE id = {key}")
    monkeypatch.setattr("coop.record.walk.EXPLAINED_AT_ONCE", at_once)
    report = cooperative.verify()
    revoked = cooperative.seq(f"key:{key}", "api-key.revoked")
    assert [(d.table, d.row, d.seq) for d in report.disagreements] == [("api_key", f"id={key}", revoked)]
    assert report.warnings == [
        "8 api_key rows were made by events recorded before this version, which do not record org, prefix: "
        "those are not proven"
    ]


def _as_an_earlier_version_recorded(cooperative: Cooperative, seqs: list[int]) -> None:
    """Rewrite API keys' ``api-key.created`` events as an earlier version recorded them,
    without organisation and prefix, and store the tree and sign the head again."""
    db = cooperative.database
    from ledger import canonical
    from ledger.events import event_bytes
    from ledger.merkle import leaf_hash

    with db.write_engine.begin() as conn:
        for t in ("ledger_event", "ledger_node", "ledger_tree_head"):
            if db.dialect == "postgresql":
                conn.exec_driver_sql(f"ALTER TABLE {t} DISABLE TRIGGER USER")
            else:
                for name in list(
                    conn.exec_driver_sql(
                        f"SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='{t}'"
                    ).scalars()
                ):
                    conn.exec_driver_sql(f"DROP TRIGGER {name}")
        for seq in seqs:
            time, typ, actor, subject, payload = conn.exec_driver_sql(
                f"SELECT recorded_at, type, actor, subject, payload FROM ledger_event WHERE seq = {seq}"
            ).one()
            old = canonical.dumps({"role": canonical.loads(payload)["role"]})
            mark = "%s" if db.dialect == "postgresql" else "?"
            conn.exec_driver_sql(
                f"UPDATE ledger_event SET payload = {mark}, leaf_hash = {mark} WHERE seq = {mark}",
                (old, leaf_hash(event_bytes(seq, time, typ, actor, subject, old)), seq),
            )
        conn.exec_driver_sql("DELETE FROM ledger_node")
        conn.exec_driver_sql("DELETE FROM ledger_tree_head")
    _rebuild_tree(db)


def _rebuild_tree(db: Database) -> None:
    """Store the subtrees again and sign the head, as the earlier version had."""
    from ledger import merkle
    from ledger.models import STORED_FROM_LEVEL

    mark = "%s" if db.dialect == "postgresql" else "?"
    with db.write_engine.begin() as conn:
        nodes: dict = {}
        tree = merkle.CompactRange(on_node=nodes.__setitem__)
        for (leaf,) in conn.exec_driver_sql("SELECT leaf_hash FROM ledger_event ORDER BY seq"):
            tree.push(bytes(leaf))
        for (level, idx), h in nodes.items():
            if level >= STORED_FROM_LEVEL:
                conn.exec_driver_sql(
                    f"INSERT INTO ledger_node (level, idx, hash) VALUES ({mark}, {mark}, {mark})", (level, idx, h)
                )
    with db.unit_of_work() as s:
        log.sign_current_head(s, db.signer)


# The tail of the log: signed heads and checkpoints -----------------------------------------


def _drop_ledger_guards(db: Database) -> None:
    with db.write_engine.begin() as conn:
        for t in ("ledger_event", "ledger_node", "ledger_tree_head"):
            if db.dialect == "postgresql":
                conn.exec_driver_sql(f"ALTER TABLE {t} DISABLE TRIGGER USER")
            else:
                for a in ("update", "delete"):
                    conn.exec_driver_sql(f"DROP TRIGGER {t}_no_{a}")


def test_a_log_whose_signed_heads_were_removed_is_refused(cooperative: Cooperative) -> None:
    _drop_ledger_guards(cooperative.database)
    with cooperative.database.write_engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM ledger_tree_head")
    interval = cooperative.database.settings.ledger.head_interval_seconds
    later = utcnow() + timedelta(seconds=interval + 301)
    report = cooperative.verify(now=later)
    assert not report.ok
    assert any(
        "not covered by a signed tree head" in p and "no signed tree head covers any" in p for p in report.problems
    )
    assert report.first_bad_seq == 1


def test_recent_events_may_wait_for_their_head(cooperative: Cooperative) -> None:
    """Within the signing interval and the grace, a head may still be on its way."""
    _drop_ledger_guards(cooperative.database)
    with cooperative.database.write_engine.begin() as conn:
        newest = conn.exec_driver_sql("SELECT max(tree_size) FROM ledger_tree_head").scalar_one()
        conn.exec_driver_sql(f"DELETE FROM ledger_tree_head WHERE tree_size = {newest}")
    assert cooperative.verify().ok
    assert not cooperative.verify(now=utcnow() + timedelta(seconds=301)).ok


# The command line: --checkpoint ------------------------------------------------------------


def _small_cooperative(settings: Settings) -> Database:
    db = Database(settings)
    with db.unit_of_work() as s:
        board = auth_service.bootstrap_board(
            s, CLI_ACTOR, settings.auth, "chair@coop-test.nl", "a long board password", now=utcnow()
        )
        actor = Actor("user", board.id or 0, Role.board)
        for n in range(3):
            members_service.admit(s, actor, settings.auth, f"Member {n}", f"m{n}@coop-test.nl", Language.nl, utcnow())
    return db


def _checkpoint(db: Database, path: Path) -> Path:
    with db.unit_of_work() as s:
        head = log.sign_current_head(s, db.signer)
    path.write_text(TreeHeadOut.of(head).model_dump_json())
    return path


def test_verify_proves_the_log_still_extends_a_checkpoint(cli_env: Settings, tmp_path: Path) -> None:
    db = _small_cooperative(cli_env)
    kept = _checkpoint(db, tmp_path / "head.json")
    with db.unit_of_work() as s:
        members_service.leave(s, Actor("user", 1, Role.board), 2, utcnow())
    db.dispose()
    r = runner.invoke(app, ["ledger", "verify", "--checkpoint", str(kept)])
    assert r.exit_code == 0, r.output
    assert "1 checkpoints" in " ".join(r.output.split())


def test_verify_refuses_a_log_cut_back_behind_a_checkpoint(cli_env: Settings, tmp_path: Path) -> None:
    db = _small_cooperative(cli_env)
    with db.unit_of_work(write=False) as s:
        cut = log.tree_size(s)
    with db.unit_of_work() as s:
        members_service.leave(s, Actor("user", 1, Role.board), 2, utcnow())
    kept = _checkpoint(db, tmp_path / "head.json")
    _drop_ledger_guards(db)
    undone = ("member", "choice_version", "member_invitation")
    for table in undone:
        with db.write_engine.begin() as conn:
            if db.dialect == "postgresql":
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    with db.write_engine.begin() as conn:  # the leaving, its events and every head after it, gone
        if db.dialect == "sqlite":
            for name in list(
                conn.exec_driver_sql(
                    f"SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name IN {undone}"
                ).scalars()
            ):
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
        conn.exec_driver_sql(f"DELETE FROM ledger_event WHERE seq > {cut}")
        conn.exec_driver_sql(f"DELETE FROM ledger_tree_head WHERE tree_size > {cut}")
        conn.exec_driver_sql("DELETE FROM ledger_node")
        conn.exec_driver_sql("DELETE FROM choice_version WHERE member_id = 2 AND version = 2")
        conn.exec_driver_sql("UPDATE choice_version SET valid_to = NULL WHERE member_id = 2")
        conn.exec_driver_sql("UPDATE member SET status = 'active', left_at = NULL WHERE id = 2")
        conn.exec_driver_sql("UPDATE member_invitation SET withdrawn_at = NULL WHERE member_id = 2")
        recount.rebuild(conn)  # and the choice profiles counted again, or verify would tell
    _rebuild_tree(db)
    db.dispose()
    assert runner.invoke(app, ["ledger", "verify"]).exit_code == 0  # consistent, as far as the database can tell
    r = runner.invoke(app, ["ledger", "verify", "--checkpoint", str(kept)])
    assert r.exit_code == 1
    said = " ".join(r.output.split())
    assert "covers more events than the log holds (10): the log was cut back" in said


def test_verify_refuses_a_rewritten_log_and_a_forged_checkpoint(cli_env: Settings, tmp_path: Path) -> None:
    db = _small_cooperative(cli_env)
    kept = _checkpoint(db, tmp_path / "head.json")
    db.dispose()
    forged = tmp_path / "forged.json"
    body = TreeHeadOut.model_validate_json(kept.read_text())
    forged.write_text(body.model_copy(update={"root_hash": "00" * 32}).model_dump_json())
    r = runner.invoke(app, ["ledger", "verify", "--checkpoint", str(forged)])
    assert r.exit_code == 1
    said = " ".join(r.output.split())
    assert "invalid signature" in said and "was rewritten" in said
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    r = runner.invoke(app, ["ledger", "verify", "--checkpoint", str(junk)])
    assert r.exit_code == 2 and "not a tree head" in " ".join(r.output.split())


def test_verify_names_the_first_disagreement_on_the_command_line(cli_env: Settings) -> None:
    db = _small_cooperative(cli_env)
    with db.write_engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE member DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER member_frozen")
        conn.exec_driver_sql("UPDATE member SET language = 'en' WHERE id = 2")
    db.dispose()
    r = runner.invoke(app, ["ledger", "verify"])
    assert r.exit_code == 1
    assert "first disagreement: table member, row id=2, event 5" in " ".join(r.output.split())
    get_settings.cache_clear()


def test_choices_are_rebuilt_as_the_service_records_them() -> None:
    """The reconciliation writes a choices event's lists from the masks without the service's
    code path; both must give the same canonical JSON for any masks."""
    import random

    from coop.choices import encoding
    from coop.record.tables.members import _preferences
    from ledger import canonical

    rng = random.Random(7)
    for _ in range(500):
        mask = 0
        for p, u in rng.sample(encoding.PAIRS, rng.randint(0, len(encoding.PAIRS))):
            mask = encoding.put(mask, p, u, rng.choice(list(encoding.Preference)))
        service = [[p.value, u.value, pref.value] for p, u, pref in encoding.explicit(mask)]
        assert _preferences(mask) == canonical.dumps(service)
    assert _preferences(0) == "[]"
    beyond = 1 << (2 * len(encoding.PAIRS))
    assert _preferences(beyond) == _preferences(beyond | 1) == _preferences(-1) == "[mask out of range]"


def test_the_choices_payloads_kept_for_reuse_are_bounded(
    cooperative: Cooperative, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A payload written for one choice version is kept for the next alike, but no more than
    so many: a log of millions of distinct choices must not fill the tallying process."""
    from coop.record.tables import members as member_tables

    def implied(table: member_tables.ChoiceVersions) -> list[tuple[Any, ...]]:
        with cooperative.database.read_engine.connect() as conn:
            return [tuple(e) for batch in table.rows(conn, Report()) for e in batch]

    everything = implied(member_tables.ChoiceVersions())
    assert len({e[6] for e in everything}) > 2
    monkeypatch.setattr(member_tables, "PAYLOADS_KEPT", 2)
    bounded = member_tables.ChoiceVersions()
    assert implied(bounded) == everything
    assert len(bounded._payloads) <= 2


def test_times_are_written_in_sql_as_the_services_write_them(database: Database) -> None:
    """An invitation's event carries ``isoformat()`` of its expiry, which leaves out a zero
    fraction; the reconciliation writes it in SQL, on either engine, for any instant."""
    from sqlalchemy import Column, Integer, MetaData, Table, insert, select

    from coop.record.tables.common import iso_sql
    from coop.types import UTCDateTime

    times = [
        datetime(2026, 1, 31, 9, 0, tzinfo=UTC),
        datetime(2026, 1, 31, 9, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2027, 3, 28, 1, 30, 15, 120_000, tzinfo=timezone(timedelta(hours=2))),
        datetime(1999, 6, 1, 0, 0, 1, tzinfo=UTC),
    ]
    table = Table("iso_probe", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    with database.write_engine.begin() as conn:
        table.create(conn)
        conn.execute(insert(table), [{"id": i, "at": at} for i, at in enumerate(times)])
        written = conn.execute(select(table.c.id, text(iso_sql(conn, "at"))).order_by(table.c.id)).all()
    assert [w for _, w in written] == [at.astimezone(UTC).isoformat() for at in times]


def _received(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What the helpers hand back to verify, in the order it is read (kept as verify reads it)."""
    received: list[Any] = []
    receive = parallel._receive

    def spy(reader: Any) -> Any:
        received.append(receive(reader))
        return received[-1]

    monkeypatch.setattr(parallel, "_receive", spy)
    return received


def test_the_big_tables_are_tallied_alongside_the_log(
    cooperative: Cooperative, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = _received(monkeypatch)
    report = cooperative.verify()
    assert report.ok, report.problems
    big = {t.name for t in tables() if t.at_once}
    assert all(r is not None and r.events == report.events for r in received), received
    tallied = [r for r in received if isinstance(r, parallel._Tallied)]
    assert {name for r in tallied for name in r.tallies} == big
    (checked,) = [r for r in received if isinstance(r, parallel._Checked)]  # the profiles' recount
    assert checked.problems == []


def test_the_log_and_the_big_tables_stream_in_chunks_on_postgresql(
    cooperative: Cooperative, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The log is read on a connection of its own, and the tallying processes read one query
    at a time: on PostgreSQL their rows come in chunks, not through a cursor's FETCHes."""
    streamed = tmp_path / "streamed"
    chunked = ledger_verify.chunked

    def spy(raw: Any, sql: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
        with streamed.open("a") as out:  # the tallying processes are forked: they report in a file
            out.write(f"{os.getpid()} {sql.split(' FROM ')[1].split()[0]}\n")
        yield from chunked(raw, sql, size)

    monkeypatch.setattr(ledger_verify, "chunked", spy)
    assert cooperative.verify().ok
    seen = [line.split() for line in streamed.read_text().splitlines()] if streamed.exists() else []
    if cooperative.database.dialect == "sqlite":
        assert seen == []
        return
    here = {table for pid, table in seen if int(pid) == os.getpid()}
    apart = {table for pid, table in seen if int(pid) != os.getpid()}
    assert here == {"ledger_event"}
    assert {"member", "choice_version", "member_invitation", "vote"} <= apart


def test_a_table_that_fails_in_its_helper_is_tallied_here_and_the_helper_goes_on(
    cooperative: Cooperative, monkeypatch: pytest.MonkeyPatch
) -> None:
    tally, here = parallel.tally_rows, os.getpid()

    def fails_for_members_in_a_helper(table: Any, conn: Any, report: Report) -> Any:
        if table.name == "member" and os.getpid() != here:
            raise RuntimeError("the helper could not read the members")
        return tally(table, conn, report)

    monkeypatch.setattr(parallel, "tally_rows", fails_for_members_in_a_helper)
    received = _received(monkeypatch)
    assert cooperative.verify().ok
    assert received[0] is None  # the members' job, first: its helper sent why it failed
    tallied = {name for r in received if isinstance(r, parallel._Tallied) for name in r.tallies}
    assert tallied == {t.name for t in tables() if t.at_once} - {"member"}  # and went on with the rest
    case = ALTERATIONS["a member's opt-out flipped"]
    cooperative.tamper(case.table, *case.statements(cooperative))
    found = cooperative.verify().first_disagreement
    assert found is not None and (found.table, found.row) == (case.named, case.row(cooperative))


def _log_grew_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    receive = parallel._receive

    def grown(reader: Any) -> Any:
        result = receive(reader)
        if isinstance(result, parallel._Checked):
            return parallel._Checked(result.events + 1, result.problems)
        return parallel._Tallied(result.events + 1, result.tallies, result.disagreements)

    monkeypatch.setattr(parallel, "_receive", grown)


@pytest.mark.parametrize("how", ["another snapshot", "a failed process", "a fixed hash seed"])
def test_the_big_tables_are_reconciled_however_they_are_tallied(
    cooperative: Cooperative, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "another snapshot":
        _log_grew_meanwhile(monkeypatch)
    elif how == "a failed process":
        monkeypatch.setattr(parallel, "make_engines", lambda url: 1 / 0)
    else:
        monkeypatch.setattr(reconcile, "_RANDOM_KEY", False)
    assert cooperative.verify().ok
    for name in ("a member's opt-out flipped", "a vote of a closed proposal changed"):
        case = ALTERATIONS[name]
        row, event = case.row(cooperative), case.event(cooperative)
        cooperative.tamper(case.table, *case.statements(cooperative))
        report = cooperative.verify()
        assert report.first_disagreement is not None
        assert (report.first_disagreement.table, report.first_disagreement.row) == (case.named, row), name
        assert report.first_disagreement.seq == event
    # the derived profiles are checked too, in their process or here
    cooperative.tamper("choice_profile", "UPDATE choice_profile SET members = members + 1 WHERE members > 0")
    assert any("profiles have a count that differs" in str(p) for p in cooperative.verify().problems)


def test_a_row_that_fixes_what_its_table_leaves_to_the_event_is_walked() -> None:
    class Loose(reconcile.Table):
        name, types, proves, at_once, free = "loose", ("loose.made",), (), True, ("actor",)

        def rows(self, conn: Any, report: Report, ordered: bool = True) -> Iterator[list[tuple[Any, ...]]]:
            yield [(1, None, "loose.made", "loose:1", "2026-01-01T00:00:00.000000+00:00", None, "{}")]
            yield [(2, None, "loose.made", "loose:2", "2026-01-01T00:00:00.000000+00:00", "user:1", "{}")]

    tally = reconcile.tally_rows(Loose(), None, Report())  # type: ignore[arg-type]
    assert tally.count == 2 and not tally.shaped


def test_a_broken_chain_of_choice_versions_is_named(cooperative: Cooperative) -> None:
    member, version = cooperative.facts["opted_out"], cooperative.facts["opt_out_version"]
    cooperative.tamper(
        "choice_version",
        "DROP INDEX uq_choice_version_open_member_id",  # which refuses a second open version
        f"UPDATE choice_version SET valid_to = NULL WHERE member_id = {member} AND version = {version - 1}",
        f"UPDATE choice_version SET version = {version + 1} WHERE member_id = {member} AND version = {version}",
    )
    report = cooperative.verify()
    said = {(d.row, d.message) for d in report.disagreements if d.table == "choice_version"}
    assert (f"member_id={member} version={version - 1}", "valid_to None is not when the next version began") in said
    assert (f"member_id={member} version={version + 1}", f"version {version} is missing before it") in said


def test_a_table_of_newest_events_is_the_multiset_of_each_key_s_newest() -> None:
    """Votes show only each member's newest: the tally of their events keeps one per key, the
    newest, and adds the digests up exactly (four of 2**62 do not wrap round)."""
    from array import array

    def tally(keys: list[int], prints: list[int], seqs: list[int]) -> reconcile.Tally:
        return reconcile.Tally(keys=array("q", keys), prints=array("q", prints), seqs=array("q", seqs))

    votes = tally([7, 3, 7, 3], [1, 2**62, 2**62 + 1, -(2**63)], [1, 2, 3, 4])
    assert (votes.settled().count, votes.settled().total, votes.settled().shaped) == (2, 2**62 + 1 - 2**63, True)
    # a batch's types come one after the other: the newest is the one recorded last, not given last
    changed_first = tally([1, 2, 2], [10, 30, 20], [5, 7, 6])  # vote.changed (1, 2), then vote.cast (2)
    assert changed_first.settled().total == 10 + 30
    distinct = tally(list(range(4)), [2**62] * 4, list(range(4)))
    assert (distinct.settled().count, distinct.settled().total) == (4, 2**64)
    unnamed = tally([5, -1], [1, 2], [1, 2])
    assert unnamed.settled().shaped is False  # an event naming no row: the walk decides


def test_votes_are_settled_by_sequence_whatever_order_a_batch_gives_its_types() -> None:
    """A batch's events reach the tallies type by type: a voter's cast may come after their
    change. The vote shown is still the one recorded last."""
    from coop.record.tables.governance import Votes

    def vote(seq: int, typ: str, member: int, choice: str) -> Any:
        payload = f'{{"member_id":{member},"proxy_carer_id":null,"proxy_member_id":null,"vote":"{choice}"}}'
        return (seq, f"2026-01-0{seq}T00:00:00.000000+00:00", typ, "user:1", "proposal:1", payload, b"")

    changed_1, changed_2, cast_2 = (
        vote(5, "vote.changed", 1, "no"),
        vote(7, "vote.changed", 2, "abstain"),
        vote(6, "vote.cast", 2, "yes"),
    )
    reconciliation = reconcile.Reconciliation([Votes()])
    reconciliation.take([changed_1, changed_2])
    reconciliation.take([cast_2])
    settled = reconciliation._tallies["vote"].settled()
    shown = reconcile._shown(Votes(), reconcile._IN_EVENT)
    assert (settled.count, settled.total) == (2, sum(reconcile._digests(map(shown, [changed_1, changed_2]))))


def test_a_members_index_row_pointing_elsewhere_is_named_at_both_ends(cooperative: Cooperative) -> None:
    case = ALTERATIONS["a member's index row pointing to another manifest"]
    member = _first_in(cooperative, 1)
    cooperative.tamper(case.table, *case.statements(cooperative))
    said = {(d.row, d.seq) for d in cooperative.verify().disagreements if d.table == "manifest_member"}
    manifest_seq = int(cooperative.one("SELECT ledger_seq FROM manifest WHERE id = 1"))
    assert said == {(f"manifest_id=1 member_id={member}", manifest_seq), (f"manifest_id=999 member_id={member}", None)}
