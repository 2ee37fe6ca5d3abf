"""Real sockets on 127.0.0.1: small aiohttp servers the transport tests talk to."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Mapping

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from cexarb.model.errors import ExchangeError, NetworkError, RateLimitError, TimestampError


def map_error(status: int, body: bytes, headers: Mapping[str, str]) -> ExchangeError:
    """A venue error mapper as the venue layer writes one (without Retry-After parsing)."""
    text = body.decode(errors="replace")
    if status == 429:
        return RateLimitError(text, venue="test", http_status=status)
    if status >= 500:
        return NetworkError(text, venue="test", http_status=status)
    if status == 401 and "EXPIRED" in text:
        return TimestampError(text, venue="test", http_status=status, code="EXPIRED")
    return ExchangeError(text, venue="test", http_status=status)


HANG = b"hang"  # a RawServer reply: read the request, never answer it


class RawServer:
    """A TCP server answering each request with the next canned reply (bytes; None: close the
    connection without answering; HANG: never answer, until the client closes; a reply saying Connection: close
    closes it after); records every request it read, head and body, as read."""

    def __init__(self, replies: list[bytes | None]) -> None:
        self.replies = replies
        self.requests: list[bytes] = []
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.handlers: list[asyncio.Task] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        self.handlers.append(asyncio.current_task())
        try:
            while self.replies:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                self.requests.append(head + await reader.readexactly(length))
                reply = self.replies.pop(0)
                if reply is None:
                    break
                if reply is HANG:
                    await reader.read()  # until the client gives up on it and closes
                    break
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        self.server.close()
        await self.server.wait_closed()
        # Each handler ends on its connection's close: left running, the loop's end would
        # cancel it, which asyncio's stream server logs as an error.
        await asyncio.gather(*self.handlers, return_exceptions=True)


class Recorder:
    """What a test server saw: per path, the monotonic arrival times and requests."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.requests: dict[str, list[web.Request]] = {}

    def record(self, request: web.Request) -> int:
        self.arrivals.setdefault(request.path, []).append(time.monotonic())
        self.requests.setdefault(request.path, []).append(request)
        return len(self.arrivals[request.path])

    def count(self, path: str) -> int:
        return len(self.arrivals.get(path, ()))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def serve():
    """`server = await serve(app)`: a started TestServer, closed after the test."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> TestServer:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
