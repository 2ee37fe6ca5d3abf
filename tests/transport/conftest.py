"""Real sockets on 127.0.0.1: small aiohttp servers the transport tests talk to."""

from __future__ import annotations

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
