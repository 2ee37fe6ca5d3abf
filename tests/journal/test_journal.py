"""The journal writer on both backends: events round-trip, ids make writes idempotent,
the spool keeps what an unreachable database could not take and replays it once."""

from __future__ import annotations

import time

import pytest

from cexarb.journal import (
    DecisionMade,
    Fill,
    FundingBooked,
    Journal,
    LegDone,
    OrderUpdate,
    RiskEvent,
    RunEnded,
    RunStarted,
    Snapshot,
    TransferBooked,
)
from cexarb.journal.backends import open_backend, redact_url
from cexarb.journal.schema import LATEST_VERSION
from cexarb.model import Execution, FundingPayment, Order, OrderStatus, OrderType, Side, Symbol
from cexarb.model.errors import JournalError, JournalUnavailable
from tests.support import eventually

BTC = Symbol("BTC", "USDT")


def fill(trade_id: str, qty: float = 0.01, price: float = 60_000.0) -> Execution:
    return Execution(BTC, trade_id, "o1", "c1", Side.BUY, price, qty, 0.12, "USDT", False, 1_700_000_000_000)


def order(status: OrderStatus, filled: float) -> Order:
    return Order(BTC, "o1", "c1", Side.BUY, OrderType.LIMIT, 60_000.0, 0.01, status, filled_quantity=filled)


def one_of_each(now: float) -> list:
    return [
        RunStarted(
            ts=now, version="0.1.0", mode="simulator", trade=True, venues=["mexc_spot"], symbols=["BTC/USDT"],
            futures_venues=[], initial={"mexc_spot": {"USDT": 10_000.0, "BTC": 0.1}},
        ),
        OrderUpdate(ts=now, venue="mexc_spot", order=order(OrderStatus.NEW, 0.0)),
        OrderUpdate(ts=now, venue="mexc_spot", order=order(OrderStatus.FILLED, 0.01)),
        Fill(ts=now, venue="mexc_spot", fill=fill("t1")),
        DecisionMade(
            ts=now, symbol="BTC/USDT", kind="spot_spot", pair="mexc_spot>gateio_spot", action="taken",
            edge_bps=12.5, quantity=0.01, buy_venue="mexc_spot", buy_seen=60_000.0, sell_venue="gateio_spot",
            sell_seen=60_100.0, trade_no=1, outcome="filled",
        ),
        LegDone(
            ts=now, trade_no=1, symbol="BTC/USDT", role="buy", venue="mexc_spot", side="BUY", limit_price=60_010.0,
            seen_price=60_000.0, quantity=0.01, filled=0.01, average_price=60_005.0, order_id="o1", rtt_ms=3.5,
        ),
        Snapshot(
            ts=now, venue="mexc_spot", realized=1.0, unrealized=2.0, fees=0.12, fills=1,
            inventory={"USDT": 9_399.0, "BTC": 0.11}, positions={"BTC/USDT": 0.01}, marks={"BTC/USDT": 60_050.0},
            final=True,
        ),
        RiskEvent(ts=now, kind="kill_switch", detail="max_loss", value=-12.0),
        RunEnded(ts=now, elapsed_s=3.0, summary={"mexc_spot": {"total": 2.88, "fills": 1.0}}),
        FundingBooked(ts=now, venue="gateio_futures", payment=FundingPayment("f1", BTC, -0.25, 1_700_000_000_000)),
        TransferBooked(ts=now, venue="mexc_spot", asset="USDT", amount=-101.0, fee=1.0, transfer_id="w1"),
    ]  # fmt: skip


async def read_all(backend, run_id: str) -> dict[str, list]:
    tables = (
        "orders",
        "fills",
        "decisions",
        "legs",
        "snapshots",
        "risk_events",
        "run_ends",
        "funding",
        "transfers",
    )
    return {t: await backend.read(t, [run_id]) for t in tables}


