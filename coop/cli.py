"""The ``coop`` command line: serve, migrate, bootstrap the board, manage API keys,
verify the ledger of record. Each command is one unit of work: it commits or changes
nothing."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from coop.auth.policy import CLI_ACTOR
from coop.i18n import DEFAULT_LANGUAGE, Language
from coop.receipt_cli import receipt_app
from coop.settings import ROOT, Mode, get_settings

if TYPE_CHECKING:
    from coop.db import Database

app = typer.Typer(
    help="System of record for a citizens' health-data cooperative.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
key_app = typer.Typer(help="API keys for organisations: HDAB, data holders, auditors.", no_args_is_help=True)
ledger_app = typer.Typer(help="The ledger of record.", no_args_is_help=True)
report_app = typer.Typer(help="The annual benefit report.", no_args_is_help=True)
members_app = typer.Typer(help="Members: admission in bulk, erasure of former members.", no_args_is_help=True)
board_app = typer.Typer(
    help="The board's own accounts: add or remove a board user, reset a lost two-factor sign-in.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(key_app, name="api-key")
app.add_typer(ledger_app, name="ledger")
app.add_typer(report_app, name="report")
app.add_typer(members_app, name="members")
app.add_typer(board_app, name="board")
app.add_typer(receipt_app, name="receipt")

out = Console()
err = Console(stderr=True)


_opened: list[Database] = []
"""Databases the running command opened; when it ends, their unsigned events get a head."""


@app.callback()
def _command(context: typer.Context) -> None:
    context.call_on_close(_finish)


def _database() -> Database:
    from coop.db import Database

    db = Database(get_settings())
    _opened.append(db)
    return db


def _finish() -> None:
    """Sign a head over events the command recorded that no signed head covers yet, so a
    database left alone after a command is never unsigned."""
    from coop.record.service import sign_pending
    from coop.types import utcnow

    while _opened:
        db = _opened.pop()
        try:
            if db.unsigned:
                sign_pending(db, utcnow())
        finally:
            db.dispose()


def _progress(doing: str) -> Progress:
    """A progress bar on stderr for long work: what is being done, done of all, time left."""
    return Progress(
        TextColumn(doing), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True
    )


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Say what went wrong, word for word: a message may quote a server's or a file's text."""
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


def upgrade_database(url: str | None = None) -> None:
    """Migrate the configured database to the newest schema."""
    from alembic.config import Config

    from alembic import command

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url or get_settings().database.url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to the configured database (COOP_DATABASE_URL)."""
    settings = get_settings()
    if settings.database.url.startswith("sqlite:///"):
        Path(settings.database.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade_database()
    out.print("database is at the newest schema")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
) -> None:
    """Serve the API (and /docs) with uvicorn.

    X-Forwarded-For is believed only from the reverse proxies in COOP_AUTH_TRUSTED_PROXIES
    (none by default), by the application itself: uvicorn's own proxy headers are off.
    """
    import os

    import uvicorn

    if get_settings().mode is Mode.development:  # `make run` shows the mails in var/mail/ with no extra step
        os.environ.setdefault("COOP_MAIL_BACKGROUND", "true")
        get_settings.cache_clear()
    get_settings().ensure_keys()
    uvicorn.run("coop.asgi:app", host=host, port=port, reload=reload, log_level="info", proxy_headers=False)


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="deliver what is due now, then exit (for cron and tests)")
    ] = False,
) -> None:
    """Deliver the messages in the outbox (COOP_MAIL_URL), until stopped.

    Before each run it writes the messages that are due by the clock: data-use digests
    (monthly, or at most every COOP_MAIL_DIGEST_MINUTES for members who want them at once)
    and reminders 48 hours before a vote closes.

    Temporary failures are tried again later, with growing waits; messages the mail server
    refuses for good are marked failed (GET /api/v1/mail/undeliverable). Several workers may
    run at once on PostgreSQL; each message is sent once (a worker killed while sending may
    leave that one message to be sent again).
    """
    from coop.mail import schedule
    from coop.mail.worker import MailSchedule, deliver_due
    from coop.surface import MAIL_PASSES
    from coop.types import utcnow

    db = _database()
    if once:
        schedule.run(db, MAIL_PASSES, utcnow())
        done = deliver_due(db, db.settings.mail)
        out.print(f"sent {done.sent}, to retry {done.retrying}, failed {done.failed}")
        if done.retrying or done.failed:
            raise typer.Exit(1)
        return
    out.print(f"delivering mail through {_shown(db.settings.mail.url)} (Ctrl-C stops)")
    try:
        MailSchedule(db, MAIL_PASSES).run()
    except KeyboardInterrupt:
        out.print("stopped")


def _shown(url: str) -> str:
    """A mail URL without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


