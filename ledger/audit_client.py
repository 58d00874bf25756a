"""``coop ledger audit``: an outsider's audit of the log over HTTP, with no database.

Fetches the log's checkpoint, checks its signature with the key the auditor trusts, reads
every tile (:func:`ledger.audit.audit_tree`), checks that the log extends the checkpoint
saved by the last audit, and saves the new one. The state directory holds:

* ``key``: the note verifier key trusted for this log. Without one (and without ``--key``)
  the first audit takes the key the server names at ``/public-key``: trust on first use,
  which the command says plainly, with the key's fingerprint to compare out of band.
* ``checkpoint``: the newest checkpoint that passed, as the server sent it (a signed note,
  which ``coop ledger verify --checkpoint`` also reads).
* ``tiles/``: the full level 0 hash tiles verified so far. Full tiles never change, so the
  next audit reads from the server only what is new (and the tiles above level 0); the
  roots are still recomputed from every leaf hash.

Files are replaced atomically, and only when an audit passes; the checkpoint last.

A cooperative may keep its entry bundles to its board and auditors
(``COOP_LEDGER_PUBLIC_ENTRIES=false``): the auditor then sends its key (``--token``) as
``Authorization: Bearer``, to the log's own origin only (:class:`BearerForOrigin`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx

from ledger import fetch
from ledger.audit import AuditReport, DoesNotVerify, Rewritten, audit_tree
from ledger.events import MAX_EVENT_BYTES
from ledger.merkle import HASH_SIZE
from ledger.notes import Checkpoint, NoteError, VerifierKey, parse_checkpoint, parse_verifier_key
from ledger.tiles import ENTRIES, WIDTH, Tile

LOG_PATH = "/api/v1/ledger"
"""Where a cooperative's server serves its log, when the URL given is the server's own."""
KEY_FILE = "key"
CHECKPOINT_FILE = "checkpoint"
TILES_DIR = "tiles"
"""Full level 0 hash tiles verified by earlier audits, at their tlog-tiles paths (``tiles/tile/0/000``)."""
FETCHERS = 4
"""Requests in flight at once: enough to keep a server and the checks busy together."""
AHEAD = 32
"""Tiles fetched ahead of the checks, at most (a bound on memory)."""
MAX_TEXT_BYTES = 1 << 20
"""The largest checkpoint or public key the auditor reads (they have a few hundred bytes)."""
FETCH_SECONDS = 600.0
"""The longest one answer may take, however steadily it drips in."""


class CannotAudit(Exception):
    """The audit could not be carried out (network, URL, state directory, keys): nothing is known of the log."""


def default_state_root() -> Path:
    """``$XDG_STATE_HOME/coop/audit``, by default ``~/.local/state/coop/audit``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "coop" / "audit"


def state_dir_of(origin: str) -> Path:
    """The default state directory of the log named ``origin``: one directory per log."""
    return default_state_root() / quote(origin, safe="")


