"""aics-witness, an independent C2SP tlog-witness from PyPI (``make witness`` installs it in
.cache/witness-venv, on Python 3.12), run as a process on a free port for the tests.

One process per xdist worker; each test's log has a name of its own, which the test makes
the witness trust (its configuration is rewritten and the process reloads it on SIGHUP), so
the witness's state of one test never meets another's.

Skipped only when the witness is not installed outside CI; ``COOP_WITNESS=require``
(.ci/run) makes that a failure.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / ".cache" / "witness-venv" / "bin" / "aics-witness"
NAME = "witness.coop.test/w1"


class AicsWitness:
    def __init__(self, directory: Path) -> None:
        self.config = directory / "witness.json"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        done = self._run("init", "--name", NAME, "--listen", f"127.0.0.1:{self.port}")
        self.vkey = done.stdout.strip().splitlines()[0]
        self.log = (directory / "witness.log").open("w")
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--config", str(self.config), "--log-level", "WARNING"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.process.poll() is None, (directory / "witness.log").read_text()
            time.sleep(0.1)
        raise AssertionError("aics-witness did not answer on /healthz")

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BINARY), *args, "--config", str(self.config)], capture_output=True, text=True, check=True, timeout=60
        )

    def trust(self, origin: str, log_vkey: str, initial: tuple[int, bytes] | None = None) -> None:
        """Trust the log ``origin`` with this key, optionally pinned at a checkpoint (size,
        root) obtained out of band; then wait until the running witness knows it."""
        config = json.loads(self.config.read_text())
        entry: dict[str, object] = {"origin": origin, "vkeys": [log_vkey]}
        if initial is not None:
            entry["initial"] = {"size": initial[0], "root": base64.b64encode(initial[1]).decode()}
        config["logs"].append(entry)
        self.config.write_text(json.dumps(config, indent=2))
        self.process.send_signal(signal.SIGHUP)
        stranger = base64.b64encode(bytes(4 + 64)).decode()  # a well-formed signature line of no known key
        probe = f"old 0\n\n{origin}\n1\n{base64.b64encode(bytes(32)).decode()}\n\n\u2014 {origin} {stranger}\n".encode()
        for _ in range(300):  # an unknown origin is 404; a known one is refused for its missing signature
            if httpx.post(f"{self.url}/add-checkpoint", content=probe, timeout=5).status_code != 404:
                return
            time.sleep(0.05)
        raise AssertionError(f"aics-witness did not take up {origin}")

    def evidence(self, origin: str) -> list[dict]:
        """The log-signed requests the witness kept because they contradicted what it cosigned."""
        return json.loads(self._run("evidence", "--origin", origin).stdout)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def aics_witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AicsWitness]:
    if not os.access(BINARY, os.X_OK):
        if os.environ.get("COOP_WITNESS") == "require":
            pytest.fail(f"COOP_WITNESS=require but aics-witness is missing at {BINARY} (make witness)")
        pytest.skip("aics-witness is not installed (make witness: a venv of Python 3.12 with aics-witness from PyPI)")
    witness = AicsWitness(tmp_path_factory.mktemp("witness"))
    yield witness
    witness.stop()
