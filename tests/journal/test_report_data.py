"""The report's arithmetic on a hand-made run: PnL replayed from fills and funding equals the
engine's own PnlBook, split per day, with slippage and hedge cost measured from the prices seen."""

from __future__ import annotations

import pytest

from cexarb.arb.pnl import PnlBook
from cexarb.cli.report_data import RunData, build, parse_since
from cexarb.journal import (
    DecisionMade,
    Fill,
    FundingBooked,
    LegDone,
    RiskEvent,
    RunEnded,
    RunStarted,
    Snapshot,
    TransferBooked,
)
from cexarb.model import Execution, FundingPayment, Side, Symbol
from cexarb.model.errors import JournalError

BTC = Symbol("BTC", "USDT")
DAY1, DAY2 = 1_700_000_000.0, 1_700_000_000.0 + 86_400


def fill(tid: str, side: Side, qty: float, price: float, fee: float) -> Execution:
    return Execution(BTC, tid, "o", "c", side, price, qty, fee, "USDT", False, 0)


def test_replayed_pnl_equals_the_engine_book_and_splits_per_day():
    initial = {"spot": {"USDT": 10_000.0, "BTC": 1.0}, "perp": {"USDT": 5_000.0}}
    fills = [
        Fill(run_id="r", seq=2, ts=DAY1, venue="spot", fill=fill("1", Side.BUY, 0.1, 60_000.0, 6.0)),
        Fill(run_id="r", seq=3, ts=DAY1, venue="perp", fill=fill("2", Side.SELL, 0.1, 60_100.0, 3.0)),
        Fill(run_id="r", seq=4, ts=DAY2, venue="spot", fill=fill("3", Side.SELL, 0.05, 61_000.0, 3.05)),
        Fill(
            run_id="r", seq=5, ts=DAY2, venue="spot", fill=fill("3", Side.SELL, 0.05, 61_000.0, 3.05)
        ),  # again
    ]
    funding = [
        FundingBooked(run_id="r", seq=6, ts=DAY2, venue="perp", payment=FundingPayment("p1", BTC, 1.5, 0))
    ]
    marks = {"BTC/USDT": 60_500.0}
    snaps = [
        Snapshot(run_id="r", seq=7, ts=DAY2, venue=v, realized=0, unrealized=0, fees=0, fills=0,
                 inventory={}, positions={}, marks=marks, final=True)
        for v in initial
    ]  # fmt: skip
    legs = [
        LegDone(run_id="r", seq=8, ts=DAY1, trade_no=1, symbol="BTC/USDT", role="buy", venue="spot", side="BUY",
                limit_price=60_010.0, seen_price=59_990.0, quantity=0.1, filled=0.1, average_price=60_000.0),
        LegDone(run_id="r", seq=9, ts=DAY1, trade_no=1, symbol="BTC/USDT", role="hedge", venue="perp", side="SELL",
                limit_price=60_000.0, seen_price=60_100.0, quantity=0.1, filled=0.1, average_price=60_050.0, rtt_ms=4.0),
    ]  # fmt: skip
    run = RunStarted(run_id="r", seq=1, ts=DAY1, version="x", mode="simulator", trade=True, venues=["spot", "perp"],
                     symbols=["BTC/USDT"], futures_venues=["perp"], initial=initial)  # fmt: skip
    decisions = [
        DecisionMade(run_id="r", seq=10, ts=DAY1, symbol="BTC/USDT", kind="k", pair="p", action="skipped", reason="cooldown"),
        DecisionMade(run_id="r", seq=11, ts=DAY1, symbol="BTC/USDT", kind="k", pair="p", action="taken", trade_no=1),
    ]  # fmt: skip
    risk = [RiskEvent(run_id="r", seq=12, ts=DAY2, kind="kill_switch", detail="loss_limit", value=-3.0)]
    ended = RunEnded(run_id="r", seq=13, ts=DAY2, elapsed_s=86_400.0, summary={"spot": {"total": 1.0}})
    # 0.01 BTC sent from spot with a 0.0005 BTC fee (valued at spot's BTC mark).
    transfers = [
        TransferBooked(run_id="r", seq=14, ts=DAY2, venue="spot", asset="BTC", amount=-0.0105, fee=0.0005)
    ]
    report = build([RunData(run, ended, fills, funding, transfers, decisions, legs, snaps, risk)])

    book = PnlBook()
    book.add_venue("spot", initial["spot"])
    book.add_venue("perp", initial["perp"], is_futures=True)
    for f in fills:
        book.on_fill(f.venue, f.fill)
    book.on_funding("perp", funding[0].payment)
    book.on_transfer("spot", "BTC", -0.0105, fee=0.0005)
    expected = book.snapshot({("spot", BTC): 60_500.0, ("perp", BTC): 60_500.0})
    for venue, v in expected.venues.items():
        got = report.venues[venue]
        assert (
            got.realized,
            got.unrealized,
            got.fees,
            got.funding,
            got.transfer_fees,
            got.fills,
        ) == pytest.approx((v.realized, v.unrealized, v.fees, v.funding, v.transfer_fees, v.fills))
    assert report.venues["spot"].transfer_fees == pytest.approx(0.0005 * 60_500.0)
    assert report.total.total == pytest.approx(expected.total)
    day1, day2 = "2023-11-14", "2023-11-15"
    assert report.by_day[(day1, "spot", "BTC/USDT")].fees == pytest.approx(6.0)
    assert report.by_day[(day2, "spot", "BTC/USDT")].realized == pytest.approx(0.05 * 1_000.0)
    assert report.by_day[(day2, "perp", "BTC/USDT")].funding == pytest.approx(1.5)
    # Per-day rows add up to the venue totals.
    for venue in ("spot", "perp"):
        rows = [r for (d, v, s), r in report.by_day.items() if v == venue]
        assert sum(r.total for r in rows) == pytest.approx(report.venues[venue].total)
    assert report.slippage[("spot", "buy")]["cost"] == pytest.approx(0.1 * 10.0)  # paid 10 over what it saw
    assert report.hedges["perp"]["cost"] == pytest.approx(0.1 * 50.0)  # sold 50 under
    assert report.skipped == {"cooldown": 1} and report.decisions == {"skipped": 1, "taken": 1}
    assert report.kill_switch[0]["reason"] == "loss_limit"
    assert report.latency_ms["perp"]["p50"] == 4.0


