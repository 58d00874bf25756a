"""The witnesses' client (c2sp.org/tlog-witness): the newest checkpoint, offered to each
witness the settings name (``COOP_LEDGER_WITNESSES``), and the cosignatures they return.

A round, for each witness: ``POST <url>/add-checkpoint`` with ``old <size>`` (the size it
last cosigned as we stored it, 0 at first), the consistency proof from that size to the
checkpoint's, a blank line and the checkpoint. A 409 names the size the witness holds
(``text/x.tlog.size``): the round sends once more with a proof from that size, unless it is
no size this log ever signed (a size beyond ours, or one without a signed head), which
means the witness saw another log under our name. Each ``cosignature/v1`` line of the
answer is verified with the witness's key before it is stored.

Rounds run off the request path (the server's :class:`WitnessSchedule`, and ``coop ledger
witness``); no database transaction is open while a witness is asked, so a witness that is
down, slow or refusing changes nothing for writers.
"""

from __future__ import annotations

import base64
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from coop.db import Database
from coop.record import checkpoints
from coop.record.models import WitnessCosignature, WitnessState
from coop.settings import WitnessSettings
from coop.types import utcnow
from ledger import fetch, log
from ledger.notes import COSIGNATURE_V1, Cosignature, cosignatures_in, parse_note, parse_verifier_key

logger = logging.getLogger("coop")

SIZE_TYPE = "text/x.tlog.size"
MAX_ERROR = 500
MAX_ANSWER = 64 * 1024
"""The largest answer read from a witness: cosignature lines or a size take a few hundred bytes."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one witness answered in a round."""

    witness: str
    cosigned: bool
    tree_size: int
    error: str | None = None
    serious: bool = False


@dataclass(frozen=True, slots=True)
class _Offer:
    tree_size: int
    root_hash: bytes
    note: str
    old: int
    proof: list[bytes]


class _Refused(Exception):
    def __init__(self, message: str, serious: bool = False) -> None:
        super().__init__(message)
        self.serious = serious


def request_body(old: int, proof: list[bytes], note: str) -> bytes:
    """An add-checkpoint request: ``old <size>``, one base64 line per proof hash, a blank line, the checkpoint."""
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def _state(session: Session, name: str) -> WitnessState | None:
    return session.get(WitnessState, name)


def _offer(session: Session, db: Database, old: int, size: int, root: bytes) -> _Offer:
    proof = log.consistency_proof(session, old, size).path if 0 < old < size else []
    return _Offer(size, root, checkpoints.note_of(db, size, root), old, proof)


def _post(client: httpx.Client, db: Database, witness: WitnessSettings, offer: _Offer) -> fetch.Answer:
    """The witness's answer, read within the witness timeout and up to :data:`MAX_ANSWER` bytes."""
    return fetch.request(
        client,
        "POST",
        f"{witness.url}/add-checkpoint",
        limit=MAX_ANSWER,
        seconds=db.settings.ledger.witness_timeout_seconds,
        content=request_body(offer.old, offer.proof, offer.note),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )


def _witness_size(response: fetch.Answer) -> int:
    if not response.headers.get("content-type", "").startswith(SIZE_TYPE):
        raise _Refused(f"409 without a {SIZE_TYPE} body")
    try:
        size = int(response.text.strip())
    except ValueError as exc:
        raise _Refused(f"409 with an unreadable size {response.text[:40]!r}") from exc
    if size < 0:
        raise _Refused(f"409 with a negative size {size}")
    return size


def _refusal(response: fetch.Answer) -> _Refused:
    detail = " ".join(response.text.split())[:200]
    if response.status_code == 422:
        return _Refused(f"422: the witness refused this checkpoint as inconsistent with one it saw ({detail})", True)
    if response.status_code == 403:
        return _Refused(f"403: the witness does not trust this log's key ({detail})")
    if response.status_code == 404:
        return _Refused(f"404: the witness does not know this log's name ({detail})")
    return _Refused(f"{response.status_code}: {detail}")


def _ask(client: httpx.Client, db: Database, witness: WitnessSettings, offer: _Offer) -> tuple[_Offer, str]:
    """Send ``offer``; after a 409 once more from the witness's size. Returns what was cosigned and the answer."""
    response = _post(client, db, witness, offer)
    if response.status_code == 409:
        theirs = _witness_size(response)
        with db.unit_of_work(write=False) as session:
            if theirs > offer.tree_size or (theirs > 0 and log.head_at(session, theirs) is None):
                raise _Refused(
                    f"the witness holds a checkpoint of {theirs} events, a size this log of {offer.tree_size} "
                    "never signed: it saw another log under this log's name",
                    serious=True,
                )
            offer = _offer(session, db, theirs, offer.tree_size, offer.root_hash)
        response = _post(client, db, witness, offer)
    if response.status_code != 200:
        raise _refusal(response)
    return offer, response.text


def _moment(timestamp: int) -> datetime:
    """A cosignature's time (seconds since 1970; the reader refuses those after the year 9999)."""
    return datetime.fromtimestamp(timestamp, UTC)


