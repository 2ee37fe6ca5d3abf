"""The journal of a fleet: members record into the coordinator's event stream, and
`cexarb journal follow` writes the stream into one journal.

A member's `StreamRecorder` stamps each event with the member's run id and its own
sequence number before it leaves the process, so the journal row's key (run_id, seq)
is fixed at the source: an event delivered twice (at-least-once) is one row. Events
the coordinator itself emits (kill switch, resume, reaped member) carry no journal
body; they become RiskEvents whose seq is derived from the event id, for the same reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time

from cexarb.coord.base import Coordinator, FleetEvent
from cexarb.coord.keys import FleetKeys
from cexarb.coord.redis import connect_redis
from cexarb.coord.stream import follow
from cexarb.journal.events import Event, RiskEvent, decode_batch, encode_batch
from cexarb.journal.writer import Journal, Recorder


class StreamRecorder:
    """A journal `Recorder` that sends every event to the fleet's stream (never blocks)."""

    __slots__ = ("run_id", "_emit", "_seq")

    def __init__(self, coordinator: Coordinator, run_id: str) -> None:
        self.run_id = run_id
        self._emit = coordinator.emit
        self._seq = itertools.count(1)

    def record(self, event: Event) -> None:
        event.run_id = event.run_id or self.run_id
        event.seq = event.seq or next(self._seq)
        event.ts = event.ts or time.time()
        self._emit(type(event).__name__, f"{event.run_id}:{event.seq}", {}, encode_batch([event]))


class Tee:
    """Records into every recorder given (the run's own journal and the fleet's stream)."""

    __slots__ = ("_records",)

    def __init__(self, *recorders: Recorder) -> None:
        self._records = tuple(r.record for r in recorders)

    def record(self, event: Event) -> None:
        for record in self._records:
            record(event)


def journal_events(fleet: str, event: FleetEvent) -> list[Event]:
    """The journal rows one stream entry stands for."""
    if event.body:
        return decode_batch(event.body)
    digest = int.from_bytes(hashlib.blake2b(event.id.encode(), digest_size=8).digest(), "big") >> 1
    detail = " ".join(f"{k}={v}" for k, v in sorted(event.data.items()))
    return [
        RiskEvent(
            run_id=f"fleet.{fleet}",
            seq=digest or 1,
            ts=event.ts,
            kind=f"fleet_{event.kind}",
            venue=event.member,
            detail=detail,
        )
    ]


async def follow_into(
    coordinator_url: str,
    fleet: str,
    journal: Journal,
    stop: asyncio.Event,
    *,
    consumer: str = "follower",
    group: str = "journal",
) -> int:
    """Write the fleet's stream into `journal` until `stop`; each batch is acknowledged once
    the journal has written (or spooled) it. Returns how many stream entries it handled."""
    redis = connect_redis(coordinator_url, timeout_s=5.0, name=f"cexarb.{fleet}.follow.{consumer}")

    async def sink(batch: list[FleetEvent]) -> None:
        for fe in batch:
            for ev in journal_events(fleet, fe):
                journal.record(ev)
        await journal.flush()

    try:
        return await follow(redis, FleetKeys(fleet).events, sink, stop, group=group, consumer=consumer)
    finally:
        await redis.aclose()
