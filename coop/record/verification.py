"""``coop ledger verify``: the ledger of record checked end to end, and every table of the
cooperative's state reconciled with the events that made it, in one pass over the log.

The registry below is explicit: every table in the schema is either reconciled (a
:class:`~coop.record.rows.Table` in :func:`tables`), part of a reconciled table's
events (:data:`PARTS`), the ledger itself (:data:`LEDGER`), or outside the record with a
reason (:data:`OUTSIDE_THE_RECORD`); a test fails for a table in none of them. Within the
reconciled tables, the columns the events do not prove are listed with the reason in
:data:`NOT_PROVEN`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError
from sqlalchemy import Connection

from coop.choices import recount
from coop.record import tables as t
from coop.record.parallel import alongside
from coop.record.reconcile import Reconciliation
from coop.record.rows import Table
from coop.record.schemas import TreeHeadOut
from coop.settings import Settings
from ledger.notes import Checkpoint, parse_checkpoint
from ledger.signing import SignedTreeHead
from ledger.verify import Report, verify

HEAD_GRACE_SECONDS = 300
"""How long, beyond the signing interval, events may wait for a signed tree head: a head is
signed at the end of every writing command and on the server's schedule, so only a log whose
heads were removed (or a server stopped before it could sign) has older uncovered events."""


def tables(settings: Settings | None = None) -> list[Table]:
    """The reconciled tables, in the order they are checked."""
    key = settings.privacy.pseudonym_key_file if settings is not None else None
    return [
        t.Members(),
        t.ChoiceVersions(),
        t.Invitations(),
        t.Carers(),
        t.UserAccounts(),
        t.ApiKeys(),
        t.GovernanceDocuments(),
        t.Proposals(),
        t.Votes(),
        t.Consultations(),
        t.Permits(),
        t.Manifests(key),
        t.Usage(),
        t.Results(),
        t.ProxyAppointments(),
        t.MoneyAccounts(),
        t.MoneyEntries(),
        t.Distributions(),
        t.BoardApprovals(),
        t.AccessRecords(),
    ]


PARTS = {
    "money_posting": "money_entry: the postings, line by line, in its money.entry event (by count and SHA-256 "
    "beyond 60,000 bytes)",
    "manifest_entry": "manifest: size and RFC 9162 root over the pseudonyms in manifest.created; each pseudonym "
    "recomputed from its member with the pseudonym key",
    "manifest_member": "manifest_entry: the same (member_id, manifest_id) pairs as the entries",
    "manifest_member_set": "manifest: SHA-256 of the set in manifest.created, and the entries' members",
    "manifest_check": "usage_event: the check in the payload of the extraction report that made it",
    "distribution_permit": "distribution: each permit's split listed in distribution.drafted",
    "distribution_member": "distribution: count and SHA-256 of the members' shares in distribution.drafted",
    "access_record_member": "access_record: the members a list showed, listed in access.recorded",
}
"""Tables whose rows are proven as part of another table's events."""

LEDGER = {
    "ledger_event": "the log: every leaf recomputed, the sequence dense",
    "ledger_node": "stored subtrees recomputed from the leaves",
    "ledger_tree_head": "every signed head's root recomputed and its signature checked",
}

OUTSIDE_THE_RECORD: dict[str, str] = {
    "choice_member_profile": "each member's choices and proxies as counted in choice_profile: derived from "
    "choice_version and proxy_appointment, updated in place with them; verify recounts it from them",
    "choice_profile": "how many members share each choice profile, so a consultation reads profiles instead of "
    "every member: derived, updated in place with every change; verify recounts it from the members",
    "choice_profile_watermark": "how far the choice profiles are counted (a time and the newest rows' ids), so "
    "that counts are used only for the times they hold at: derived; verify checks it",
    "member_message_settings": "a member's wish about their optional mail (which messages, how often): it "
    "changes nothing the cooperative decides or owes, and security notices are sent whatever it says",
    "login_failures": "counts of recent failed logins under hashed keys, for throttling: updated in place and "
    "pruned; they change nothing the cooperative decides or owes",
    "mail_outbox": "messages to members and their delivery state (attempts, sent, failed): updated as delivery "
    "goes on; they carry what the events already record, to an address the record never holds",
    "mail_shared": "what many messages of one pass have in common (the permits and results a digest tells "
    "about), copied from state the record proves; it names no member",
    "mail_run": "which scheduled passes of the mail worker wrote messages, so that none writes them twice; "
    "the events they tell about are in the record already",
    "member_email_change": "a member's new email address waiting for the single-use link sent to it, under a "
    "hashed token: personal data, kept out of the record; asking and the change itself are recorded "
    "(member.email-change-requested, member.email-changed), without any address",
    "two_factor": "a board user's authenticator app: its secret (encrypted; it must never reach the ledger, "
    "which auditors read) and the last time step a code was accepted in, which moves at every sign-in; "
    "switching it on and off and the operator's resets are recorded (two-factor.enabled, "
    "two-factor.disabled, two-factor.reset), naming only the account",
    "two_factor_recovery_code": "one-time codes for signing in without the app, under keyed hashes; new ones "
    "and each one used are recorded (two-factor.recovery-codes-renewed, two-factor.recovery-code-used)",
    "witness_cosignature": "witnesses' cosignatures on the log's checkpoints: signatures by others over "
    "checkpoints the log signed already, each verified with its witness's key before it is kept and "
    "verifiable by anyone; they change nothing the cooperative decides or owes (append-only all the same)",
    "witness_state": "how each witness is doing (the size it last cosigned, the last error): updated at "
    "every attempt, for the board's view; the cosignatures prove themselves",
    "password_reset": "single-use links to set a new password, under hashed tokens: anyone may ask for one; "
    "using one is recorded (account.password-reset)",
}
"""Operational tables that hold none of the cooperative's state, with why they need no event
(login throttling, revoked login tokens and the like)."""

