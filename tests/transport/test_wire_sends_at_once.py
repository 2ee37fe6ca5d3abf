"""A request the pool writes is on the socket when the write returns, on either event loop,
over TCP and TLS: uvloop otherwise queues a write and sends it when its current batch of
callbacks ends, so an order would wait for whatever the caller does next (the second leg
built, both booked). The server here runs in a thread and the client's loop is blocked
while it waits: the server reads the request only if the write itself sent it."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path

import pytest

from cexarb import eventloop
from cexarb.transport.wire import WirePool

TLS = Path(__file__).parent.parent / "data" / "tls"
_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


class _ThreadServer:
    """HTTP/1.1 on 127.0.0.1 in a thread of its own: it reads requests (heads and bodies by
    Content-Length) on one connection, records each path and answers each with `{}`."""

    def __init__(self, tls: bool) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._tls = tls
        self.paths: list[str] = []
        self.seen = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        if self._tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(TLS / "localhost.crt", TLS / "localhost.key")
            conn = ctx.wrap_socket(conn, server_side=True)
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                length = next(
                    (
                        int(line.split(":", 1)[1])
                        for line in lines
                        if line.lower().startswith("content-length:")
                    ),
                    0,
                )
                while len(buf) < length:
                    buf += conn.recv(65536)
                buf = buf[length:]
                with self.seen:
                    self.paths.append(lines[0].split(" ")[1])
                    self.seen.notify_all()
                conn.sendall(_REPLY)

    def wait_for(self, count: int) -> bool:
        """Block (the caller's loop too) until `count` requests were read; False after 5 s."""
        with self.seen:
            return self.seen.wait_for(lambda: len(self.paths) >= count, timeout=5.0)

    def close(self) -> None:
        self._listener.close()


def _loops() -> list[str]:
    loops = ["asyncio"]
    with contextlib.suppress(ImportError):
        eventloop.loop_factory("uvloop")
        loops.append("uvloop")
    return loops


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
@pytest.mark.parametrize("loop", _loops())
def test_a_request_written_now_is_on_the_socket_when_the_write_returns(loop, tls):
    server = _ThreadServer(tls)
    scheme = "https" if tls else "http"
    context = ssl.create_default_context(cafile=str(TLS / "localhost.crt")) if tls else None

    async def client() -> None:
        pool = WirePool(f"{scheme}://127.0.0.1:{server.port}", ssl_context=context)
        try:
            first = await pool.request("POST", "/first", {}, b"{}", 5.0)  # opens the connection
            assert first.status == 200 and pool.can_send_now()
            reply = pool.write_now(pool.encode("POST", "/second", {}, b'{"q":1}'), "POST", 5.0)
            # Nothing awaited since the write: the loop has run nothing that could send it.
            assert server.wait_for(2), "the request was still buffered when its write returned"
            assert (await reply).status == 200
        finally:
            await pool.close()

    try:
        eventloop.run(client(), loop)
    finally:
        server.close()
    assert server.paths == ["/first", "/second"]
