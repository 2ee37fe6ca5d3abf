"""Futures funding end to end: the Gate composite reads rates and payments from the simulator."""

from __future__ import annotations

import asyncio

import pytest

from cexarb.exchange.handlers import PrivateListener
from cexarb.exchange.registry import create_exchange
from cexarb.exchange.settings import CompositeSettings
from cexarb.model import OrderType, Side, Symbol, TimeInForce
from cexarb.sim import SimConfig, Simulator
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
SETTINGS = CompositeSettings(funding_poll_s=0.05, resync_delay_s=0.02)


class Payments(PrivateListener):
    def __init__(self) -> None:
        self.seen = []

    def on_funding(self, payment) -> None:
        self.seen.append(payment)


async def test_rates_and_payments_match_the_venue() -> None:
    async with Simulator(SimConfig(flow=False, admin=False)) as sim:
        venue = sim.venue("gateio_futures")
        ex = create_exchange("gateio", "futures", sim.client_config("k1"), settings=SETTINGS)
        await asyncio.wait_for(ex.initialize([BTC]), 10)
        try:
            listener = Payments()
            ex.add_private_listener(listener)
            info = ex.funding_info(BTC)
            assert info is not None and info.interval_s == venue.funding.interval_s
            assert info.next_apply_ms == venue.funding.next_apply * 1000
            assert info.rate == pytest.approx(venue.funding_rate(BTC))
            venue.place_order("k1", BTC, Side.SELL, OrderType.MARKET, 0.01, None, TimeInForce.IOC)
            venue.funding.sample(BTC, venue.mark_price(BTC) * 1.002, venue.mark_price(BTC))
            assert await eventually(
                lambda: ex.funding_info(BTC).rate == pytest.approx(venue.funding_rate(BTC))
            )
            venue.settle_funding()  # the short receives
            venue.settle_funding()
            assert await eventually(lambda: len(ex.funding.payments) == 2)
            truth = sim.truth("gateio_futures", "k1")
            assert ex.funding.net == pytest.approx(truth.funding) and truth.funding > 0
            assert ex.funding_received == pytest.approx(truth.funding) and ex.funding_paid == 0.0
            assert [p.payment_id for p in listener.seen] == list(ex.funding.payments)
            await ex.reload_funding()  # polling again books nothing twice
            assert len(listener.seen) == 2 and ex.funding.by_symbol() == {BTC: pytest.approx(truth.funding)}
        finally:
            await ex.close()