def test_since_reads_dates_and_durations():
    assert parse_since("2023-11-14") == 1_699_920_000.0
    assert parse_since("2023-11-14T01:00+01:00") == 1_699_920_000.0
    assert 0 < parse_since("2h") < parse_since("30m")
    with pytest.raises(JournalError, match="cannot read --since"):
        parse_since("yesterday")


async def test_runs_are_chosen_by_id_by_start_time_or_the_latest(tmp_path):
    from cexarb.cli.report_data import load_runs
    from cexarb.journal import Journal
    from cexarb.journal.backends import open_backend

    url = f"sqlite:///{tmp_path / 'j.db'}"
    for run_id, ts in (("old", DAY1), ("new", DAY2)):
        journal = Journal.open(url, run_id=run_id, spool_path=tmp_path / "spool")
        await journal.start()
        journal.record(RunStarted(ts=ts, version="x", mode="simulator", trade=True, venues=["spot"],
                                  symbols=["BTC/USDT"], futures_venues=[], initial={"spot": {"USDT": 1.0}}))  # fmt: skip
        journal.record(Fill(ts=ts, venue="spot", fill=fill(run_id, Side.BUY, 0.1, 60_000.0, 0.0)))
        await journal.close()
    backend = open_backend(url)
    try:
        assert [r.run.run_id for r in await load_runs(backend)] == ["new"]
        assert [r.run.run_id for r in await load_runs(backend, run_id="old")] == ["old"]
        both = await load_runs(backend, since=DAY1 - 1)
        assert [(r.run.run_id, [f.fill.trade_id for f in r.fills]) for r in both] == [
            ("old", ["old"]),
            ("new", ["new"]),
        ]
        assert build(both).venues["spot"].fills == 2
        with pytest.raises(JournalError, match="no run 'nope'"):
            await load_runs(backend, run_id="nope")
    finally:
        await backend.close()