def log_url(url: str) -> str:
    """The log's URL prefix: the URL given, or the server's own log when it names no path."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CannotAudit(f"{url!r} is not an http(s) URL")
    return url.rstrip("/") + (LOG_PATH if parts.path in ("", "/") else "")


PRIVATE_ENTRIES = "this log's entries are for its board and auditors: ask the cooperative for an auditor key (--token)"


class BearerForOrigin(httpx.Auth):
    """``Authorization: Bearer <token>`` on requests to one origin (scheme, host and port)
    only. httpx applies an auth to the request it is given, not to the redirects it follows,
    and drops ``Authorization`` from a redirect to another origin; this also keeps the token
    from any request the client might make elsewhere."""

    def __init__(self, origin: str, token: str) -> None:
        self.origin, self.token = _origin(origin), token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(str(request.url)) == self.origin:
            request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


class HttpLog:
    """The log's resources over HTTP: public, but for entry bundles a cooperative may keep
    to its board and auditors (then read with ``token``)."""

    def __init__(self, url: str, client: httpx.Client, token: str | None = None) -> None:
        self.base, self.client, self.token = log_url(url), client, token
        self.auth = BearerForOrigin(self.base, token) if token else None

    def get(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        """The resource at ``path``, of ``limit`` bytes at most (a tile: what the tile can hold)."""
        try:
            r = fetch.request(
                self.client, "GET", f"{self.base}/{path}", limit=limit, seconds=FETCH_SECONDS, auth=self.auth
            )
        except fetch.TooLarge as exc:
            if path.startswith("tile/"):
                raise DoesNotVerify(f"the log serves {path} longer than the {limit:,} bytes it can hold") from exc
            raise CannotAudit(f"could not fetch {self.base}/{path}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise CannotAudit(f"could not fetch {self.base}/{path}: {exc}") from exc
        if r.status_code in (401, 403) and (self.token is not None or path.startswith("tile/entries/")):
            raise CannotAudit(self._refused(path, r.status_code, r.text))
        if r.status_code == 404 and path.startswith("tile/"):
            raise DoesNotVerify(f"the log does not serve {path}, which the checkpoint's tree holds")
        if r.status_code != 200:
            raise CannotAudit(f"GET {self.base}/{path}: {r.status_code} {r.text[:300]}")
        return r.content

    def _refused(self, path: str, status: int, text: str) -> str:
        if self.token is None:
            return f"GET {self.base}/{path}: {status}; {PRIVATE_ENTRIES}"
        return f"GET {self.base}/{path}: the key given (--token) was refused: {status} {text[:300]}"

    def read(self, tiles: Iterable[Tile]) -> Iterator[bytes]:
        """The tiles' bytes in order, a few fetched at once and at most :data:`AHEAD` ahead."""
        with ThreadPoolExecutor(max_workers=FETCHERS) as pool:
            pending: deque[Future[bytes]] = deque()
            waiting = iter(tiles)
            try:
                for tile in waiting:
                    pending.append(pool.submit(self.get, tile.path, _most_bytes(tile)))
                    if len(pending) >= AHEAD:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()


def _most_bytes(tile: Tile) -> int:
    """The most bytes a tile can hold: its hashes, or its events at their largest. A longer
    one is dropped unread, and fails the audit."""
    return tile.width * (2 + MAX_EVENT_BYTES) if tile.level == ENTRIES else tile.width * HASH_SIZE


@dataclass
class Plan:
    """An audit ready to run: the checkpoint fetched and its signature checked."""

    log: HttpLog
    state: Path
    key: VerifierKey
    first_use: bool
    """Whether the key was taken from the server on this, the first, audit."""
    key_is_new: bool
    checkpoint: Checkpoint
    checkpoint_text: str
    earlier: Checkpoint | None

    def run(self, progress: Callable[[int], None] | None = None, full: bool = False) -> AuditReport:
        """Read and check every tile (but full level 0 tiles verified before, unless ``full``);
        on success save the key (if new), the full tiles newly verified and the checkpoint.

        When the tiles kept from before and the new checkpoint disagree, everything is read
        again from the server, so the outcome (rewritten, or a tile named) is the server's."""
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(n)

        reused: list[int] = []

        def known(index: int) -> bytes | None:
            data = None if full else self._known_tile(index)
            if data is not None:
                reused.append(index)
            return data

        try:
            report = audit_tree(self.checkpoint, self.log.read, self.earlier, advance, known)
        except (DoesNotVerify, Rewritten):
            if not reused:
                raise
            advance(-done)
            report = audit_tree(self.checkpoint, self.log.read, self.earlier, advance)
        for index, data in report.verified.items():
            _write_atomically(self._tiles() / Tile(0, index, WIDTH).path, data)
        if self.key_is_new:
            _write_atomically(self.state / KEY_FILE, self.key.text + "\n")
        _write_atomically(self.state / CHECKPOINT_FILE, self.checkpoint_text)
        return report

    def _tiles(self) -> Path:
        return self.state / TILES_DIR

    def _known_tile(self, index: int) -> bytes | None:
        path = self._tiles() / Tile(0, index, WIDTH).path
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return data if len(data) == WIDTH * HASH_SIZE else None