async def test_every_event_kind_round_trips(journal_url, tmp_path):
    journal = Journal.open(journal_url, spool_path=tmp_path / "spool")
    await journal.start()
    events = one_of_each(time.time())
    for ev in events:
        journal.record(ev)
    await journal.close()
    assert journal.stats.written == len(events) and not journal.spool.pending

    reader = open_backend(journal_url)
    try:
        (run,) = await reader.runs()
        assert run == events[0] and run.run_id == journal.run_id
        got = await read_all(reader, journal.run_id)
    finally:
        await reader.close()
    assert got["orders"] == events[1:3]
    assert got["fills"] == [events[3]]
    assert got["decisions"] == [events[4]]
    assert got["legs"] == [events[5]]
    assert got["snapshots"] == [events[6]]
    assert got["risk_events"] == [events[7]]
    assert got["run_ends"] == [events[8]]
    assert got["funding"] == [events[9]]
    assert got["transfers"] == [events[10]]
    # Numbered in the order recorded.
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_a_fill_recorded_twice_and_a_batch_written_twice_are_one_row_each(journal_url, tmp_path):
    journal = Journal.open(journal_url, spool_path=tmp_path / "spool")
    await journal.start()
    journal.record(Fill(ts=1.0, venue="mexc_spot", fill=fill("t1")))
    journal.record(Fill(ts=2.0, venue="mexc_spot", fill=fill("t1")))  # the venue sent it again
    journal.record(Fill(ts=2.0, venue="gateio_spot", fill=fill("t1")))  # same id, other venue
    await journal.flush()
    batch = [
        DecisionMade(
            run_id=journal.run_id, seq=99, ts=3.0, symbol="BTC/USDT", kind="k", pair="p", action="skipped"
        )
    ]
    await journal.backend.write(batch)
    await journal.backend.write(batch)
    await journal.close()
    reader = open_backend(journal_url)
    try:
        got = await read_all(reader, journal.run_id)
    finally:
        await reader.close()
    assert sorted((f.venue, f.fill.trade_id, f.ts) for f in got["fills"]) == [
        ("gateio_spot", "t1", 2.0),
        ("mexc_spot", "t1", 1.0),
    ]
    assert len(got["decisions"]) == 1


