"""Two-factor sign-in for board users, over the API and on the command line: an authenticator
app is set up and switched on with a first code (computed here as the app would), which gives
ten recovery codes once; a sign-in then needs a current code, no code works twice, a recovery
code works once, wrong codes are throttled like wrong passwords, and production mode lets a
board user without it do nothing but set it up. The ledger of record names only the account."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from coop.cli import app as cli
from coop.db import Database
from coop.mail.models import MailKind
from coop.record.verification import verify_record
from coop.settings import Settings
from coop.types import utcnow
from tests import factories as f
from tests.concurrency.conftest import crowd, statuses
from tests.conftest import Clock
from tests.factories.mail import composed, outbox_of, plain_part

TWO_FACTOR = "/api/v1/auth/two-factor"
TOKEN = "/api/v1/auth/token"


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def enrol(client: TestClient, headers: dict[str, str], now: datetime) -> tuple[str, list[str], dict[str, str]]:
    """Set up and switch on; the secret, the recovery codes and the new login's headers."""
    setup = client.post(f"{TWO_FACTOR}/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    on = client.post(f"{TWO_FACTOR}/enable", json={"code": code_at(secret, now)}, headers=headers)
    assert on.status_code == 200, on.text
    return secret, on.json()["recovery_codes"], f.bearer(on.json()["token"]["access_token"])


def sign_in(client: TestClient, totp: str | None = None, password: str = f.PASSWORD) -> tuple[int, str]:
    data = {"username": f.BOARD_EMAIL, "password": password}
    if totp is not None:
        data["totp"] = totp
    r = client.post(TOKEN, data=data)
    return r.status_code, r.json().get("code", "") if r.status_code != 200 else "ok"


def events_of(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    items: list[dict[str, object]] = client.get(
        "/api/v1/ledger/events", params={"limit": 1000}, headers=headers
    ).json()["items"]
    return items


def notices(client: TestClient, database: Database) -> list[str]:
    """The changes the board user was mailed about, in order, after checking each message is
    theirs, one nobody can turn off, and says what happened in the account's language."""
    changes = []
    for message in outbox_of(database, MailKind.two_factor_changed):
        assert message.recipient == f.BOARD_EMAIL
        change = json.loads(message.context)["change"]
        text = plain_part(composed(client, message))
        assert NOTICE_WORDS[change] in text and "Was u dit niet?" in text, text
        changes.append(change)
    return changes


NOTICE_WORDS = {  # the board user is no member: Dutch, the cooperative's own language
    "enabled": "aangezet",
    "disabled": "uitgezet",
    "codes-renewed": "nieuwe herstelcodes",
    "recovery-code-used": "met een herstelcode",
    "reset": "De beheerder",
}


def verified(database: Database) -> list[str]:
    with database.unit_of_work(write=False) as s:
        return verify_record(
            s.connection(), database.settings, {database.signer.key_id: database.signer.public_key}, now=utcnow()
        ).problems


def test_enrolment_needs_a_right_first_code_and_ends_earlier_logins(
    client: TestClient, database: Database, clock: Clock
) -> None:
    board = f.founded(client, database)
    assert client.get(TWO_FACTOR, headers=board).json() == {
        "enabled": False,
        "enabled_at": None,
        "pending": False,
        "recovery_codes_left": 0,
    }
    no_setup = client.post(f"{TWO_FACTOR}/enable", json={"code": "123456"}, headers=board)
    assert no_setup.status_code == 409 and no_setup.json()["code"] == "two-factor-not-started"
    setup = client.post(f"{TWO_FACTOR}/setup", headers=board).json()
    secret = setup["secret"]
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and f"secret={secret}" in setup["otpauth_uri"]
    now = utcnow()
    wrong = str((int(code_at(secret, now)) + 1) % 1_000_000).zfill(6)
    refused = client.post(f"{TWO_FACTOR}/enable", json={"code": wrong}, headers=board)
    assert refused.status_code == 403 and refused.json()["code"] == "wrong-code"
    assert client.get(TWO_FACTOR, headers=board).json()["pending"] is True

    with clock.at(now):
        on = client.post(f"{TWO_FACTOR}/enable", json={"code": code_at(secret, now)}, headers=board)
    assert on.status_code == 200, on.text
    codes = on.json()["recovery_codes"]
    assert len(codes) == 10 == len(set(codes))
    assert client.get(TWO_FACTOR, headers=board).status_code == 401, "the login made with the password alone ended"
    fresh = f.bearer(on.json()["token"]["access_token"])
    status = client.get(TWO_FACTOR, headers=fresh).json()
    assert status["enabled"] and status["recovery_codes_left"] == 10 and not status["pending"]
    again = client.post(f"{TWO_FACTOR}/setup", headers=fresh)
    assert again.status_code == 409 and again.json()["code"] == "two-factor-on"

    with database.unit_of_work(write=False) as s:
        stored = s.execute(text("SELECT secret FROM two_factor")).scalar_one()
        hashes = s.execute(text("SELECT code_hash FROM two_factor_recovery_code")).scalars().all()
        ledger = s.execute(text("SELECT payload FROM ledger_event")).scalars().all()
    assert secret not in stored, "the secret is stored encrypted"
    assert not {c.replace("-", "") for c in codes} & set(hashes), "recovery codes are kept as hashes"
    assert not [p for p in ledger if secret in str(p) or any(c in str(p) for c in codes)]
    [event] = [e for e in events_of(client, fresh) if e["type"] == "two-factor.enabled"]
    assert event["subject"] == event["actor"] and event["payload"] == {}
    assert verified(database) == []


def test_sign_in_needs_a_current_code_that_works_only_once(
    client: TestClient, database: Database, clock: Clock
) -> None:
    board = f.founded(client, database)
    now = utcnow()
    with clock.at(now):
        secret, _, _ = enrol(client, board, now)
    later = now + timedelta(seconds=30)
    with clock.at(later):
        assert sign_in(client) == (401, "two-factor-code-required")
        assert sign_in(client, "\u0661\u0662\u0663\u0664\u0665\u0666") == (401, "wrong-code"), "digits, not ASCII"
        assert sign_in(client, "000000" if code_at(secret, later) != "000000" else "111111") == (401, "wrong-code")
        assert sign_in(client, code_at(secret, later), password="not the password") == (401, "unauthenticated")
        assert sign_in(client, code_at(secret, later)) == (200, "ok")
        assert sign_in(client, code_at(secret, later)) == (401, "code-used"), "a code is not replayed"
        assert sign_in(client, code_at(secret, now)) == (401, "code-used"), "nor an earlier one in the window"
    much_later = later + timedelta(minutes=5)
    with clock.at(much_later):
        assert sign_in(client, code_at(secret, later)) == (401, "wrong-code"), "an old code no longer counts"
        assert sign_in(client, code_at(secret, much_later)) == (200, "ok")


def test_a_recovery_code_works_once_and_new_ones_replace_the_old(
    client: TestClient, database: Database, clock: Clock
) -> None:
    board = f.founded(client, database)
    now = utcnow()
    with clock.at(now):
        secret, codes, fresh = enrol(client, board, now)
    typed = codes[0].upper().replace("-", " ")  # as someone may type it from paper
    assert sign_in(client, typed) == (200, "ok")
    assert sign_in(client, codes[0]) == (401, "wrong-code")
    assert client.get(TWO_FACTOR, headers=fresh).json()["recovery_codes_left"] == 9
    used = [e for e in events_of(client, fresh) if e["type"] == "two-factor.recovery-code-used"]
    assert len(used) == 1 and set(used[0]["payload"]) == {"code_id"}  # type: ignore[arg-type]

    renew_at = now + timedelta(seconds=60)
    with clock.at(renew_at):
        r = client.post(f"{TWO_FACTOR}/recovery-codes", json={"code": "123"}, headers=fresh)
        assert r.status_code == 422
        r = client.post(f"{TWO_FACTOR}/recovery-codes", json={"code": code_at(secret, renew_at)}, headers=fresh)
    assert r.status_code == 200, r.text
    new = r.json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(codes)
    assert sign_in(client, codes[1]) == (401, "wrong-code"), "the earlier codes stopped working"
    assert sign_in(client, new[1]) == (200, "ok")
    assert notices(client, database) == ["enabled", "recovery-code-used", "codes-renewed", "recovery-code-used"]
    assert verified(database) == []


def test_switching_off_needs_a_current_code(client: TestClient, database: Database, clock: Clock) -> None:
    board = f.founded(client, database)
    now = utcnow()
    with clock.at(now):
        secret, _, fresh = enrol(client, board, now)
    later = now + timedelta(seconds=30)
    with clock.at(later):
        refused = client.post(f"{TWO_FACTOR}/disable", json={"code": "999999x"}, headers=fresh)
        assert refused.status_code == 403 and refused.json()["code"] == "wrong-code"
        off = client.post(f"{TWO_FACTOR}/disable", json={"code": code_at(secret, later)}, headers=fresh)
    assert off.status_code == 204, off.text
    assert sign_in(client) == (200, "ok"), "the password alone signs in again"
    types = [e["type"] for e in events_of(client, fresh) if str(e["type"]).startswith("two-factor.")]
    assert types == ["two-factor.enabled", "two-factor.disabled"]
    assert notices(client, database) == ["enabled", "disabled"]
    with database.unit_of_work(write=False) as s:
        assert s.execute(text("SELECT count(*) FROM two_factor_recovery_code")).scalar_one() == 0
    assert verified(database) == []


def test_wrong_codes_are_throttled_like_wrong_passwords(client: TestClient, database: Database, clock: Clock) -> None:
    board = f.founded(client, database)
    now = utcnow()
    with clock.at(now):
        secret, _, _ = enrol(client, board, now)
    wrong = "000000" if code_at(secret, now) != "000000" else "111111"
    with clock.at(now):
        for _ in range(database.settings.auth.login_max_failures):
            assert sign_in(client, wrong) == (401, "wrong-code")
        assert sign_in(client, code_at(secret, now))[0] == 429, "a right code waits too, once guessing began"


def test_members_have_no_two_factor(client: TestClient, database: Database) -> None:
    member = f.member(client, f.founded(client, database))
    r = client.post(f"{TWO_FACTOR}/setup", headers=member.headers)
    assert r.status_code == 403 and r.json()["code"] == "not-a-board-user"


def test_production_lets_a_board_user_without_it_only_set_it_up(
    client: TestClient, database: Database, production: TestClient, clock: Clock
) -> None:
    member = f.member(client, f.founded(client, database))
    other = f.login(production, f.BOARD_EMAIL)
    assert production.post("/api/v1/auth/logout", headers=other).status_code == 204, "logging out is allowed"
    board = f.login(production, f.BOARD_EMAIL)
    refused = production.get("/api/v1/auth/board-users", headers=board)
    assert refused.status_code == 403 and refused.json()["code"] == "two-factor-required"
    assert refused.headers["content-type"].startswith("application/problem+json")
    own = production.get(f"/api/v1/members/{member.id}", headers=member.headers)
    assert own.status_code == 200, "members carry on"
    now = utcnow()
    with clock.at(now):
        _, _, fresh = enrol(production, board, now)
    assert production.get("/api/v1/auth/board-users", headers=fresh).status_code == 200
    assert client.get("/api/v1/auth/board-users", headers=fresh).status_code == 200, "development never asks"


def test_the_operator_resets_a_lost_phone(
    client: TestClient, database: Database, clock: Clock, cli_env: Settings
) -> None:
    board = f.founded(client, database)
    now = utcnow()
    with clock.at(now):
        _, _, fresh = enrol(client, board, now)
    runner = CliRunner()
    done = runner.invoke(cli, ["board", "reset-two-factor", f.BOARD_EMAIL.upper()])
    assert done.exit_code == 0, done.output
    assert client.get(TWO_FACTOR, headers=fresh).status_code == 401, "every login of theirs ended"
    assert sign_in(client) == (200, "ok")
    again = runner.invoke(cli, ["board", "reset-two-factor", f.BOARD_EMAIL])
    assert again.exit_code == 1 and "no two-factor sign-in" in again.output
    assert runner.invoke(cli, ["board", "reset-two-factor", "nobody@coop-test.nl"]).exit_code == 1
    [reset] = [e for e in events_of(client, f.login(client, f.BOARD_EMAIL)) if e["type"] == "two-factor.reset"]
    assert reset["actor"] == "cli" and reset["payload"] == {}
    assert notices(client, database) == ["enabled", "reset"]
    assert verified(database) == []


def test_one_code_sent_by_many_at_once_signs_in_once(
    client: TestClient, database: Database, clock: Clock, live_server: str
) -> None:
    board = f.founded(client, database)
    now = utcnow()
    with clock.at(now):
        secret, _, _ = enrol(client, board, now)
    later = now + timedelta(seconds=30)
    data = {"username": f.BOARD_EMAIL, "password": f.PASSWORD, "totp": code_at(secret, later)}
    with clock.at(later):
        answers = crowd(live_server, lambda http, _i: http.post(TOKEN, data=data), n=6)
    assert statuses(answers) == [200, 401, 401, 401, 401, 401]
    assert {r.json()["code"] for r in answers if r.status_code == 401} == {"code-used"}
