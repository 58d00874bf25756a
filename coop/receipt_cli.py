"""``coop receipt verify``: check a member's receipt (c2sp.org/tlog-proof) offline, with no
database and no network, against the log's verifier key and the witnesses' keys (given, or
this installation's configured witnesses)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ledger import receipts
from ledger.notes import COSIGNATURE_V1, VerifierKey
from ledger.signing import NOTE_ED25519

receipt_app = typer.Typer(
    help="Receipts members keep (c2sp.org/tlog-proof): verify them offline.", no_args_is_help=True
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

VALID, NOT_VALID, UNUSABLE = 0, 1, 2
"""Exit codes: the receipt verifies; it does not; the file or a key given cannot be used."""


def _stop(message: str, code: int) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", markup=True)
    return typer.Exit(code)


def _installation_key() -> VerifierKey:
    """The verifier key of this installation's log, from its settings and signing key file."""
    from coop.settings import get_settings
    from ledger.signing import load_public_key, note_verifier_key

    settings = get_settings()
    try:
        public = load_public_key(settings.ledger.signing_key_file)
    except (OSError, ValueError) as exc:
        raise _stop(
            f"no --key given, and this installation's key ({settings.ledger.signing_key_file}) cannot be read: {exc}",
            UNUSABLE,
        ) from exc
    return receipts.parse_verifier_key(note_verifier_key(settings.ledger.log_name, public))


def _configured_witnesses() -> list[VerifierKey]:
    """The cosigner keys of this installation's witnesses (``COOP_LEDGER_WITNESSES``)."""
    from coop.settings import get_settings

    return _keys([w.vkey for w in get_settings().ledger.witnesses], COSIGNATURE_V1, "witness cosignature")


def _keys(texts: list[str], kind: int, what: str) -> list[VerifierKey]:
    keys = []
    for text in texts:
        try:
            key = receipts.parse_verifier_key(text)
        except receipts.ReceiptError as exc:
            raise _stop(str(exc), UNUSABLE) from exc
        if key.type != kind:
            raise _stop(f"{key.name}: not a {what} key (signature type {kind:#04x})", UNUSABLE)
        keys.append(key)
    return keys


@receipt_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="the receipt, a .tlog-proof file", dir_okay=False)],
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="a log verifier key to trust, <name>+<id>+<base64> as GET /api/v1/ledger/public-key gives it in "
            "note_verifier_key (repeatable); default: this installation's own log key",
        ),
    ] = None,
    witness_key: Annotated[
        list[str] | None,
        typer.Option(
            "--witness-key",
            help="a witness's cosignature verifier key (Ed25519, type 0x04) whose cosignature to check "
            "(repeatable); default: the witnesses configured in COOP_LEDGER_WITNESSES",
        ),
    ] = None,
    min_witnesses: Annotated[
        int, typer.Option(min=0, help="how many of the witnesses' cosignatures must check out")
    ] = 0,
) -> None:
    """Verify a receipt without the cooperative's help.

    Reads the file strictly (tlog-proof, tlog-checkpoint, signed note), checks that the
    checkpoint is of the trusted log and carries its valid Ed25519 signature, recomputes the
    tree's root from the event's bytes (the receipt's ``extra``) and the inclusion proof
    (RFC 9162), checks the event is of this ledger and at its place, and checks the witnesses'
    cosignatures (of the --witness-key keys or, without any, of the configured witnesses).
    Prints what the event says. Exits 0 for a valid receipt, 1 for one that
    does not verify (saying which check failed), 2 when the file or a key cannot be used.
    """
    log_keys = _keys(key, NOTE_ED25519, "log") if key else [_installation_key()]
    if witness_key:
        witnesses, source = _keys(witness_key, COSIGNATURE_V1, "witness cosignature"), "--witness-key"
    else:
        witnesses, source = _configured_witnesses(), "configured witness"
    if min_witnesses > len(witnesses):
        raise _stop(f"--min-witnesses {min_witnesses} but only {len(witnesses)} {source} keys", UNUSABLE)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _stop(f"cannot read {file}: {exc.strerror}", UNUSABLE) from exc
    for k in log_keys:
        out.print(f"log key: {k.text}")
    for k in witnesses:
        out.print(f"{source} key: {k.text}")
    try:
        found = receipts.verify(data, log_keys, witnesses, min_witnesses)
    except receipts.ReceiptError as exc:
        raise _stop(f"the receipt does NOT verify ({exc.code}): {exc}", NOT_VALID) from exc
    event = found.event
    out.print(f"receipt verified: event {event.seq} ({event.type}) of {event.time}, about {event.subject}")
    out.print(f"recorded by {event.actor}; in the tree of {found.tree_size} events of {found.origin}")
    out.print(f"root {found.root_hash.hex()}")
    if witnesses:
        out.print(f"witnesses whose cosignature checks out: {', '.join(found.witnesses) or 'none'}")
