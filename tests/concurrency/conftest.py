"""Crowds of clients: many threads, each with its own HTTP connection, released at the same
moment against the app served by uvicorn (see ``live_server``), so that their requests
really overlap in the database."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import httpx

from tests.together import together

T = TypeVar("T")
CROWD = 8


def crowd(base_url: str, call: Callable[[httpx.Client, int], T], n: int = CROWD) -> list[T]:
    """Run ``call(http, i)`` for i in 0..n-1 in n threads that start together; results in order."""
    clients = [httpx.Client(base_url=base_url, timeout=120) for _ in range(n)]
    try:
        for http in clients:
            http.get("/health")  # connect before the start line, so requests leave together
        return together(*(partial(call, http, i) for i, http in enumerate(clients)))
    finally:
        for http in clients:
            http.close()


def statuses(responses: list[httpx.Response]) -> list[int]:
    """The status codes, after checking that none is a server error (a 5xx is a bug)."""
    for r in responses:
        assert r.status_code < 500, f"{r.status_code}: {r.text}"
    return sorted(r.status_code for r in responses)