@app.command("init")
def init(
    statutes: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="TOML with [mandate] and [benefit_policy]")
    ],
) -> None:
    """Record the founding mandate and benefit policy (version 1 of each).

    See coop/statutes.example.toml for the format. Refused once the cooperative has them;
    later versions come from members' votes.
    """
    from coop.errors import CoopError
    from coop.governance import service
    from coop.types import utcnow

    db = _database()
    try:
        with db.unit_of_work() as session:
            mandate, policy = service.init_statutes(session, CLI_ACTOR, statutes, now=utcnow())
    except CoopError as exc:
        for e in exc.extra.get("errors", []):
            err.print(f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}")
        raise _fail(exc.detail) from exc
    out.print(
        f"mandate version {mandate.version} and benefit policy version {policy.version} "
        f"in force from {mandate.effective_from}"
    )


@app.command("bootstrap-board")
def bootstrap_board(
    email: Annotated[str, typer.Option(help="the board user's login email")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="at least 10 characters")
    ],
) -> None:
    """Create the first board user (refused when a board user exists)."""
    from coop.auth import service
    from coop.errors import CoopError
    from coop.types import utcnow

    db = _database()
    try:
        with db.unit_of_work() as session:
            user = service.bootstrap_board(session, CLI_ACTOR, db.settings.auth, email, password, now=utcnow())
    except CoopError as exc:
        raise _fail(exc.detail) from exc
    out.print(f"board user {user.email} created (user:{user.id})")


@board_app.command("add")
def board_add(
    email: Annotated[str, typer.Argument(help="the new board user's email address")],
    language: Annotated[str, typer.Option(help="nl or en: the language of the welcome message")] = "nl",
) -> None:
    """Add a board user: they are mailed a link to set their password (coop worker delivers it)."""
    from coop.auth import board
    from coop.errors import CoopError
    from coop.i18n import Language
    from coop.types import utcnow

    if language not in ("nl", "en"):
        raise _fail("the language is nl or en")
    db = _database()
    try:
        with db.unit_of_work() as session:
            user = board.add(session, CLI_ACTOR, db.settings.auth, email, Language(language), utcnow())
    except CoopError as exc:
        raise _fail(exc.detail) from exc
    out.print(f"board user {user.email} added (user:{user.id}); a link to set a password is in the outbox")


@board_app.command("remove")
def board_remove(email: Annotated[str, typer.Argument(help="the board user's email address")]) -> None:
    """Remove a board user: their login stops working. The last board user is not removed."""
    from sqlmodel import select

    from coop.auth import board
    from coop.auth.models import UserAccount
    from coop.auth.service import normalise_email
    from coop.errors import CoopError
    from coop.types import utcnow

    db = _database()
    try:
        with db.unit_of_work() as session:
            found = session.exec(select(UserAccount).where(UserAccount.email == normalise_email(email))).first()
            if found is None or found.id is None:
                raise _fail(f"no board user {email}")
            user = board.remove(session, CLI_ACTOR, found.id, utcnow())
    except CoopError as exc:
        raise _fail(exc.detail) from exc
    out.print(f"board user {user.email} removed")


@board_app.command("reset-two-factor")
def board_reset_two_factor(email: Annotated[str, typer.Argument(help="the board user's email address")]) -> None:
    """Reset a board user's two-factor sign-in, for a lost phone and lost recovery codes: their
    authenticator app and recovery codes are forgotten and every login of theirs ends; they sign
    in with their password and set up an app again (production mode asks for it at once).
    Recorded in the ledger of record as two-factor.reset by the operator. Check who asks first."""
    from coop.auth import two_factor
    from coop.errors import CoopError
    from coop.types import utcnow

    db = _database()
    try:
        with db.unit_of_work() as session:
            user = two_factor.reset(session, CLI_ACTOR, email, now=utcnow())
    except CoopError as exc:
        raise _fail(exc.detail) from exc
    out.print(f"two-factor sign-in of {user.email} reset (user:{user.id}); every login of theirs has ended")


