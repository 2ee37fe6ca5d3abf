"""The fleet's event stream: a member's writer and the journal's follower (a consumer group).

Delivery is at least once, end to end. The writer keeps every event it sent until
every consumer group has acknowledged it, so when the server comes back empty
(a restart without persistence) the writer sends them again; the follower
acknowledges an entry only after its sink took it. Both sides may repeat an event,
never lose one: sinks are idempotent by `FleetEvent.id`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from cexarb.coord.base import FleetEvent
from cexarb.logs import log_kv

log = logging.getLogger("cexarb.coord.stream")

_FIELD = "e"
_BATCH = 200
# The stream is capped (approximately) so a fleet with no follower cannot fill the server.
_STREAM_MAX = 1_000_000
# Kept for a resend until acknowledged; beyond this (no follower for a long time) the
# oldest are dropped and counted.
_RETAIN_MAX = 200_000
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(FleetEvent).decode


def _stream_id(raw: bytes | str) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


class EventWriter:
    """Queues events without blocking; `flush` sends them in pipelined batches."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.queue: deque[bytes] = deque()
        self.retained: deque[tuple[tuple[int, int], bytes]] = deque()
        self.sent = 0
        self.dropped = 0
        self.wake = asyncio.Event()
        self._flushing = asyncio.Lock()

    def put(self, event: FleetEvent) -> None:
        self.queue.append(_encode(event))
        self.wake.set()

    async def flush(self, redis: Redis) -> int:
        """Send everything queued; raises RedisError (what was not confirmed stays queued)."""
        async with self._flushing:  # the writer loop and close() may both flush
            return await self._flush(redis)

    async def _flush(self, redis: Redis) -> int:
        sent = 0
        while self.queue:
            batch = [self.queue[i] for i in range(min(_BATCH, len(self.queue)))]
            pipe = redis.pipeline(transaction=False)
            for payload in batch:
                pipe.xadd(self.stream, {_FIELD: payload}, maxlen=_STREAM_MAX, approximate=True)
            ids = await pipe.execute()
            for payload, sid in zip(batch, ids, strict=True):
                self.queue.popleft()
                self.retained.append((_stream_id(sid), payload))
            sent += len(batch)
        self.sent += sent
        while len(self.retained) > _RETAIN_MAX:
            self.retained.popleft()
            self.dropped += 1
        return sent

    async def trim(self, redis: Redis, epoch_key: str, epoch: str | None) -> None:
        """Forget what every consumer group has acknowledged. Only while the server still holds
        the `epoch` the writer knows: a group on a server that restarted since has never
        seen what was retained before the restart."""
        pipe = redis.pipeline(transaction=False)
        pipe.get(epoch_key)
        pipe.xinfo_groups(self.stream)
        try:
            current, groups = await pipe.execute()
        except ResponseError:
            return  # no stream yet
        if current != epoch or not groups:
            return
        through: tuple[int, int] | None = None
        for g in groups:
            if int(g["pending"]):
                summary = await redis.xpending(self.stream, g["name"])
                low = _stream_id(summary["min"])
                mark = (low[0], low[1] - 1) if low[1] else (low[0] - 1, 2**63)
            else:
                mark = _stream_id(g["last-delivered-id"])
            through = mark if through is None else min(through, mark)
        retained = self.retained
        while retained and through is not None and retained[0][0] <= through:
            retained.popleft()

    def resend_all(self) -> None:
        """The server lost the stream: everything not known acknowledged goes again."""
        self.queue.extendleft(payload for _, payload in reversed(self.retained))
        self.retained.clear()
        self.wake.set()


# Takes a batch and returns once it is kept (the entries are acknowledged after that).
Sink = Callable[[list[FleetEvent]], Awaitable[None]]


async def follow(
    redis: Redis,
    stream: str,
    sink: Sink,
    stop: asyncio.Event,
    *,
    group: str = "journal",
    consumer: str = "follower",
    block_ms: int = 500,
    on_error: Callable[[Exception], None] | None = None,
) -> int:
    """Feed `sink` every event of the stream once acknowledged by this group, until `stop`.

    Starts with this consumer's own unacknowledged entries (a previous run died between
    the sink and the ack), then new ones. Reconnects with backoff; a lost group (server
    restart) is created again from the start of what the stream holds. Returns how many
    entries were handed to the sink.
    """
    handled = 0
    backoff = 0.05
    backlog = True  # first our own pending entries ("0"), then new ones (">")
    while not stop.is_set():
        try:
            if backlog:
                await _ensure_group(redis, stream, group)
            reply = await redis.xreadgroup(
                group, consumer, {stream: "0" if backlog else ">"}, count=_BATCH, block=block_ms
            )
            entries = reply[0][1] if reply else []
            if backlog and not entries:
                backlog = False
                continue
            if entries:
                batch = [_decode(fields[_FIELD]) for _, fields in entries if _FIELD in fields]
                await sink(batch)  # returns once the batch is safely kept
                await redis.xack(stream, group, *(sid for sid, _ in entries))
                handled += len(batch)
            backoff = 0.05
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            backlog = True
        except (RedisError, OSError) as exc:
            if on_error is not None:
                on_error(exc)
            log_kv(log, logging.WARNING, "follow_reconnect", error=type(exc).__name__, backoff_s=backoff)
            try:
                await asyncio.wait_for(stop.wait(), backoff)
            except TimeoutError:
                pass
            backoff = min(backoff * 2, 2.0)
            backlog = True
    return handled


async def _ensure_group(redis: Redis, stream: str, group: str) -> None:
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
