"""`cexarb run` end to end on the embedded simulator: real protocols on 127.0.0.1, the engine
trades the correlated markets, and the summary agrees with the simulator's ground truth."""

from __future__ import annotations

import importlib.util
import io

import pytest
from rich.console import Console

from cexarb.cli.runner import RunOptions, run
from tests.support import eventually

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("cexarb.exchange.registry") is None,
    reason="cexarb.exchange.registry (the composite exchanges) is not in the tree yet",
)


def booked_every_fill(engine, sim, keys) -> bool:
    """The engine's books hold every fill the simulator made (the private pushes have all landed)."""
    from cexarb.cli.runner import SIM_API_KEY

    made = sum(len(sim.truth(k, SIM_API_KEY).fills) for k in keys)
    return engine.pnl.snapshot(engine.marks()).fills == made


async def test_short_run_trades_and_agrees_with_simulator_truth(tmp_path):
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)
    # Funding settles every second: the truth check covers it whenever the perp holds a position.
    options = RunOptions(
        duration=4.0, status_interval_s=1.0, funding_interval_s=1, log_file=tmp_path / "run.log"
    )
    code = await run(options, console)
    text = out.getvalue()
    assert code == 0, text
    taken = int(text.split("opportunities: taken=")[1].split()[0])
    assert taken >= 1, text
    assert "truth check: AGREE" in text, text
    assert "funding gateio_futures: received" in text, text
    # spot-spot and the original MEXC-spot / Gate-perp basis strategy, each with its PnL line
    lines = text.splitlines()
    by_strategy = lines.index(next(ln for ln in lines if ln.startswith("pnl by strategy")))
    names = [ln.split()[0] for ln in lines[by_strategy + 1 : by_strategy + 4]]
    assert names == ["spot_spot", "mexc_gate_basis", "other"], text
    assert "transfers: completed" in text, text
    funding = float(next(ln for ln in text.splitlines() if ln.strip().startswith("TOTAL")).split()[4])
    assert funding == 0.0 or "  gateio_futures funding" in text, text
    # Not a TTY: periodic status lines, no live screen.
    assert text.count("\nt=") >= 2 or text.startswith("t="), text
    log = (tmp_path / "run.log").read_text()
    assert "taken symbol=" in log and "kind=" in log


async def test_rejected_leg_is_unwound_over_real_protocols_and_books_match_truth():
    import asyncio

    from cexarb.arb.config import ArbConfig
    from cexarb.arb.engine import ArbEngine
    from cexarb.arb.reconcile import VenueTruth, reconcile
    from cexarb.cli.runner import SIM_API_KEY, VENUE_MARKETS
    from cexarb.exchange.registry import create_exchange
    from cexarb.model import Symbol
    from cexarb.sim import SimConfig, Simulator

    btc = Symbol("BTC", "USDT")
    sim_config = SimConfig(seed=3, symbols=("BTC/USDT",), flow=False, admin=False)
    async with Simulator(sim_config) as sim:
        config = sim.client_config(SIM_API_KEY)
        keys = ("mexc_spot", "gateio_spot")
        venues = {k: create_exchange(*VENUE_MARKETS[k], config, private=True) for k in keys}
        try:
            await asyncio.gather(*(v.initialize([btc]) for v in venues.values()))
            engine = ArbEngine(venues, ArbConfig(symbols=(btc,), enable_basis=False, cooldown_s=5.0))
            engine.attach()
            stop = asyncio.Event()
            running = asyncio.create_task(engine.run(stop))
            # Gate refuses the next request (the sell leg) for good; then Gate goes 1% rich.
            sim.faults.fail_next_rest(
                "gateio_spot", 1, 400, b'{"label":"BALANCE_NOT_ENOUGH","message":"injected refusal"}'
            )
            sim.set_mid("gateio_spot", btc, 60_600.0)
            await eventually(lambda: engine.stats.taken, what="a trade taken")
            stop.set()
            await running
            await eventually(lambda: booked_every_fill(engine, sim, keys), what="the last private updates")

            (decision,) = [d for d in engine.stats.decisions if d.action == "taken"]
            assert (decision.pair, decision.outcome) == ("mexc_spot>gateio_spot", "hedged")
            assert engine.executor.residuals == {}
            mexc_truth = sim.truth("mexc_spot", SIM_API_KEY)
            # Bought, then sold back on MEXC (each possibly over several levels); nothing on Gate.
            bought = sum(f.quantity for f in mexc_truth.fills if f.side.value == "BUY")
            sold = sum(f.quantity for f in mexc_truth.fills if f.side.value == "SELL")
            assert bought > 0 and abs(bought - sold) < 1e-9
            assert sim.truth("gateio_spot", SIM_API_KEY).fills == []
            (account,) = sim_config.accounts
            truth = {}
            for k in keys:
                t = sim.truth(k, SIM_API_KEY)
                truth[k] = VenueTruth(
                    dict(account.balances), {a: b.total for a, b in t.balances.items()}, {}, list(t.fills)
                )
            rows = reconcile(engine.pnl, engine.marks(), truth)
            assert all(r.agrees for r in rows), [r for r in rows if not r.agrees]
        finally:
            for v in venues.values():
                await v.close()


