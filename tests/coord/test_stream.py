"""The fleet's event stream against the real Redis: every event reaches the follower,
a follower that died before acknowledging gets its entries again, the journal keeps
each event once however often it is delivered."""

from __future__ import annotations

import asyncio

import pytest

from cexarb.coord.base import FleetEvent
from cexarb.coord.keys import FleetKeys
from cexarb.coord.redis import connect_redis
from cexarb.coord.stream import follow
from cexarb.journal import DecisionMade, Journal
from cexarb.journal.backends import open_backend
from cexarb.journal.fleet import StreamRecorder, follow_into
from tests.coord.helpers import member
from tests.support import eventually


class Sink:
    """Keeps what it was given by id; counts deliveries (at least once, maybe more)."""

    def __init__(self, fail_on_batch: int = 0) -> None:
        self.by_id: dict[str, FleetEvent] = {}
        self.deliveries = 0
        self.batches = 0
        self._fail_on_batch = fail_on_batch

    async def __call__(self, batch: list[FleetEvent]) -> None:
        self.batches += 1
        if self.batches == self._fail_on_batch:
            raise RuntimeError("follower dies before acknowledging")
        for ev in batch:
            self.deliveries += 1
            self.by_id[ev.id] = ev


async def run_follow(redis_url: str, fleet: str, sink: Sink, stop: asyncio.Event) -> asyncio.Task:
    client = connect_redis(redis_url, timeout_s=5.0)
    task = asyncio.create_task(follow(client, FleetKeys(fleet).events, sink, stop, block_ms=50))
    task.add_done_callback(lambda _: asyncio.ensure_future(client.aclose()))
    return task


async def test_every_member_event_reaches_the_follower_once_acknowledged(redis_url, fleet):
    members = [await member(redis_url, fleet, f"m{i}") for i in range(3)]
    sink, stop = Sink(), asyncio.Event()
    follower = await run_follow(redis_url, fleet, sink, stop)
    try:
        for i in range(300):
            m = members[i % 3]
            m.emit("decision", f"{m.member}:{i}", {"i": i})
        await eventually(lambda: len(sink.by_id) == 300, what="300 events followed")
        # Acknowledged entries are dropped from the members' resend buffers.
        await eventually(lambda: all(not m.events_retained for m in members), what="retained buffers trimmed")
    finally:
        stop.set()
        await follower
        for m in members:
            await m.close()
    assert {e.data["i"] for e in sink.by_id.values()} == set(range(300))


async def test_a_follower_that_died_before_acknowledging_gets_the_entries_again(redis_url, fleet):
    m = await member(redis_url, fleet, "m")
    try:
        for i in range(50):
            m.emit("decision", f"m:{i}", {"i": i})
        await eventually(lambda: m.events_pending == 0, what="events written")
        dying, stop = Sink(fail_on_batch=1), asyncio.Event()
        with pytest.raises(RuntimeError):
            await (await run_follow(redis_url, fleet, dying, stop))
        assert not dying.by_id
        again = Sink()
        follower = await run_follow(redis_url, fleet, again, stop)
        await eventually(lambda: len(again.by_id) == 50, what="the unacknowledged entries delivered again")
        stop.set()
        await follower
    finally:
        await m.close()


async def test_journal_follow_writes_each_event_once_however_often_it_is_delivered(
    redis_url, fleet, tmp_path
):
    m = await member(redis_url, fleet, "m")
    url = f"sqlite:///{tmp_path}/fleet.db"
    recorder = StreamRecorder(m, run_id="run-m")
    try:
        for i in range(20):
            recorder.record(
                DecisionMade(symbol="BTC/USDT", kind="spot_spot", pair="a>b", action="taken", trade_no=i + 1)
            )
        # The same events again, as a writer resending after a restart would.
        for ev in list(m._writer.queue):
            m._writer.queue.append(ev)
        await m.halt("test")
        await eventually(lambda: m.events_pending == 0, what="events written")
        # 41 entries (20 events, the same 20 again, the kill switch), read twice: the second
        # follower's group starts from the beginning of the stream.
        for group in ("journal", "replay"):
            journal = Journal.open(url, spool_path=tmp_path / "spool")
            await journal.start()
            stop = asyncio.Event()
            task = asyncio.create_task(follow_into(redis_url, fleet, journal, stop, group=group))
            await eventually(lambda j=journal: j.stats.written == 41, what="every entry written")
            stop.set()
            await task
            await journal.close()
    finally:
        await m.close()
    backend = open_backend(url)
    await backend.connect()
    try:
        decisions = await backend.read("decisions", ["run-m"])
        risk = await backend.read("risk_events", [f"fleet.{fleet}"])
    finally:
        await backend.close()
    assert sorted(d.trade_no for d in decisions) == list(range(1, 21))
    assert [r.kind for r in risk] == ["fleet_kill"]