PERSONAL = "personal data: kept out of the ledger of record so that forgetting a person never rewrites it"
SECRET = "a secret's hash: kept out of the ledger of record, which auditors read"  # noqa: S105 (a reason, not a secret)
SURROGATE = "a surrogate key that nothing refers to; the row is known by its natural key, which is proven"

NOT_PROVEN: dict[str, dict[str, str]] = {
    "member": {"name": PERSONAL, "email": PERSONAL, "external_ref": PERSONAL},
    "carer": {"name": PERSONAL, "email": PERSONAL},
    "user_account": {
        "email": PERSONAL,
        "password_hash": SECRET,
        "token_generation": "session state: raised when someone logs out (no event) or changes their password "
        "(account.password-changed, account.password-reset) to end earlier login tokens; it grants nothing",
    },
    "api_key": {"secret_hash": SECRET},
    "member_invitation": {"token_hash": SECRET},
    "choice_version": {"id": SURROGATE + " (member_id, version)"},
    "governance_document": {"id": SURROGATE + " (kind, version)"},
    "vote": {"id": SURROGATE + " (proposal_id, member_id)"},
}


def verify_record(
    conn: Connection,
    settings: Settings,
    trusted_keys: Mapping[str, Ed25519PublicKey],
    progress: Callable[[int], None] | None = None,
    checkpoints: Sequence[SignedTreeHead | Checkpoint] = (),
    *,
    now: datetime,
) -> Report:
    """The whole check, as of ``now``: the log, its heads and the checkpoints, the books, and
    every table (an event older than the signing interval at ``now`` must be under a signed head).

    The tables with a row per member are read in other processes meanwhile (see
    :mod:`coop.record.parallel`); on PostgreSQL they share this transaction's snapshot when
    it is REPEATABLE READ (:func:`snapshot_options`)."""
    if conn.dialect.name == "postgresql":  # the tables are read in key order: let the sorts stay in memory
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    interval = settings.ledger.head_interval_seconds + HEAD_GRACE_SECONDS
    deadline = now - timedelta(seconds=interval)
    reconciliation = Reconciliation(tables(settings))
    # The choice profiles are derived, outside the record: they must agree with what is in it.
    with alongside(reconciliation, conn, checks=[recount.check]) as derived:
        report = verify(
            conn,
            trusted_keys,
            progress,
            consumers=[reconciliation],
            checkpoints=checkpoints,
            unsigned_deadline=deadline,
        )
        for problem in derived.problems(report):
            report.fail(problem)
    return report


def snapshot_options(dialect: str) -> dict[str, str]:
    """Execution options of a connection for :func:`verify_record`: one snapshot throughout
    (SQLite's read transactions have one already)."""
    return {"isolation_level": "REPEATABLE READ"} if dialect == "postgresql" else {}


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read as a signed tree head."""


def load_checkpoint(path: Path) -> SignedTreeHead | Checkpoint:
    """A head saved from ``GET /api/v1/ledger/tree-head`` (its JSON, as returned), or a
    checkpoint saved from ``GET /api/v1/ledger/checkpoint`` (the signed note, as served; what
    ``coop ledger audit`` keeps in its state directory)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path} cannot be read: {exc}") from exc
    if not data.lstrip().startswith(b"{"):
        try:
            return parse_checkpoint(data)
        except ValueError as exc:  # a NoteError, or a tree size of thousands of digits
            raise CheckpointError(f"{path} is not a checkpoint from GET /api/v1/ledger/checkpoint: {exc}") from exc
    try:
        head = TreeHeadOut.model_validate_json(data)
        return SignedTreeHead(
            head.tree_size, bytes.fromhex(head.root_hash), head.timestamp, head.key_id, bytes.fromhex(head.signature)
        )
    except (ValidationError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a tree head saved from GET /api/v1/ledger/tree-head: {exc}") from exc
