"""Transient database trouble, handled once for every request.

A request whose transaction failed with a deadlock or a serialisation failure wrote
nothing, so it runs again, whole, a bounded number of times (the request body is kept
for that). A request that cannot reach the database, or whose writer waited too long for
the writers' lock, answers 503 with ``Retry-After`` (problem+json for the API, a page for
the portal); the connection pool replaces dropped connections, so the service recovers
by itself on a later request. Nothing is retried once the response has started.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from coop.db import Trouble, trouble

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ATTEMPTS = 4
"""At most this many runs of one request (the first and three more)."""
RETRY_AFTER_SECONDS = 5
logger = logging.getLogger("coop")


class RetryTransient:
    """ASGI middleware: run a request again after a deadlock or serialisation failure, and
    answer 503 when the database is unavailable. ``unavailable(request)`` builds that answer."""

    def __init__(self, app: ASGIApp, unavailable: Callable[[Request, int], Response]) -> None:
        self.app = app
        self.unavailable = unavailable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        for attempt in range(1, ATTEMPTS + 1):
            started = False

            async def tracking_send(message: Message) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)

            try:
                await self.app(scope, _replay(body, receive), tracking_send)
                return
            except Exception as exc:
                kind = trouble(exc)
                if kind is None or started:
                    raise
                if kind is Trouble.retry and attempt < ATTEMPTS:
                    logger.info("transaction failed transiently (%s); running it again", exc.__class__.__name__)
                    await asyncio.sleep(random.uniform(0.005, 0.02) * 2**attempt)  # noqa: S311 (jitter)
                    continue
                logger.warning("database unavailable: %s", exc)
                response = self.unavailable(Request(scope), RETRY_AFTER_SECONDS)
                await response(scope, _replay([], receive), send)
                return


async def _read_body(receive: Receive) -> list[Message]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The request's messages again, then whatever the client sends next (a disconnect)."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
