"""Signing tree heads over the ledger of record when no reader is looking.

A commit signs a head when the last one is older than the signing interval (see
:func:`ledger.log.seal`); what a burst of writes leaves unsigned is signed by the
server's schedule (every half interval, when events are waiting) and by each command of
the command line as it ends. Reading a head never signs one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from coop.db import Database
from coop.types import utcnow
from ledger import log
from ledger.signing import SignedTreeHead

logger = logging.getLogger("coop")


def sign_pending(db: Database, now: datetime) -> SignedTreeHead | None:
    """Sign a head at ``now`` over the events no signed head covers yet; None when there are none."""
    with db.unit_of_work(write=False) as session:
        if log.unsigned_events(session) <= 0:
            return None
    with db.unit_of_work() as session:  # under the writers' lock: the size it signs is final
        return log.sign_current_head(session, db.signer, now=now)


class HeadSchedule:
    """A thread that signs pending events every half signing interval, while the server runs;
    ``on_signed`` is called after each head it signs (the witnesses are told)."""

    def __init__(self, db: Database, on_signed: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_signed = on_signed
        self.period = max(1.0, db.settings.ledger.head_interval_seconds / 2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-head-schedule", daemon=True)

    def start(self) -> None:
        if self.db.settings.ledger.head_interval_seconds > 0:  # zero: every commit signs already
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                if sign_pending(self.db, utcnow()) is not None and self.on_signed is not None:
                    self.on_signed()
            except Exception:  # the database may be away for a while; try again next time
                logger.warning("could not sign a tree head on schedule", exc_info=True)