def _insert(db: Database) -> Any:
    return (postgresql if db.dialect == "postgresql" else sqlite).insert


def _state_to_write(session: Session, db: Database, name: str, now: datetime) -> WitnessState:
    """The witness's state row, made first when missing (a round of the server and one of the
    command line may race to make it: the second keeps the first's row)."""
    new = {"witness": name, "cosigned_size": 0, "attempted_at": now, "serious": False}
    session.execute(_insert(db)(WitnessState).values(**new).on_conflict_do_nothing())
    state = session.get(WitnessState, name, populate_existing=True)
    assert state is not None
    return state


def _store(db: Database, name: str, offer: _Offer, found: list[Cosignature], now: datetime) -> None:
    with db.unit_of_work() as session:
        for cosignature in found:
            values = {
                "witness": name,
                "tree_size": offer.tree_size,
                "root_hash": offer.root_hash,
                "cosigned_at": _moment(cosignature.timestamp),
                "line": cosignature.line,
                "received_at": now,
            }
            # one per witness and checkpoint: a second round that raced this one keeps the first
            session.execute(_insert(db)(WitnessCosignature).values(**values).on_conflict_do_nothing())
        state = _state_to_write(session, db, name, now)
        if offer.tree_size >= state.cosigned_size:  # a slower round never takes it back to a smaller tree
            state.cosigned_size = offer.tree_size
            state.cosigned_at = _moment(found[-1].timestamp)
        state.attempted_at, state.error, state.error_at, state.serious = now, None, None, False
        session.add(state)


def _record_failure(db: Database, name: str, error: str, serious: bool, now: datetime) -> None:
    with db.unit_of_work() as session:
        state = _state_to_write(session, db, name, now)
        state.attempted_at, state.error, state.error_at, state.serious = now, error[:MAX_ERROR], now, serious
        session.add(state)


def offer_to(db: Database, witness: WitnessSettings, client: httpx.Client, now: datetime) -> Outcome:
    """Offer the newest signed checkpoint to one witness and keep what it answers."""
    with db.unit_of_work(write=False) as session:
        head = log.latest_head(session)
        if head is None:
            return Outcome(witness.name, False, 0, "no tree head has been signed yet")
        state = _state(session, witness.name)
        old = state.cosigned_size if state is not None else 0
        if state is not None and old == head.tree_size and state.error is None:
            return Outcome(witness.name, True, old)  # cosigned already: nothing new to show it
        if old > head.tree_size:
            old = 0  # our own record of it is ahead of the log (a restored database): start over
        offer = _offer(session, db, old, head.tree_size, head.root_hash)
    try:
        offer, answer = _ask(client, db, witness, offer)
        found = cosignatures_in(
            parse_verifier_key(witness.vkey, (COSIGNATURE_V1,)), answer, parse_note(offer.note).text
        )
        if not found:
            raise _Refused(f"200 without a cosignature that verifies with its key: {answer[:200]!r}")
    except _Refused as exc:
        _record_failure(db, witness.name, str(exc), exc.serious, now)
        return Outcome(witness.name, False, head.tree_size, str(exc), exc.serious)
    except httpx.HTTPError as exc:
        error = f"unreachable: {type(exc).__name__} {exc}".strip()
        _record_failure(db, witness.name, error, False, now)
        return Outcome(witness.name, False, head.tree_size, error)
    _store(db, witness.name, offer, found, now)
    return Outcome(witness.name, True, offer.tree_size)


def states(session: Session, db: Database) -> list[tuple[WitnessSettings, WitnessState | None]]:
    """Each configured witness with its state (None before its first round), in the settings' order."""
    return [(w, _state(session, w.name)) for w in db.settings.ledger.witnesses]


def witness_round(db: Database, now: datetime | None = None) -> list[Outcome]:
    """Offer the newest checkpoint to every configured witness, one after the other."""
    settings = db.settings.ledger
    timeout = httpx.Timeout(settings.witness_timeout_seconds)
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        return [offer_to(db, witness, client, now or utcnow()) for witness in settings.witnesses]


class WitnessSchedule:
    """A thread that offers the newest checkpoint to the witnesses every
    ``COOP_LEDGER_WITNESS_INTERVAL_SECONDS``, and soon after :meth:`nudge` (a head was signed)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.period = db.settings.ledger.witness_interval_seconds
        self._stop = threading.Event()
        self._nudged = threading.Event()
        self._thread = threading.Thread(target=self._run, name="witnesses", daemon=True)

    def start(self) -> None:
        if self.db.settings.ledger.witnesses:
            self._thread.start()

    def nudge(self) -> None:
        self._nudged.set()

    def stop(self) -> None:
        self._stop.set()
        self._nudged.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2 * self.db.settings.ledger.witness_timeout_seconds + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                witness_round(self.db)
            except Exception:  # the database may be away for a while; try again next time
                logger.warning("could not offer the checkpoint to the witnesses", exc_info=True)
            self._nudged.wait(self.period)
            self._nudged.clear()