@key_app.command("create")
def api_key_create(
    org: Annotated[str, typer.Option(help="the organisation's name")],
    role: Annotated[str, typer.Option(help="hdab, data_holder or auditor")],
) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    from coop.auth import service
    from coop.errors import CoopError
    from coop.types import utcnow

    db = _database()
    try:
        with db.unit_of_work() as session:
            created = service.create_api_key(session, CLI_ACTOR, org, role, now=utcnow())
    except CoopError as exc:
        raise _fail(exc.detail) from exc
    err.print(
        f"API key {created.key.id} for {created.key.org} ({created.key.role}); store it now, it is not shown again:"
    )
    print(created.token)


@key_app.command("list")
def api_key_list() -> None:
    """List keys (without secrets)."""
    from coop.auth import queries

    db = _database()
    with db.unit_of_work(write=False) as session:
        keys = queries.list_api_keys(session)
    table = Table("id", "organisation", "role", "prefix", "created", "revoked")
    for k in keys:
        table.add_row(
            str(k.id),
            k.org,
            k.role,
            k.prefix,
            k.created_at.isoformat(),
            k.revoked_at.isoformat() if k.revoked_at else "",
        )
    out.print(table)


@key_app.command("revoke")
def api_key_revoke(key_id: Annotated[int, typer.Argument(help="the key's id (see list)")]) -> None:
    """Revoke a key; requests with it are refused from now on."""
    from coop.auth import service
    from coop.errors import CoopError
    from coop.types import utcnow

    db = _database()
    try:
        with db.unit_of_work() as session:
            key = service.revoke_api_key(session, CLI_ACTOR, key_id, now=utcnow())
    except CoopError as exc:
        raise _fail(exc.detail) from exc
    out.print(f"API key {key.id} ({key.org}) is revoked")


