"""The kernel's TCP send path kept warm between orders.

An order's request is one `send` on an idle keep-alive socket. After a quiet spell that
call finds the kernel's TCP send path (tcp_sendmsg, the IP output path, the device queue)
cold, and on a small VM it was the largest single stage of the reflex (docs/performance.md,
part 9). The engine's rehearsals keep the Python half of the order path warm;
`SendPathWarmer` is the kernel's half: one small segment over a loopback TCP pair of the
process's own, read back at once. Nothing leaves the machine and no venue sees it
(kernel-bypass stacks offer the same idea as a send flag: OpenOnload's ONLOAD_MSG_WARM).

On a real venue's path the send half is what counts (the loopback's receive half, which
the warming also exercises, runs inside the sender's call only when the peer is local).
"""

from __future__ import annotations

import logging
import socket

log = logging.getLogger("cexarb.transport.warmth")

# About one order request's size: the segment takes the path an order's does.
_SEGMENT = b"w" * 512
_READ = 65536


class SendPathWarmer:
    """A loopback TCP pair, made on the first `warm`, which sends one segment on it and
    reads it back. Warmth is only speed: if the pair cannot be made or breaks, the warmer
    says so once in the log and does nothing from then on. `close` when done."""

    def __init__(self) -> None:
        self._out: socket.socket | None = None
        self._in: socket.socket | None = None
        self._failed = False

    def warm(self) -> None:
        """One segment through the kernel's TCP send path, and read back (loopback delivers
        it within the send). Never blocks, never raises."""
        if self._failed:
            return
        try:
            if self._out is None:
                self._connect()
            self._out.send(_SEGMENT)  # type: ignore[union-attr]
            try:
                while self._in.recv(_READ):  # type: ignore[union-attr]
                    pass
            except BlockingIOError:
                pass  # all read
        except OSError:
            log.warning("the kernel's send path is no longer kept warm", exc_info=True)
            self._failed = True
            self.close()

    def close(self) -> None:
        """Close the pair (idempotent); a later `warm` makes a new one unless one failed."""
        for end in (self._out, self._in):
            if end is not None:
                end.close()
        self._out = self._in = None

    def _connect(self) -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            out = socket.create_connection(listener.getsockname())
            try:
                self._in, _ = listener.accept()
            except BaseException:
                out.close()
                raise
        self._out = out
        # As asyncio's and uvloop's TCP transports set theirs (the venues' connections).
        out.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        out.setblocking(False)
        self._in.setblocking(False)
