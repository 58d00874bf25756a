"""Calls released at the same moment, each in a thread of its own, so that they really
overlap (in the database, the outbox, the login throttle)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def together(*calls: Callable[[], T]) -> list[T]:
    """Run every call in a thread of its own, all released at once; their results in the
    calls' order. Whatever one of them raises is raised here once every thread has ended:
    a failure under concurrency fails the test instead of ending quietly with its thread."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], T]) -> None:
        try:
            start.wait()
            results[i] = call()
        except threading.BrokenBarrierError:  # another call failed before this one started
            pass
        except BaseException as exc:
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