class FlakyBackend:
    """Wraps a real backend; while `down`, every call fails like a lost connection."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.url = inner.url
        self.down = False
        self.writes = 0

    def _check(self):
        if self.down:
            raise JournalUnavailable("injected: database unreachable")

    async def connect(self):
        self._check()
        await self.inner.connect()

    async def migrate(self):
        self._check()
        return await self.inner.migrate()

    async def write(self, batch):
        self._check()
        self.writes += 1
        await self.inner.write(batch)

    async def close(self):
        await self.inner.close()


async def test_events_spool_while_the_database_is_away_and_are_written_once_when_it_returns(
    journal_url, tmp_path
):
    backend = FlakyBackend(open_backend(journal_url))
    journal = Journal(backend, spool_path=tmp_path / "spool", flush_interval_s=0.01, retry_s=0.05)
    await journal.start()
    journal.record(Fill(ts=1.0, venue="v", fill=fill("t0")))
    await journal.flush()
    backend.down = True
    for i in range(1, 200):
        journal.record(Fill(ts=1.0, venue="v", fill=fill(f"t{i}")))
        if i % 50 == 0:
            await journal.flush()
    await journal.flush()
    assert journal.stats.spooling and journal.spool.pending and journal.stats.spooled == 199
    backend.down = False
    journal.record(Fill(ts=1.0, venue="v", fill=fill("t200")))
    await eventually(lambda: not journal.spool.pending, what="the spool to be replayed")
    await journal.close()
    # t200 may have followed the others into the spool (order is kept) or gone straight in.
    assert not journal.stats.spooling and journal.stats.written == 201 and journal.stats.replayed >= 199
    reader = open_backend(journal_url)
    try:
        fills = await reader.read("fills", [journal.run_id])
    finally:
        await reader.close()
    assert sorted(int(f.fill.trade_id[1:]) for f in fills) == list(range(201))


async def test_a_spool_left_by_a_crashed_run_is_replayed_by_the_next(journal_url, tmp_path):
    spool = tmp_path / "spool"
    first = Journal(FlakyBackend(open_backend(journal_url)), spool_path=spool)
    first.backend.down = True
    await first.start()
    first.record(Fill(ts=1.0, venue="v", fill=fill("t1")))
    await first.flush()
    assert first.spool.pending
    # The process dies here (no close); a torn last record is ignored.
    with spool.open("ab") as f:
        f.write(b"\x00\x00\x10\x00partial")
    first._task.cancel()
    second = Journal.open(journal_url, spool_path=spool)
    await second.start()
    await second.close()
    assert not spool.exists()
    reader = open_backend(journal_url)
    try:
        fills = await reader.read("fills", [first.run_id])
    finally:
        await reader.close()
    assert [f.fill.trade_id for f in fills] == ["t1"]


async def test_migrate_is_idempotent_and_refuses_a_newer_schema(journal_url):
    backend = open_backend(journal_url)
    try:
        assert await backend.migrate() == LATEST_VERSION
        assert await backend.migrate() == LATEST_VERSION
        await backend.write([RiskEvent(run_id="r", seq=1, ts=1.0, kind="x")])
        if hasattr(backend, "_write"):
            backend._db().execute("INSERT INTO schema_version VALUES (?, ?)", (LATEST_VERSION + 1, 0.0))
        else:
            db = await backend._db()
            await db.execute("INSERT INTO schema_version VALUES ($1, $2)", LATEST_VERSION + 1, 0.0)
        with pytest.raises(JournalError, match="newer than this cexarb knows"):
            await backend.migrate()
    finally:
        await backend.close()


def test_urls_are_shown_without_their_password():
    assert redact_url("postgresql://bot:s3cret@db:5432/j") == "postgresql://bot:***@db:5432/j"
    assert (
        open_backend("postgresql://bot:s3cret@127.0.0.1/j?schema=x").url
        == "postgresql://bot:***@127.0.0.1/j?schema=x"
    )
    with pytest.raises(JournalError, match="unsupported journal URL"):
        open_backend("mysql://x")


async def test_an_unreachable_postgres_at_start_spools_and_the_run_goes_on(tmp_path):
    from tests.journal.pg import free_port

    journal = Journal.open(f"postgresql://postgres@127.0.0.1:{free_port()}/x", spool_path=tmp_path / "spool")
    await journal.start()
    journal.record(Fill(ts=1.0, venue="v", fill=fill("t1")))
    await journal.close(replay_timeout_s=0.5)
    assert journal.stats.spooling and journal.spool.pending
    (batch,) = journal.spool.read()
    assert batch[0].fill.trade_id == "t1"


async def test_a_full_queue_drops_and_counts_instead_of_growing(tmp_path):
    journal = Journal.open(f"sqlite:///{tmp_path / 'j.db'}", spool_path=tmp_path / "spool", max_queue=3)
    for i in range(5):  # not started: nothing drains
        journal.record(Fill(ts=1.0, venue="v", fill=fill(f"t{i}")))
    assert journal.queued == 3 and journal.stats.dropped == 2
    await journal.start()
    await journal.close()
    assert journal.stats.written == 3


async def test_a_spool_that_cannot_be_written_counts_the_loss_and_the_writer_goes_on(tmp_path):
    backend = FlakyBackend(open_backend(f"sqlite:///{tmp_path / 'j.db'}"))
    (tmp_path / "file").write_text("")
    # Below a regular file: the spool can neither be written nor exist.
    journal = Journal(backend, spool_path=tmp_path / "file" / "spool", flush_interval_s=0.01)
    await journal.start()
    backend.down = True
    journal.record(Fill(ts=1.0, venue="v", fill=fill("t1")))
    await journal.flush()
    assert journal.stats.dropped == 1 and journal.draining
    backend.down = False
    journal.record(Fill(ts=1.0, venue="v", fill=fill("t2")))
    await journal.close()
    assert journal.stats.written == 1


_V5_ROWS = [
    "INSERT INTO runs (run_id, seq, ts, version, mode, trade, venues, symbols, futures_venues, initial,"
    " config_digest, log_file) VALUES ('old', 1, 1.0, '0', 'simulator', TRUE, '[\"mexc_spot\"]',"
    " '[\"BTC/USDT\"]', '[]', '{\"mexc_spot\": {\"USDT\": 10000.0}}', '', '')",
    "INSERT INTO legs (run_id, seq, ts, trade_no, symbol, role, venue, side, limit_price, seen_price,"
    " quantity, filled, average_price, order_id, rtt_ms, error) VALUES ('old', 2, 1.0, 1, 'BTC/USDT',"
    " 'buy', 'mexc_spot', 'BUY', 60000.0, 60000.0, 0.01, 0.01, 60000.0, 'o1', 1.0, '')",
    "INSERT INTO fills (run_id, venue, trade_id, seq, ts, symbol, order_id, client_order_id, side, price,"
    " quantity, fee, fee_asset, is_maker, exchange_ts, fee_value) VALUES ('old', 'mexc_spot', 't1', 3, 1.0,"
    " 'BTC/USDT', 'o1', 'c1', 'BUY', 60000.0, 0.01, 0.6, 'USDT', FALSE, 0, NULL)",
]


async def test_a_journal_at_version_5_upgrades_keeping_its_rows_and_an_old_run_is_all_other(
    journal_url, monkeypatch
):
    """Migration 6 adds the strategy columns to tables that already hold rows (both backends);
    a run journaled before it has no strategy, so `report --by strategy` shows it as "other"."""
    from cexarb.cli.report_data import build, load_runs
    from cexarb.journal import backends, postgres, schema

    backend = open_backend(journal_url)
    try:
        with monkeypatch.context() as m:
            m.setattr(backends, "MIGRATIONS", schema.MIGRATIONS[:5])
            m.setattr(postgres, "MIGRATIONS", schema.MIGRATIONS[:5])
            assert await backend.migrate() == 5
        for sql in _V5_ROWS:
            if hasattr(backend, "_write"):
                backend._db().execute(sql)
            else:
                await (await backend._db()).execute(sql)
        assert await backend.migrate() == LATEST_VERSION
        (leg,) = await backend.read("legs", ["old"])
        assert (leg.order_id, leg.strategy) == ("o1", "")
        report = build(await load_runs(backend, "old"))
        assert list(report.strategies) == ["other"]
        assert report.strategies["other"].fills == 1
        assert report.strategies["other"].total == pytest.approx(report.total.total)
    finally:
        await backend.close()
