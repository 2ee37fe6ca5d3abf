"""The rebalancer end to end over the real connectors and the simulator: a drained venue is
topped up from the other, the deposit is credited, and the books agree with ground truth."""

from __future__ import annotations

import asyncio

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.arb.reconcile import VenueTruth, reconcile
from cexarb.cli.runner import SIM_API_KEY, VENUE_MARKETS, _transfers_truth
from cexarb.exchange.registry import create_exchange
from cexarb.model import Symbol
from cexarb.sim import SimConfig, Simulator
from cexarb.sim.transfers import make_address
from tests.support import eventually

BTC = Symbol("BTC", "USDT")


async def test_drained_venue_is_topped_up_and_books_agree_with_truth() -> None:
    config = SimConfig(
        symbols=("BTC/USDT",), flow=False, admin=False, withdrawal_delay_s=0.2, deposit_confirm_s=0.3
    )
    async with Simulator(config) as sim:
        (account,) = config.accounts
        # 30k USDT leaves MEXC for an address nobody owns: lost, and MEXC runs low.
        sim.venue("mexc_spot").withdraw(SIM_API_KEY, "USDT", 30_000.0, make_address("TRON", "x"), "TRC20")
        client = sim.client_config(SIM_API_KEY)
        keys = ("mexc_spot", "gateio_spot")
        venues = {k: create_exchange(*VENUE_MARKETS[k], client, private=True) for k in keys}
        try:
            await asyncio.gather(*(v.initialize([BTC]) for v in venues.values()))
            arb = ArbConfig(
                symbols=(BTC,),
                enable_spot_spot=False,
                enable_basis=False,
                rebalance_targets={"USDT": 90_000.0},
                rebalance_low_fraction=0.9,
                rebalance_interval_s=0.1,
            )
            engine = ArbEngine(venues, arb)
            engine.attach()
            stop = asyncio.Event()
            running = asyncio.create_task(engine.run(stop))
            await eventually(lambda: engine.rebalancer.stats.completed, what="a rebalance completed")
            stop.set()
            await running
            (done,) = engine.rebalancer.stats.completed
            assert (done.source, done.dest, done.plan.route.network) == ("gateio_spot", "mexc_spot", "TRX")
            assert done.plan.amount == 10_000.0  # the donor's surplus over its target
            truth = {}
            for k in keys:
                t = sim.truth(k, SIM_API_KEY)
                moved = _transfers_truth(t)
                if k == "mexc_spot":  # the lost withdrawal happened before the engine started
                    moved["transfers"]["USDT"] += 30_000.0
                    moved["transfer_fees"]["USDT"] -= 1.0
                initial = dict(account.balances)
                if k == "mexc_spot":
                    initial["USDT"] -= 30_000.0
                truth[k] = VenueTruth(
                    initial, {a: b.total for a, b in t.balances.items()}, {}, list(t.fills), **moved
                )

            async def streamed() -> bool:
                return (
                    venues["mexc_spot"].balances["USDT"].total
                    == sim.venue("mexc_spot").balances(SIM_API_KEY)["USDT"].total
                )

            await eventually(streamed, what="the transfers streamed to the engine")
            rows = reconcile(engine.pnl, engine.marks(), truth)
            assert all(r.agrees for r in rows), [r for r in rows if not r.agrees]
            assert sim.transfers.lost and sim.transfers.transfers[-1].status == "credited"
        finally:
            for v in venues.values():
                await v.close()
