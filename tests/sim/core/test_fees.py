"""Accounts pay their own fees: a tier's rates, a maker rebate, fees taken in a discount token
(and the normal fee again once the token runs short), with every asset conserved."""

from __future__ import annotations

import pytest

from cexarb.model import OrderType, Side, TimeInForce
from cexarb.sim.fees import FeeTier
from cexarb.sim.venue import SimVenue

from .conftest import BTC, futures_markets, spot_markets

PRICE, QTY = 60000.0, 0.1
NOTIONAL = PRICE * QTY


def venue(*, futures: bool = False, tier: FeeTier | None = None, token_balance: float = 0.0) -> SimVenue:
    v = (
        SimVenue("gateio_futures", futures_markets(), is_futures=True)
        if futures
        else SimVenue("mexc_spot", spot_markets())
    )
    start = {"USDT": 1_000_000.0, "BTC": 10.0}
    if token_balance:
        start["MX"] = token_balance
    tier = tier or FeeTier()
    v.add_account("me", "s", 1, start, maker_fee=tier.maker, taker_fee=tier.taker, fee_tier=tier)
    v.add_account("other", "s", 2, {"USDT": 1_000_000.0, "BTC": 10.0})
    return v


def trade(v: SimVenue, maker: str, taker: str, taker_side: Side):
    v.place_order(maker, BTC, taker_side.opposite, OrderType.LIMIT, QTY, PRICE, TimeInForce.GTC)
    v.place_order(taker, BTC, taker_side, OrderType.LIMIT, QTY, PRICE, TimeInForce.IOC)
    return v.truth(maker).fills[-1], v.truth(taker).fills[-1]


def conserved(v: SimVenue) -> None:
    totals = v.asset_totals()
    for asset, amount in v.deposited.items():
        assert totals[asset] == pytest.approx(amount, rel=1e-12), asset


def test_a_lower_tier_pays_its_own_taker_rate():
    v = venue(tier=FeeTier(maker=0.0, taker=0.0005))
    _, mine = trade(v, "other", "me", Side.SELL)
    assert (mine.fee, mine.fee_asset) == (pytest.approx(NOTIONAL * 0.0005), "USDT")
    assert v.fee_rates("me", BTC) == (0.0, 0.0005)
    assert v.fee_rates("other", BTC) == (0.001, 0.002)  # the market's public default
    conserved(v)


@pytest.mark.parametrize("futures", [False, True])
def test_a_maker_rebate_is_paid_on_the_fill(futures):
    v = venue(futures=futures, tier=FeeTier(maker=-0.0001, taker=0.0004))
    before = v.balances("me")["USDT"].total
    mine, _ = trade(v, "me", "other", Side.BUY)  # my resting sell is taken
    assert mine.is_maker and mine.fee == pytest.approx(-NOTIONAL * 0.0001)
    received = 0.0 if futures else NOTIONAL
    assert v.balances("me")["USDT"].total == pytest.approx(before + received + NOTIONAL * 0.0001)
    conserved(v)


def test_discount_token_mode_takes_the_fee_in_the_token():
    tier = FeeTier(taker=0.001, token="MX", token_discount=0.2, token_price=2.5)
    v = venue(tier=tier, token_balance=100.0)
    _, mine = trade(v, "other", "me", Side.BUY)
    charged = round(NOTIONAL * 0.001 * 0.8 / 2.5, 8)
    assert (mine.fee, mine.fee_asset) == (pytest.approx(charged), "MX")
    # The whole base bought arrives; the fee leaves the MX balance.
    assert v.balances("me")["BTC"].total == pytest.approx(10.0 + QTY)
    assert v.balances("me")["MX"].total == pytest.approx(100.0 - charged)
    conserved(v)


def test_too_little_token_pays_the_normal_fee_in_the_received_asset():
    tier = FeeTier(taker=0.001, token="MX", token_discount=0.2, token_price=2.5)
    v = venue(tier=tier, token_balance=0.5)  # the fee needs 1.92 MX
    _, mine = trade(v, "other", "me", Side.SELL)
    assert (mine.fee, mine.fee_asset) == (pytest.approx(NOTIONAL * 0.001), "USDT")
    assert v.balances("me")["MX"].total == 0.5
    conserved(v)


def test_a_token_mode_without_a_price_is_refused():
    with pytest.raises(ValueError, match="token_price"):
        FeeTier(token="GT")
