"""An independent client checks the live server's checkpoints and tiles: tests/verifier,
a Go program on Go's golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's packages,
built offline by ``make go-verifier``).

Skipped only when Go or golang.org/x/mod is missing outside CI; ``COOP_GO=require``
(.ci/run) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from coop.db import Database
from ledger.signing import Signer, note_verifier_key
from ledger.tiles import WIDTH
from tests import factories as f
from tests.record.test_tiles import fill

ROOT = Path(__file__).resolve().parents[2]
X_MOD = Path("/usr/share/gocode/src/golang.org/x/mod/sumdb")


@pytest.fixture(scope="session")
def go_verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None or not X_MOD.is_dir():
        missing = "Go and golang.org/x/mod (apt-get install golang-go golang-golang-x-mod-dev; make go-verifier)"
        if os.environ.get("COOP_GO") == "require":
            pytest.fail(f"COOP_GO=require but {missing} are missing")
        pytest.skip(f"{missing} are missing")
    binary = tmp_path_factory.mktemp("go") / "verifier"
    env = {
        **os.environ,
        "GOPATH": "/usr/share/gocode",
        "GO111MODULE": "off",
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOCACHE": str(ROOT / ".cache" / "go-build"),
    }
    subprocess.run([go, "build", "-o", str(binary), "./tests/verifier"], cwd=ROOT, env=env, check=True)
    return binary


class Verifier:
    def __init__(self, binary: Path, base: str, key: str) -> None:
        self.binary, self.base, self.key = binary, base, key

    def run(self, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), "-log", self.base, "-key", key or self.key, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    def check(self, *args: str) -> dict:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def verifier(go_verifier: Path, live_server: str) -> Iterator[Verifier]:
    base = f"{live_server}/api/v1/ledger"
    key = httpx.get(f"{base}/public-key", timeout=60).json()[
        "note_verifier_key"
    ]  # a first request may wait on a busy machine
    yield Verifier(go_verifier, base, key)


def saved_checkpoint(verifier: Verifier, path: Path) -> Path:
    path.write_text(httpx.get(f"{verifier.base}/checkpoint", timeout=60).text)
    return path


def test_go_checks_checkpoints_tiles_inclusion_and_consistency(
    verifier: Verifier, client: TestClient, database: Database, tmp_path: Path
) -> None:
    board = f.board(client, database)
    for _ in range(3):
        f.admit_over_http(client, board)
    small = fill(database, 20)
    first = saved_checkpoint(verifier, tmp_path / "first")
    assert verifier.check("-check", f"1,{small}") | {"fetched": 0} == {
        "origin": "demo-coop.nl/ledger", "tree_size": small, "tiles": 1, "entries": small,
        "included": [1, small], "fetched": 0,
    }  # fmt: skip
    middle_size = fill(database, WIDTH - small)  # exactly one full tile
    middle = saved_checkpoint(verifier, tmp_path / "middle")
    assert verifier.check("-previous", str(first))["tiles"] == 2  # tile/0/000 and tile/1/000.p/1
    size = fill(database, 2 * WIDTH + 7)
    assert size == middle_size + 2 * WIDTH + 7
    seqs = [1, small, small + 1, WIDTH, WIDTH + 1, 2 * WIDTH + 3, size]
    for earlier, earlier_size in ((first, small), (middle, middle_size)):
        summary = verifier.check("-previous", str(earlier), "-check", ",".join(map(str, seqs)))
        assert summary["tree_size"] == summary["entries"] == size
        assert summary["included"] == seqs and summary["consistent_with"] == earlier_size
        assert summary["tiles"] == 3 + 1 + 1  # three full and one partial at level 0, one partial at level 1


def test_go_refuses_another_key_and_a_forged_checkpoint(
    verifier: Verifier, client: TestClient, database: Database, tmp_path: Path
) -> None:
    f.board(client, database)
    fill(database, 5)
    stranger = note_verifier_key("demo-coop.nl/ledger", Ed25519PrivateKey.generate().public_key())
    done = verifier.run(key=stranger)
    assert done.returncode == 1 and "checkpoint signature" in done.stderr
    other_name = note_verifier_key("other-coop.nl/ledger", Signer(Ed25519PrivateKey.generate()).public_key)
    assert verifier.run(key=other_name).returncode == 1
    # an earlier checkpoint for a tree that is not this log's prefix, signed by a key the verifier does not know
    text = saved_checkpoint(verifier, tmp_path / "real").read_text()
    lines = text.split("\n")
    forged = tmp_path / "forged"
    forged.write_text("\n".join([lines[0], "3", lines[2], *lines[3:]]))
    done = verifier.run("-previous", str(forged))
    assert done.returncode == 1 and "earlier checkpoint" in done.stderr


def _tamper_node(database: Database, level: int, idx: int) -> None:
    """What anyone with database access can do: lift the guards and change a stored hash."""
    with database.write_engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE ledger_node DISABLE TRIGGER USER")
        else:
            names = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_node'"
            ).scalars()
            for name in list(names):
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
        conn.exec_driver_sql(
            "UPDATE ledger_node SET hash = leaf_hash FROM ledger_event "
            f"WHERE seq = 1 AND level = {level} AND idx = {idx}"
        )


def test_go_and_its_own_checks_refuse_a_tile_that_is_not_its_parent(verifier: Verifier, database: Database) -> None:
    """A level 1 hash that is not the root of the full level 0 tile below it: checked tile by
    tile, not only along the paths older x/mod's TileHashReader authenticates."""
    fill(database, 2 * WIDTH + 1)
    assert verifier.check()["tree_size"] == 2 * WIDTH + 1
    _tamper_node(database, 8, 1)
    done = verifier.run()
    assert done.returncode == 1 and "level 1 hash 1 is not the root of its full tile below" in done.stderr