async def test_a_lower_fee_tier_takes_what_the_default_rejects_and_books_match_truth():
    """MEXC and Gate accounts on a low tier (MEXC paying in MX): a 30 bps dislocation loses
    money at the public 0.2% + 0.2% but earns at the account's rates; the engine takes it, and
    the books, fees (the MX fee at its value) and PnL agree with the venues' ground truth."""
    import asyncio

    import msgspec

    from cexarb.arb.config import ArbConfig
    from cexarb.arb.engine import ArbEngine
    from cexarb.arb.opportunity import spot_spot_candidates
    from cexarb.arb.reconcile import VenueTruth, reconcile
    from cexarb.cli.runner import SIM_API_KEY, VENUE_MARKETS
    from cexarb.exchange.registry import create_exchange
    from cexarb.model import Symbol
    from cexarb.sim import SimAccount, SimConfig, Simulator
    from cexarb.sim.fees import FeeTier

    btc = Symbol("BTC", "USDT")
    tiers = {
        "mexc_spot": FeeTier(maker=0.0, taker=0.0005, token="MX", token_discount=0.2, token_price=2.5),
        "gateio_spot": FeeTier(maker=0.0004, taker=0.0005),
    }
    account = SimAccount(SIM_API_KEY, "s1", {"USDT": 100_000.0, "BTC": 2.0, "MX": 500.0}, fees=tiers)
    sim_config = SimConfig(seed=3, symbols=("BTC/USDT",), flow=False, admin=False, accounts=(account,))
    async with Simulator(sim_config) as sim:
        config = sim.client_config(SIM_API_KEY)
        venues = {k: create_exchange(*VENUE_MARKETS[k], config, private=True) for k in tiers}
        try:
            await asyncio.gather(*(v.initialize([btc]) for v in venues.values()))
            engine = ArbEngine(venues, ArbConfig(symbols=(btc,), enable_basis=False, cooldown_s=5.0))
            engine.attach()
            sim.set_mid("gateio_spot", btc, 60_180.0)  # 30 bps rich
            assert await eventually(lambda: venues["gateio_spot"].book_tickers[btc].bid_price > 60_100)
            books = engine.venue_books(btc)
            public = [msgspec.structs.replace(b, account_taker_fee=None) for b in books]
            assert spot_spot_candidates(btc, public, 1.0, 5) == []  # the default fee rejects it
            assert [c.buy.venue for c in spot_spot_candidates(btc, books, 1.0, 5)] == ["mexc_spot"]

            stop = asyncio.Event()
            running = asyncio.create_task(engine.run(stop))
            assert await eventually(lambda: engine.stats.taken >= 1)
            stop.set()
            await running
            await eventually(lambda: booked_every_fill(engine, sim, tiers), what="the last private updates")

            (decision,) = [d for d in engine.stats.decisions if d.action == "taken"]
            assert (decision.pair, decision.outcome) == ("mexc_spot>gateio_spot", "filled")
            mexc_fills = sim.truth("mexc_spot", SIM_API_KEY).fills
            assert mexc_fills and all(f.fee_asset == "MX" for f in mexc_fills)
            truth = {}
            for k, tier in tiers.items():
                t = sim.truth(k, SIM_API_KEY)
                prices = {tier.token: tier.token_price} if tier.token else {}
                balances = {a: b.total for a, b in t.balances.items()}
                truth[k] = VenueTruth(
                    dict(account.balances), balances, {}, list(t.fills), asset_prices=prices
                )
            rows = reconcile(engine.pnl, engine.marks(), truth)
            assert all(r.agrees for r in rows), [r for r in rows if not r.agrees]
            fees = {r.venue: r.truth for r in rows if r.item == "fees"}
            assert fees["mexc_spot"] > 0 and fees["gateio_spot"] > 0
            # Expected to earn net of the account's fees (each venue still marks its own leg at
            # its own, still dislocated, mid: the PnL total shows that until the venues converge).
            assert decision.expected_pnl > 0
        finally:
            for v in venues.values():
                await v.close()
