from __future__ import annotations

import pytest

from cexarb.model import Symbol
from cexarb.sim.engine import SimMarket
from cexarb.sim.venue import SimVenue

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")


def spot_markets() -> list[SimMarket]:
    return [
        SimMarket(BTC, 0.1, 0.0001, 0.0001, 1.0, maker_fee=0.001, taker_fee=0.002, initial_mid=60000.0),
        SimMarket(ETH, 0.01, 0.001, 0.001, 1.0, maker_fee=0.001, taker_fee=0.002, initial_mid=3000.0),
    ]


def futures_markets() -> list[SimMarket]:
    return [
        SimMarket(BTC, 0.1, 0.0001, 0.0001, 0.0, contract_size=0.0001, maker_fee=0.0002, taker_fee=0.0005),
        SimMarket(ETH, 0.01, 0.01, 0.01, 0.0, contract_size=0.01, maker_fee=0.0002, taker_fee=0.0005),
    ]


@pytest.fixture
def spot() -> SimVenue:
    venue = SimVenue("gateio_spot", spot_markets())
    for i, key in enumerate(("a", "b", "c")):
        venue.add_account(key, "secret", 100 + i, {"USDT": 1_000_000.0, "BTC": 10.0, "ETH": 100.0})
    return venue


@pytest.fixture
def fut() -> SimVenue:
    venue = SimVenue("gateio_futures", futures_markets(), is_futures=True)
    for i, key in enumerate(("a", "b", "c")):
        venue.add_account(key, "secret", 100 + i, {"USDT": 1_000_000.0})
    return venue
