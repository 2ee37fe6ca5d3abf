"""Named strategies: which trades each accepts, the engine keeping to the configured ones, and
PnL booked per strategy (lines that add up to the engine's total)."""

from __future__ import annotations

import pytest

from cexarb.arb.attribution import StrategyBooks
from cexarb.arb.config import ArbConfig, arb_config_from_mapping
from cexarb.arb.engine import ArbEngine
from cexarb.arb.opportunity import Kind
from cexarb.arb.strategies import DEMO_STRATEGIES, STRATEGIES, strategy_for
from cexarb.model import Execution, FundingPayment, Side
from cexarb.model.errors import ConfigError

from .fakes import FakeVenue
from .helpers import BTC, futures_info, spot_info


def test_the_original_strategy_is_mexc_spot_against_the_gate_perp() -> None:
    spec = STRATEGIES["mexc_gate_basis"]
    assert spec.accepts(Kind.BASIS_OPEN, "mexc_spot", "gateio_futures")
    assert spec.accepts(Kind.BASIS_CLOSE, "gateio_futures", "mexc_spot")  # buy perp back, sell spot
    assert not spec.accepts(Kind.BASIS_OPEN, "gateio_spot", "gateio_futures")
    assert not spec.accepts(Kind.SPOT_SPOT, "mexc_spot", "gateio_spot")
    assert strategy_for(DEMO_STRATEGIES, Kind.SPOT_SPOT, "mexc_spot", "gateio_spot") == "spot_spot"
    assert strategy_for(DEMO_STRATEGIES, Kind.BASIS_OPEN, "gateio_spot", "gateio_futures") is None
    assert strategy_for(("basis",), Kind.BASIS_OPEN, "gateio_spot", "gateio_futures") == "basis"


def test_config_names_strategies() -> None:
    assert arb_config_from_mapping({"strategies": ["mexc_gate_basis"]}).strategies == ("mexc_gate_basis",)
    with pytest.raises(ConfigError, match="mexc_gate_basis"):
        arb_config_from_mapping({"strategies": ["martingale"]})


def three_venues(strategies):
    sinfo, finfo = spot_info(tick=0.1, step=0.001), futures_info(tick=0.1, contract=0.001)
    mexc = FakeVenue("mexc_spot", [sinfo], {"USDT": 10_000.0, "BTC": 1.0})
    gate = FakeVenue("gateio_spot", [sinfo], {"USDT": 10_000.0, "BTC": 1.0})
    perp = FakeVenue("gateio_futures", [finfo], {"USDT": 10_000.0})
    config = ArbConfig(symbols=(BTC,), cooldown_s=0.0, basis_open_bps=5.0, strategies=strategies)
    engine = ArbEngine({"mexc_spot": mexc, "gateio_spot": gate, "gateio_futures": perp}, config)
    return engine, mexc, gate, perp


async def test_engine_trades_only_what_its_strategies_accept() -> None:
    engine, mexc, gate, perp = three_venues(("mexc_gate_basis",))
    # Gate spot is the cheapest spot, but only MEXC spot may be bought against the perp.
    gate.set_book(BTC, [(99.4, 5.0)], [(99.5, 0.2)])
    mexc.set_book(BTC, [(99.9, 5.0)], [(100.0, 0.2)])
    perp.set_book(BTC, [(101.0, 5.0)], [(101.1, 5.0)])
    engine.attach()
    await engine.step()
    await engine.drain()
    assert gate.placed == [] and mexc.placed[0][:2] == (Side.BUY, 0.2)
    assert perp.placed[0][:2] == (Side.SELL, 0.2)
    (decision,) = [d for d in engine.stats.decisions if d.action == "taken"]
    assert decision.pair == "mexc_spot>gateio_futures"
    snaps = engine.by_strategy.snapshots(engine.marks())
    assert snaps["mexc_gate_basis"].fills == 2 and snaps["mexc_gate_basis"].fees > 0
    assert snaps["mexc_gate_basis"].total == pytest.approx(engine.pnl_snapshot().total)
    # The spreads shown are the pairs the configured strategies trade.
    pairs = {sp.pair for sp in engine.stats.best_spreads[BTC]}
    assert pairs <= {"mexc_spot>gateio_futures", "gateio_futures>mexc_spot"} and pairs


def fill(order_id: str, side: Side, qty: float, price: float, trade_id: str) -> Execution:
    return Execution(BTC, trade_id, order_id, "", side, price, qty, qty * price * 0.001, "USDT", False, 1)


def test_fills_before_the_claim_wait_then_go_to_their_strategy() -> None:
    books = StrategyBooks(("spot_spot", "mexc_gate_basis"), {"mexc_spot": False, "gateio_futures": True})
    books.on_fill("mexc_spot", fill("o1", Side.BUY, 0.1, 100.0, "t1"))  # stream beat the reply
    assert books.unattributed_fills == 1
    books.claim("mexc_gate_basis", "mexc_spot", "o1")
    books.on_fill("mexc_spot", fill("o1", Side.SELL, 0.1, 101.0, "t2"))  # later fills go straight
    assert books.unattributed_fills == 0
    snap = books.snapshots({})["mexc_gate_basis"]
    assert snap.fills == 2 and snap.realized == pytest.approx(0.1)
    assert books.snapshots({})["spot_spot"].fills == 0
    # Residual retries are claimed by symbol for the strategy that left them.
    books.on_fill("mexc_spot", fill("o9", Side.BUY, 0.1, 100.0, "t3"))
    books.claim_symbol("spot_spot", BTC)
    assert books.snapshots({})["spot_spot"].fills == 1
    # Funding belongs to whoever holds the perp.
    books.on_funding("gateio_futures", FundingPayment("f1", BTC, 0.5, 1))
    assert books.unattributed_funding == 0.5
    books.own_perp("mexc_gate_basis", "gateio_futures", BTC)
    books.on_funding("gateio_futures", FundingPayment("f2", BTC, 0.25, 2))
    assert books.snapshots({})["mexc_gate_basis"].funding == 0.25
