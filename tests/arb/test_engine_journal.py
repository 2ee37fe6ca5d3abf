"""What the engine records in its journal (fake venues, a list as the journal): skips with the
prices seen, a taken trade with its legs and hedges under one trade number, snapshots, the kill
switch; and nothing at all when there is no journal."""

from __future__ import annotations

import pytest

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.cli.dashboard import strategy_rows
from cexarb.cli.report_data import RunData, build
from cexarb.journal import DecisionMade, Fill, JournalListener, LegDone, RiskEvent, RunStarted, Snapshot
from cexarb.model import Execution, Side
from cexarb.model.errors import InsufficientBalance

from .fakes import FakeVenue
from .helpers import BTC, spot_info
from .test_engine import CHEAP, FLAT, RICH, step


class Recorded(list):
    def record(self, event) -> None:
        self.append(event)

    def of(self, kind) -> list:
        return [e for e in self if isinstance(e, kind)]


def make(journal, **cfg):
    info = spot_info(tick=0.1, step=0.001)
    mexc = FakeVenue("mexc_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    gate = FakeVenue("gateio_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    config = ArbConfig(symbols=(BTC,), cooldown_s=0.0, **cfg)
    engine = ArbEngine({"mexc_spot": mexc, "gateio_spot": gate}, config, journal=journal)
    mexc.set_book(BTC, *FLAT)
    gate.set_book(BTC, *FLAT)
    engine.attach()
    return engine, mexc, gate


async def test_a_hedged_trade_is_journaled_with_its_legs_and_the_prices_seen():
    journal = Recorded()
    engine, mexc, gate = make(journal)
    gate.script = [InsufficientBalance("no BTC", venue="gateio_spot")]
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH)
    await step(engine)
    (taken,) = [d for d in journal.of(DecisionMade) if d.action == "taken"]
    assert (taken.trade_no, taken.outcome, taken.pair) == (1, "hedged", "mexc_spot>gateio_spot")
    assert (taken.buy_seen, taken.sell_seen) == (100.0, 101.0)  # best ask bought, best bid sold
    legs = journal.of(LegDone)
    assert [(leg.role, leg.venue, leg.side) for leg in legs] == [
        ("buy", "mexc_spot", "BUY"),
        ("sell", "gateio_spot", "SELL"),
        ("hedge", "mexc_spot", "SELL"),  # the failed sell unwound where it was bought
    ]
    assert all(leg.trade_no == 1 for leg in legs)
    assert legs[1].filled == 0 and "no BTC" in legs[1].error
    assert legs[2].seen_price == 100.0 and legs[2].filled == legs[0].filled
    assert {s.venue for s in journal.of(Snapshot)} == {"mexc_spot", "gateio_spot"}


async def test_skips_are_journaled_with_their_reason_and_the_kill_switch_as_a_risk_event():
    journal = Recorded()
    engine, mexc, gate = make(journal, loss_limit=1.0)
    mexc.set_book(BTC, *CHEAP, synced=False)
    gate.set_book(BTC, *RICH)
    await step(engine)
    (skip,) = journal.of(DecisionMade)
    assert (skip.action, skip.reason, skip.buy_seen, skip.sell_seen) == (
        "skipped",
        "book_desynced:mexc_spot",
        100.0,
        101.0,
    )
    # A bad fill loses more than the limit.
    engine.on_fill("mexc_spot", Execution(BTC, "t1", "o", "c", Side.BUY, 150.0, 1.0, 0.0, "USDT", False, 0))
    (kill,) = [e for e in journal.of(RiskEvent) if e.kind == "kill_switch"]
    assert "loss_limit" in kill.detail and kill.value < -1.0


async def test_without_a_journal_nothing_is_built():
    engine, mexc, gate = make(None)
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH)
    await step(engine)
    assert engine.stats.taken == 1 and engine.journal is None


async def test_a_residual_retry_is_journaled_under_the_trade_and_strategy_that_left_it():
    journal = Recorded()
    engine, mexc, gate = make(journal)
    for name, venue in (("mexc_spot", mexc), ("gateio_spot", gate)):
        venue.add_private_listener(JournalListener(journal, name, venue.fee_value))
    gate.script = [0.0, 0.0, 0.0, 0.0]  # the sell and its completions fill nothing
    mexc.script = [1.0, 0.0, 0.0, 0.0]  # bought; the unwind fills nothing either
    mexc.set_book(BTC, *CHEAP)
    gate.set_book(BTC, *RICH)
    await step(engine)
    assert engine.executor.residuals, "the trade left a residual"
    retry_fills_before = len(journal.of(Fill))
    mexc.set_book(BTC, *FLAT)  # no new trade: only the retry
    gate.set_book(BTC, *FLAT)
    await step(engine)  # the retry flattens it (the fakes fill in full now)
    assert not engine.executor.residuals
    (taken,) = [d for d in journal.of(DecisionMade) if d.action == "taken"]
    assert (taken.trade_no, taken.strategy, taken.outcome) == (1, "spot_spot", "unhedged")
    retries = [leg for leg in journal.of(LegDone) if leg.role == "retry"]
    assert retries and all((r.trade_no, r.strategy) == (1, "spot_spot") for r in retries)
    assert sum(r.filled for r in retries) > 0 and all(r.order_id for r in retries)
    # The retry's fill rows name orders of those legs: a report links them to trade 1.
    legs_by_order = {(leg.venue, leg.order_id): leg for leg in journal.of(LegDone) if leg.order_id}
    retry_fills = journal.of(Fill)[retry_fills_before:]
    assert retry_fills
    assert {legs_by_order[(f.venue, f.fill.order_id)].role for f in retry_fills} == {"retry"}
    # The live attribution booked the retry's fill under the strategy too (nothing left "other").
    assert engine.by_strategy.unattributed_fills == 0
    assert engine.by_strategy.books["spot_spot"].snapshot({}).fills == len(journal.of(Fill))

    # Replayed from these events, the report's per-strategy lines are the run's.
    engine.journal_snapshot(final=True)
    start = RunStarted(
        version="t", mode="simulator", trade=True, venues=["mexc_spot", "gateio_spot"], symbols=[str(BTC)],
        futures_venues=[], initial={"mexc_spot": {"USDT": 10_000.0, "BTC": 1.0},
                                    "gateio_spot": {"USDT": 10_000.0, "BTC": 1.0}},
        strategies=list(engine.config.strategies),
    )  # fmt: skip
    for seq, ev in enumerate(journal, 1):
        ev.seq = seq
    data = RunData(
        start, None, journal.of(Fill), [], [], journal.of(DecisionMade), journal.of(LegDone),
        journal.of(Snapshot), [],
    )  # fmt: skip
    report = build([data])
    for name, realized, unrealized, fees, funding, total, fills in strategy_rows(engine):
        row = report.strategies[name]
        assert (row.realized, row.unrealized, row.fees, row.funding, row.fills) == pytest.approx(
            (realized, unrealized, fees, funding, fills), abs=1e-9
        )
        assert row.total == pytest.approx(total, abs=1e-9)
    assert report.hedges["mexc_spot"]["orders"] + report.hedges.get("gateio_spot", {}).get("orders", 0) >= 1
