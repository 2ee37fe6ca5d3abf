"""Tick-to-trade timestamps on the perf_counter_ns clock (CLOCK_MONOTONIC on Linux: one
clock for every process on the machine, so a simulator in another process can compare).

- `frame_ns`: when the transport read the frame being handled right now (0 between
  frames). `WsClient` sets it around each `on_message` call, so whatever the handler calls
  synchronously (codec, composite, a strategy's listener) can tell which frame it reacts to.
- `ORIGIN`: a consumer that starts orders because of a frame sets a `TickOrigin` in the task
  that sends them; `HttpClient` appends the moment each request of that task (and of the
  tasks it starts) is written to the socket (`transport.wire`, right after `transport.write`:
  its connections keep no write buffer, so the socket's send has run by then, on uvloop too).
"""

from __future__ import annotations

import time
from contextvars import ContextVar

frame_ns = 0


class TickOrigin:
    """The frame a trade reacts to, and when each of the trade's requests was written."""

    __slots__ = ("frame_ns", "sent_ns")

    def __init__(self, frame_ns: int) -> None:
        self.frame_ns = frame_ns
        self.sent_ns: list[int] = []


ORIGIN: ContextVar[TickOrigin | None] = ContextVar("cexarb_tick_origin", default=None)


def request_written() -> None:
    """Record now as the write time of a request, if the running task traces a trade."""
    origin = ORIGIN.get()
    if origin is not None:
        origin.sent_ns.append(time.perf_counter_ns())
