"""Tick to trade in the engine: from the read time of the frame that made a symbol dirty to
the decision, and to each leg's order request written."""

from __future__ import annotations

import time

from cexarb.arb.config import ArbConfig
from cexarb.arb.engine import ArbEngine
from cexarb.transport import ticks

from .fakes import FakeVenue
from .helpers import BTC, spot_info
from .test_engine import CHEAP, FLAT, RICH, step


class WiredVenue(FakeVenue):
    """A fake whose order placement writes a request, as the HttpClient reports it."""

    async def place_limit_order(self, *args, **kwargs):
        ticks.request_written()
        return await super().place_limit_order(*args, **kwargs)


async def test_frame_to_decision_and_to_each_leg_sent_start_at_the_frame_read():
    info = spot_info(tick=0.1, step=0.001)
    mexc = WiredVenue("mexc_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    gate = WiredVenue("gateio_spot", [info], {"USDT": 10_000.0, "BTC": 1.0})
    engine = ArbEngine({"mexc_spot": mexc, "gateio_spot": gate}, ArbConfig(symbols=(BTC,), cooldown_s=0.0))
    mexc.set_book(BTC, *FLAT)
    gate.set_book(BTC, *FLAT)
    engine.attach()
    await step(engine)
    assert not engine.stats.frame_to_order_sent_us  # nothing traded, nothing sent

    read_ns = time.perf_counter_ns() - 5_000_000  # the frame was read 5 ms ago
    ticks.frame_ns = read_ns  # as WsClient sets it around on_message
    try:
        mexc.set_book(BTC, *CHEAP)  # the listener marks BTC dirty inside the "frame"
        gate.set_book(BTC, *RICH)
    finally:
        ticks.frame_ns = 0
    await step(engine)
    assert engine.stats.taken == 1
    decision_us = engine.stats.frame_to_decision_us[-1]
    assert decision_us >= 5_000  # measured from the frame read, not from the listener call
    sent = list(engine.stats.frame_to_order_sent_us)
    assert len(sent) == 2 and all(us >= decision_us for us in sent)  # one per leg, after deciding
