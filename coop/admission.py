"""How many writing requests the server works on at once.

A synchronous route runs in a worker thread, and so does the validation of its answer,
which FastAPI does *before* the unit of work ends (the request's dependencies close after
the response is built). A writer waiting for its turn (or the writers' lock) holds a worker
thread meanwhile. With more writing requests than worker threads, every thread could be
held by a writer waiting for the one whose turn it is, while that one waits for a thread to
validate its answer: nobody moves until the waits run out (503s). So writing requests
(every method but GET, HEAD and OPTIONS) beyond a share of the threads wait here, on the
event loop, before they take any thread; reads never wait here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import anyio.to_thread

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

READING = frozenset({"GET", "HEAD", "OPTIONS"})
SPARE_THREADS = 8
"""Worker threads writers leave to the others: to the one whose turn it is, and to reads."""


class WriteAdmission:
    """ASGI middleware: at most (worker threads - ``SPARE_THREADS``) writing requests at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._slots: anyio.Semaphore | None = None

    def _semaphore(self) -> anyio.Semaphore:
        if self._slots is None:  # made in the event loop, sized by its thread limiter
            threads = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
            self._slots = anyio.Semaphore(max(1, threads - SPARE_THREADS))
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method", "GET") in READING:
            await self.app(scope, receive, send)
            return
        async with self._semaphore():
            await self.app(scope, receive, send)
