"""What the engine records in its journal (fake venues, a list as the journal): skips with the
prices seen, a taken trade with its legs and hedges under one trade number, snapshots, the kill
switch; and nothing at all when there is no journal."""

from __future__ import annotations

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.journal import DecisionMade, LegDone, RiskEvent, Snapshot
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