def prepare(
    url: str, client: httpx.Client, state: Path | None = None, key: str | None = None, token: str | None = None
) -> Plan:
    """Fetch the checkpoint, settle which key to trust, check the signature, load the saved checkpoint.
    ``token``: the auditor's key (or a login token), for a log whose entry bundles are not public.

    Raises :class:`CannotAudit` or, for a checkpoint the trusted key did not sign,
    :class:`~ledger.audit.DoesNotVerify`."""
    log = HttpLog(url, client, token)
    text = _text(log.get("checkpoint"), "the checkpoint")
    try:
        checkpoint = parse_checkpoint(text)
    except (NoteError, ValueError) as exc:  # ValueError: a tree size of thousands of digits
        raise CannotAudit(f"{log.base}/checkpoint is not a checkpoint: {exc}") from exc
    given = _key_argument(key) if key is not None else None
    directory = state if state is not None else state_dir_of(given.name if given else checkpoint.origin)
    saved = _saved_key(directory)
    if given is not None and saved is not None and given.text != saved.text:
        raise CannotAudit(
            f"the key given ({given.text}) is not the one saved in {directory / KEY_FILE} ({saved.text}); "
            "remove that file to trust another key for this log"
        )
    first_use = given is None and saved is None
    trusted = given or saved or _first_use_key(log)
    if not trusted.signed(checkpoint.note):
        raise DoesNotVerify(f"the checkpoint is not signed by the trusted key {trusted.text}")
    if checkpoint.origin != trusted.name:
        raise DoesNotVerify(f"the checkpoint is for the log {checkpoint.origin!r}, not {trusted.name!r}")
    earlier = _saved_checkpoint(directory, trusted)
    return Plan(log, directory, trusted, first_use, saved is None, checkpoint, text, earlier)


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode()
    except UnicodeDecodeError as exc:
        raise CannotAudit(f"{what} is not UTF-8 text") from exc


def _key_argument(value: str) -> VerifierKey:
    """``--key``: a verifier key, or a file holding one."""
    path = Path(value)
    try:
        text = path.read_text() if path.is_file() else value
        return parse_verifier_key(text.strip())
    except (OSError, NoteError) as exc:
        raise CannotAudit(f"--key is neither a note verifier key nor a file holding one: {exc}") from exc


def _saved_key(directory: Path) -> VerifierKey | None:
    path = directory / KEY_FILE
    try:
        return parse_verifier_key(path.read_text().strip()) if path.exists() else None
    except (OSError, NoteError) as exc:
        raise CannotAudit(f"{path} does not hold a verifier key: {exc}") from exc


def _first_use_key(log: HttpLog) -> VerifierKey:
    try:
        return parse_verifier_key(json.loads(log.get("public-key"))["note_verifier_key"])
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        raise CannotAudit(f"{log.base}/public-key names no note verifier key: {exc}") from exc


def _saved_checkpoint(directory: Path, key: VerifierKey) -> Checkpoint | None:
    path = directory / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        saved = parse_checkpoint(path.read_bytes())
    except (OSError, NoteError) as exc:
        raise CannotAudit(f"{path} does not hold a checkpoint: {exc}") from exc
    if saved.origin != key.name or not key.signed(saved.note):
        raise CannotAudit(f"{path} is not a checkpoint of {key.name} signed by the trusted key")
    return saved


def _write_atomically(path: Path, data: str | bytes) -> None:
    """Replace ``path`` in one step: a crash leaves the old file or the new one, never half of either."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise CannotAudit(f"could not save {path}: {exc}") from exc