@ledger_app.command("verify")
def ledger_verify(
    trusted_key: Annotated[
        list[Path] | None,
        typer.Option(help="extra public or private key files whose signatures to trust (repeatable)"),
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            help="a tree head saved earlier from GET /api/v1/ledger/tree-head (its JSON), or a checkpoint from "
            "GET /api/v1/ledger/checkpoint (the signed note, as `coop ledger audit` saves it); the log must still "
            "extend it (repeatable)",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Recompute every leaf, subtree and signed head, and reconcile every table with its events.

    Checks the log (dense, every leaf and stored subtree recomputed), every signed head and
    checkpoint (root and signature), that no event is left without a signed head for longer
    than the signing interval (COOP_LEDGER_HEAD_INTERVAL_SECONDS) and 5 minutes' grace, the
    books, and that every row of the cooperative's tables is what the events that made it say.
    Exits 0 when everything checks out; otherwise 1, naming the first bad event, and the
    first table, row and event that disagree.
    """
    from coop.record.verification import CheckpointError, load_checkpoint, snapshot_options, verify_record
    from coop.types import utcnow
    from ledger import log
    from ledger.signing import key_id, load_public_key

    try:
        heads = [load_checkpoint(p) for p in checkpoint or []]
    except CheckpointError as exc:
        raise _fail(str(exc), code=2) from exc
    db = _database()
    keys = [db.signer.public_key] + [
        load_public_key(p) for p in [*db.settings.ledger.trusted_public_keys, *(trusted_key or [])]
    ]
    trusted = {key_id(k): k for k in keys}
    with db.unit_of_work(write=False) as session:
        conn = session.connection(execution_options=snapshot_options(db.dialect))
        total = log.tree_size(session)
        with _progress("verifying") as progress:
            task = progress.add_task("events", total=total)
            report = verify_record(
                conn,
                db.settings,
                trusted,
                progress=lambda n: progress.advance(task, n),
                checkpoints=heads,
                now=utcnow(),
            )
    for warning in report.warnings:
        err.print(f"[yellow]![/yellow] {warning}")
    if report.ok:
        checked = f", {report.checkpoints} checkpoints" if report.checkpoints else ""
        out.print(
            f"ledger of record verified: {report.events} events, {report.nodes} subtree hashes, "
            f"{report.heads} signed tree heads{checked}, every table reconciled; root {report.root_hash.hex()}"
        )
        return
    for problem in report.problems[:50]:
        err.print(f"[red]✗[/red] {problem}")
    if len(report.problems) > 50:
        err.print(f"... and {len(report.problems) - 50} more")
    where = [f"first bad event: {report.first_bad_seq}"] if report.first_bad_seq else []
    if (first := report.first_disagreement) is not None:
        event = f", event {first.seq}" if first.seq is not None else ", no event"
        where.append(f"first disagreement: table {first.table}, row {first.row}{event}")
    raise _fail(f"ledger of record does NOT verify ({'; '.join(where) or 'see above'})")


@ledger_app.command("recount-profiles")
def ledger_recount_profiles() -> None:
    """Count the members per choice profile again, from their choice versions and proxies.

    Consultations at now read these counts instead of every member's choices; every change
    through the cooperative keeps them up to date. Run this after loading members, choices or
    proxy appointments straight into the tables (a migration of data, a benchmark seed), or
    when `coop ledger verify` says the choice profiles disagree; until then consultations
    count from the versions themselves (exact, slower). Takes the writers' lock.
    """
    import time

    from coop.choices import recount

    db = _database()
    start = time.perf_counter()
    with db.unit_of_work() as session:
        counted = recount.rebuild(session.connection())
    out.print(f"choice profiles recounted: {counted} members in {time.perf_counter() - start:.1f} s")


@ledger_app.command("witness")
def ledger_witness() -> None:
    """Offer the newest checkpoint to every witness in COOP_LEDGER_WITNESSES now (one round).

    Signs a head over events still waiting for one first, then sends each witness the
    checkpoint with a consistency proof from the size it last cosigned (c2sp.org/tlog-witness)
    and keeps the cosignatures that verify with its key. For cron, beside or instead of the
    server's own rounds. Exits 0 when every witness has cosigned the newest checkpoint; 1 when
    one did not (each is named with its error), 2 when no witness is configured."""
    from coop.record.service import sign_pending
    from coop.record.witnesses import witness_round
    from coop.types import utcnow

    db = _database()
    if not db.settings.ledger.witnesses:
        raise _fail("no witness is configured (COOP_LEDGER_WITNESSES)", code=2)
    sign_pending(db, utcnow())
    outcomes = witness_round(db)
    for outcome in outcomes:
        if outcome.cosigned:
            out.print(f"[green]✓[/green] {outcome.witness}: cosigned the checkpoint of {outcome.tree_size} events")
        else:
            mark = "[red]✗ SERIOUS[/red]" if outcome.serious else "[red]✗[/red]"
            err.print(f"{mark} {outcome.witness}: {escape(outcome.error or '')}")
    if not all(o.cosigned for o in outcomes):
        raise typer.Exit(1)


@ledger_app.command("audit")
def ledger_audit(
    url: Annotated[
        str, typer.Argument(help="the log's URL, e.g. https://coop.example/api/v1/ledger (a bare server URL: its log)")
    ],
    state: Annotated[
        Path | None,
        typer.Option(
            help="the directory that keeps the trusted key and the last checkpoint that passed "
            "(default: $XDG_STATE_HOME/coop/audit/<log name>, ~/.local/state/coop/audit/<log name> "
            "without XDG_STATE_HOME)",
            file_okay=False,
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="the note verifier key to trust (note_verifier_key of /public-key, from a source you trust), "
            "or a file holding it; once saved in the state directory, later audits require that key"
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="read every tile again, also the full tiles an earlier audit verified"),
    ] = False,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="COOP_AUDIT_TOKEN",
            help="an auditor's API key (or a board login token), for a log that keeps its entries to its board "
            "and auditors (COOP_LEDGER_PUBLIC_ENTRIES=false); sent as 'Authorization: Bearer' to the log's own "
            "origin only, never after a redirect to another",
            show_envvar=True,
        ),
    ] = None,
) -> None:
    """Audit the ledger of record over HTTP, with no database: the checkpoint, every tile and entry.

    Fetches the signed checkpoint (C2SP tlog-checkpoint) and checks its signature with the
    trusted key; reads every entry bundle and hash tile (C2SP tlog-tiles), checks every
    event's leaf hash and canonical form and sequence number, every hash tile above level 0
    against the full tiles below it, and the root against the checkpoint; then checks that
    the log extends the checkpoint saved by the last audit, and saves the new one.

    Without --key and with no key saved, the first audit trusts the key the server names
    (trust on first use) and prints its fingerprint: compare it with one the cooperative
    publishes elsewhere. The state is saved only when an audit passes. Full tiles never
    change: later audits fetch only new ones (--full: all), and recompute every root from
    every leaf hash all the same.

    A cooperative may keep the entries (the events' contents) to its board and auditors:
    then the audit needs an auditor key, --token or COOP_AUDIT_TOKEN.

    Exit codes: 0 the log passed; 1 it does not verify (signature, entry, tile or root, named);
    2 the audit could not be carried out (network, URL, state directory, key, no or a refused --token); 3 the log was
    truncated, 4 rewritten, since the checkpoint saved last time.
    """
    import httpx

    from ledger.audit import DoesNotVerify, Rewritten, Truncated
    from ledger.audit_client import CannotAudit, prepare

    try:
        with httpx.Client(timeout=60, follow_redirects=True) as client:
            plan = prepare(url, client, state, key, token)
            if plan.first_use:
                err.print(
                    f"[yellow]![/yellow] trusting the key the server names, on first use: {escape(plan.key.text)}\n"
                    f"  fingerprint {plan.key.fingerprint}; compare it with the one the cooperative publishes "
                    f"elsewhere. It is saved in {escape(str(plan.state))} and required from now on."
                )
            with _progress("auditing") as progress:
                task = progress.add_task("events", total=plan.checkpoint.tree_size)
                report = plan.run(lambda n: progress.advance(task, n), full=full)
    except CannotAudit as exc:
        raise _fail(f"could not audit: {exc}", code=2) from exc
    except DoesNotVerify as exc:
        raise _fail(f"the log does NOT verify: {exc}", code=1) from exc
    except Truncated as exc:
        raise _fail(f"{exc}; the saved checkpoint is kept in {plan.state}", code=3) from exc
    except Rewritten as exc:
        raise _fail(f"{exc}; the saved checkpoint is kept in {plan.state}", code=4) from exc
    since = (
        f"; it extends the checkpoint of {report.consistent_with:,} events saved last time"
        if report.consistent_with is not None
        else "; first audit of this log"
    )
    plural = "s" if report.reused != 1 else ""
    reused = f", {report.reused:,} full tile{plural} kept from earlier audits" if report.reused else ""
    out.print(
        f"log {escape(plan.checkpoint.origin)} audited: {report.tree_size:,} events, "
        f"{report.tiles:,} tiles read{reused}, root {report.root_hash.hex()}{since}; checkpoint saved in {plan.state}"
    )


@members_app.command("import")
def members_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8, `,` or `;`) with a header row: name, email, and optionally language (nl or en) "
            "and reference (the member's number in the membership administration)",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
) -> None:
    """Admit the members in FILE: each row on its own, with a ledger event, first choices and an
    invitation by email. Rows that are members already are left alone, so running it again
    admits nobody twice. Lists every refused row with its line and reason; exits 1 when a row
    was refused for any reason but being a member already."""
    from coop.errors import CoopError
    from coop.members import admission
    from coop.types import utcnow

    db = _database()
    with _progress("admitting") as progress:
        task = progress.add_task("rows", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            report = admission.run(db, CLI_ACTOR, file.read_bytes(), utcnow(), advance)
        except CoopError as exc:
            raise _fail(exc.detail) from exc
    if report.refused:
        table = Table("line", "code", "reason", title="refused rows")
        for r in report.refused:
            table.add_row(str(r.line), r.code, r.reason)
        out.print(table)
    out.print(
        f"{len(report.admitted):,} admitted, {len(report.refused):,} refused "
        f"({report.already_members:,} of them members already) of {report.rows:,} rows"
    )
    if len(report.refused) > report.already_members:
        raise typer.Exit(1)


@members_app.command("erase-due")
def members_erase_due(
    now: Annotated[
        datetime | None,
        typer.Option(
            "--now",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
            help="the moment to erase as of (ISO 8601; without offset: UTC); default: now",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what is due, change nothing")] = False,
) -> None:
    """Erase what is due of former members: their email address and login when they asked
    for it (or the retention period passed), their name once COOP_PRIVACY_RETENTION_YEARS have
    passed since they left. Each erasure is a ledger event naming the fields, never the values.
    Running it again erases nothing twice: meant for a daily timer (see README)."""
    from datetime import UTC

    from coop.errors import CoopError
    from coop.members import erasure
    from coop.types import utcnow

    moment = utcnow() if now is None else now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    db = _database()
    with _progress("erasing") as progress:
        task = progress.add_task("members", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            erased = erasure.erase_due(
                db, CLI_ACTOR, moment, db.settings.privacy.retention_years, dry_run=dry_run, progress=advance
            )
        except CoopError as exc:
            raise _fail(exc.detail) from exc
    verb = "would erase" if dry_run else "erased"
    for e in erased:
        out.print(f"{e.number}: {verb} {', '.join(e.fields)}")
    out.print(f"{len(erased):,} former member{'s' if len(erased) != 1 else ''}: {verb if erased else 'nothing due'}")


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing when the database has accounts already")
    ] = False,
    members: Annotated[int, typer.Option("--members", help="how many members", min=10, max=100_000)] = 2_500,
) -> None:
    """Seed the demo cooperative and print its logins (development mode only)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from coop import demo as demo_data
    from coop.settings import Mode

    db = _database()
    if db.settings.mode is Mode.production:
        raise _fail("the demo cooperative has public passwords; it is refused in production mode")
    with db.unit_of_work(write=False) as session:
        if not demo_data.is_empty(session):
            if if_empty:
                return
            raise _fail("the database is not empty; the demo is seeded only into an empty one")
    with Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("seeding the demo cooperative", total=demo_data.work(members))
        logins = demo_data.seed(
            db, members, lambda description, done: progress.update(task, advance=done, description=description)
        )
    table = Table("who", "login", title=f"Demo cooperative of {logins.size:,} members: log in at / (portal) or /docs")
    table.add_column("password or API key", overflow="fold")
    table.add_row("board", *logins.board)
    table.add_row("board (second, for four eyes)", *logins.second_board)
    for email, password in logins.members:
        table.add_row("member", email, password)
    table.add_row("any other member", "member00004@demo-coop.nl ...", demo_data.MEMBER_PASSWORD)
    for role, token in logins.keys.items():
        table.add_row(role, "API key (Bearer)", token)
    out.print(table)
    out.print(f"annual report: GET /api/v1/reports/annual/{utcnow_year()}.pdf (board)")
    out.print("public page: /api/v1/public/transparency.html")


def utcnow_year() -> int:
    from coop.types import utcnow

    return utcnow().year


AskedBy = Annotated[
    str | None, typer.Option("--asked-by", help="email of the board user who asks (four eyes: with --approved-by)")
]
ApprovedBy = Annotated[
    str | None,
    typer.Option("--approved-by", help="email of a second board user, who approves (four eyes: with --asked-by)"),
]


def _four_eyes(asked_by: str | None, approved_by: str | None) -> tuple[str, str]:
    if not asked_by or not approved_by:
        raise _fail("this needs two board users: name them with --asked-by EMAIL and --approved-by EMAIL")
    return asked_by, approved_by


@app.command()
def distribute(
    period_start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="first day of the period")],
    period_end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="last day of the period")],
    commit: Annotated[
        bool,
        typer.Option("--commit", help="post it to the books and pay out (needs --asked-by and --approved-by)"),
    ] = False,
    asked_by: AskedBy = None,
    approved_by: ApprovedBy = None,
) -> None:
    """Draft the distribution of a period, and with --commit post it and pay out.

    Committing needs two board users (four eyes): the operator names the one who asks and a
    second one who approves; the ledger of record names both. Without --commit a draft is
    made, which the board commits in the portal or the API (one asks, another approves)."""
    from coop.approvals import service as approvals
    from coop.errors import CoopError
    from coop.money import distributions
    from coop.types import utcnow

    if commit:
        asked_by, approved_by = _four_eyes(asked_by, approved_by)
    db = _database()
    try:
        with db.unit_of_work() as session:
            d = distributions.draft(session, CLI_ACTOR, period_start.date(), period_end.date(), now=utcnow())
        if commit:
            assert d.id is not None and asked_by and approved_by
            with db.unit_of_work() as session:  # both steps or neither: no request left waiting
                asker, approver = approvals.board_user(session, asked_by), approvals.board_user(session, approved_by)
                request = approvals.ask_commit(session, asker, d.id, now=utcnow())
                assert request.id is not None
                committed = approvals.approve(session, approver, db.settings, request.id, now=utcnow()).distribution
                assert committed is not None
                d = committed
    except CoopError as exc:
        raise _fail(exc.detail) from exc
    table = Table("", "cents", title=f"Distribution {d.id} ({'committed' if d.committed_at else 'draft'})")
    for label, cents in (
        ("net income", d.net_income_cents),
        ("indivisible reserve", d.reserve_cents),
        ("solidarity fund", d.solidarity_cents),
        ("members' pool", d.members_pool_cents),
        ("unclaimed (to the solidarity fund)", d.unclaimed_cents),
        ("donated (to the solidarity fund)", d.donated_cents),
    ):
        table.add_row(label, f"{cents:,}")
    out.print(table)


