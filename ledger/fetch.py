"""HTTP answers read with bounds: at most so many bytes, within so many seconds.

Witnesses and the logs an auditor reads are other people's servers. httpx's timeout bounds
each wait for bytes, not the whole answer, and it reads any body whole: a server that sends
without end, or a byte at a time, would hold a round or an audit (and its memory) for ever.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx


class Unbounded(httpx.HTTPError):
    """The answer was larger, or slower, than allowed; it was dropped unread."""


class TooLarge(Unbounded):
    """The answer was larger than allowed."""


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def request(client: httpx.Client, method: str, url: str, *, limit: int, seconds: float, **kwargs: Any) -> Answer:
    """Send the request and read the answer's body, decoded, up to ``limit`` bytes and for
    ``seconds`` at most (each wait for bytes also within the client's timeout)."""
    deadline = time.monotonic() + seconds
    with client.stream(method, url, **kwargs) as response:
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            raise TooLarge(f"{url} answers with {declared} bytes, more than the {limit:,} allowed")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise TooLarge(f"{url} answers with more than the {limit:,} bytes allowed")
            if time.monotonic() > deadline:
                raise Unbounded(f"{url} took more than {seconds:g} seconds to answer")
        return Answer(response.status_code, response.headers, bytes(body))
