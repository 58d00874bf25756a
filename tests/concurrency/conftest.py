"""Crowds of clients: many threads, each with its own HTTP connection, released at the same
moment against the app served by uvicorn (see ``live_server``), so that their requests
really overlap in the database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")
CROWD = 8


def crowd(base_url: str, call: Callable[[httpx.Client, int], T], n: int = CROWD) -> list[T]:
    """Run ``call(http, i)`` for i in 0..n-1 in n threads that start together; results in order."""
    barrier = threading.Barrier(n)
    results: list[T | None] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            with httpx.Client(base_url=base_url, timeout=120) as http:
                http.get("/health")  # connect before the start line, so requests leave together
                barrier.wait()
                results[i] = call(http, i)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


def statuses(responses: list[httpx.Response]) -> list[int]:
    """The status codes, after checking that none is a server error (a 5xx is a bug)."""
    for r in responses:
        assert r.status_code < 500, f"{r.status_code}: {r.text}"
    return sorted(r.status_code for r in responses)