Lang = Annotated[Language, typer.Option("--lang", help="the report's language")]


@report_app.command("annual")
def report_annual(
    year: Annotated[int, typer.Argument(help="the calendar year", min=2000, max=2100)],
    output: Annotated[Path, typer.Option("-o", "--output", help="the PDF file to write")],
    lang: Lang = DEFAULT_LANGUAGE,
    tree_size: Annotated[
        int | None, typer.Option("--tree-size", help="the signed tree head to show (default: the newest)", min=1)
    ] = None,
) -> None:
    """Write the annual benefit report of YEAR as a signed PDF (the same figures give the same bytes)."""
    import hashlib

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from coop.errors import CoopError
    from coop.reporting import service
    from coop.types import utcnow

    db = _database()
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task("gathering the figures", total=2)
        try:
            with db.unit_of_work(write=False) as session:
                figures = service.annual(session, db.settings, year, tree_size, utcnow())
        except CoopError as exc:
            raise _fail(exc.detail) from exc
        progress.update(task, advance=1, description="drawing the report")
        pdf = service.signed_annual(figures, db.settings, lang)
        progress.update(task, advance=1, description="done")
    output.write_bytes(pdf)
    digest = hashlib.sha256(pdf).hexdigest()
    out.print(f"annual report {year} ({lang}) written to {output}: {len(pdf):,} bytes, sha256 {digest}")


