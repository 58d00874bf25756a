"""The nation benchmark's manifest path (issue 18, target 2) in a process that imports only
what the path needs: coop, not the other benchmarks, rich or the HTTP crowd. A process
``multiprocessing`` spawns from ``bench/run.py`` imports every benchmark first (about 70 MiB
before the manifest starts), which its peak memory then counted as the manifest's.

Its peak memory is read from ``/proc/self/status`` (see :func:`own_peak_mib`).

``python -m bench.manifest_apart`` reads the pickled ``Settings`` on stdin and prints one
JSON list per stage on stdout: ``["base", rss_mib]`` once imported, then ``["stage",
"created"]``, ``["create", size, seconds, peak_mib]`` and ``["stream", rows, seconds,
peak_mib]`` as ``bench.nation_bench.manifest`` reads them.
"""

from __future__ import annotations

import json
import pickle
import resource
import sys
from datetime import UTC, datetime
from typing import Any

from bench.common import research_permit, timed
from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.db import Database
from coop.permits import manifests
from coop.permits import service as permits
from coop.types import utcnow

HDAB = Actor("key", 1, Role.hdab, org="HDAB")


def own_peak_mib() -> float:
    """This process's own peak resident memory. Not ``getrusage``'s ``ru_maxrss``: Linux
    carries it over ``fork`` and ``exec``, so a child started by a bench that holds 300 MiB
    reports at least 300 MiB before it does anything (``VmHWM`` belongs to the process's
    own address space)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _say(*message: Any) -> None:
    print(json.dumps(message), flush=True)


def main() -> None:
    _say("base", own_peak_mib())
    db = Database(pickle.loads(sys.stdin.buffer.read()))
    new = research_permit("NATION-P1", datetime.now(UTC))
    with db.unit_of_work() as s:
        permit, _ = permits.register(s, HDAB, new, utcnow())
    _say("stage", "created")
    with db.unit_of_work() as s, timed() as created:
        manifest = manifests.create(s, CLI_ACTOR, s.merge(permit), db.settings, utcnow())
    _say("create", manifest.size, created.seconds, own_peak_mib())
    with db.unit_of_work(write=False) as s, timed() as streamed:
        rows = sum(1 for _ in manifests.pseudonyms(s, manifest.id or 0))
    _say("stream", rows, streamed.seconds, own_peak_mib())
    db.dispose()


if __name__ == "__main__":
    main()
