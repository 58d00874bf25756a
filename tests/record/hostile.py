"""A hostile server for the clients that talk to other people's servers: a witness or a log
that answers with whatever a test tells it to, on a free port, in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

Answer = Callable[[str, bytes], tuple[int, dict[str, str], Iterator[bytes]]]
"""What the server answers to a path and a request body: status, headers and the body's pieces."""


class Hostile:
    def __init__(self) -> None:
        self.answer: Answer = lambda _path, _body: (404, {}, iter(()))
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, pieces = hostile.answer(self.path, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    for piece in pieces:
                        self.wfile.write(piece)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up: as it should
                    pass

            do_GET = do_POST = _serve

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    server = Hostile()
    yield server
    server.close()


def endless(piece: bytes, total: int) -> Iterator[bytes]:
    """``total`` bytes in pieces: more than any client should read."""
    for _ in range(total // len(piece)):
        yield piece