@report_app.command("publish")
def report_publish(
    year: Annotated[int, typer.Argument(help="the calendar year", min=2000, max=2100)],
    lang: Annotated[
        list[Language] | None, typer.Option("--lang", help="the report's language (repeat for more; default: all)")
    ] = None,
    asked_by: AskedBy = None,
    approved_by: ApprovedBy = None,
) -> None:
    """Publish the annual report of YEAR: record its SHA-256 in the ledger of record.

    Publishing needs two board users (four eyes): name the one who asks (--asked-by) and a
    second one who approves (--approved-by); the ledger of record names both."""
    from coop.approvals import service as approvals
    from coop.errors import CoopError
    from coop.i18n import LANGUAGES
    from coop.types import utcnow

    asked_by, approved_by = _four_eyes(asked_by, approved_by)
    languages = [str(code) for code in lang] if lang else list(LANGUAGES)
    db = _database()
    try:
        with db.unit_of_work() as session:  # both steps or neither: no request left waiting
            asker, approver = approvals.board_user(session, asked_by), approvals.board_user(session, approved_by)
            request = approvals.ask_publish(session, asker, db.settings, year, languages, now=utcnow())
            assert request.id is not None
            records = approvals.approve(session, approver, db.settings, request.id, now=utcnow()).published
    except CoopError as exc:
        raise _fail(exc.detail) from exc
    for record in records:
        out.print(
            f"annual report {year} ({record['lang']}) published: sha256 {record['sha256']}, "
            f"tree size {record['tree_size']}, ledger event {record['ledger_seq']}"
        )
        out.print(
            f"rebuild it with: coop report annual {year} --lang {record['lang']} "
            f"--tree-size {record['tree_size']} -o FILE"
        )


@ledger_app.command("export")
def ledger_export(
    output: Annotated[Path, typer.Option("-o", "--output", help="the file to write")],
    format: Annotated[str, typer.Option("--format", help="beancount")] = "beancount",
) -> None:
    """Write the books in beancount format (check them with bean-check)."""
    from ledger.export import beancount

    if format != "beancount":
        raise _fail(f"unknown format {format!r}; only beancount is supported")
    db = _database()
    with db.unit_of_work(write=False) as session, output.open("w", encoding="utf-8") as out_file:
        for line in beancount(session):
            out_file.write(line + "\n")
    out.print(f"books written to {output}")


@app.command()
def bench(
    names: Annotated[list[str] | None, typer.Argument(help="benchmarks to run (default: all)")] = None,
) -> None:
    """Run the benchmarks under bench/ and rewrite bench/RESULTS.md."""
    cmd = [sys.executable, str(ROOT / "bench" / "run.py"), *(names or [])]
    raise typer.Exit(subprocess.call(cmd, cwd=ROOT))  # noqa: S603


if __name__ == "__main__":
    app()
