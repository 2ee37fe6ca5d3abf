"""The account's own fee rates over the real protocols: loaded at initialize from MEXC
/api/v3/tradeFee + mxDeduct/enable, Gate /spot/fee and /futures/usdt/fee, refreshed, and a
fill whose fee was taken in the discount token valued at what the venue charged."""

from __future__ import annotations

import pytest

from cexarb.arb.pnl import PnlBook
from cexarb.exchange.registry import create_exchange
from cexarb.exchange.settings import CompositeSettings
from cexarb.model import AccountFees, Side, Symbol, TimeInForce
from cexarb.sim import SimAccount, SimConfig, Simulator
from cexarb.sim.fees import FeeTier
from tests.support import eventually

BTC = Symbol("BTC", "USDT")
MEXC_TIER = FeeTier(maker=0.0, taker=0.0006, token="MX", token_discount=0.2, token_price=2.5)
GATE_TIER = FeeTier(maker=0.0008, taker=0.0009, token="GT", token_discount=0.25, token_price=20.0)
FUTURES_TIER = FeeTier(maker=-0.00005, taker=0.0003)
TIERS = {"mexc_spot": MEXC_TIER, "gateio_spot": GATE_TIER, "gateio_futures": FUTURES_TIER}
EXPECTED = {
    "mexc_spot": AccountFees(BTC, 0.0, 0.0006, "MX", 0.0, 0.0006 * 0.8),
    "gateio_spot": AccountFees(BTC, 0.0008, 0.0009, "GT", 0.0008 * 0.75, 0.0009 * 0.75),
    "gateio_futures": AccountFees(BTC, -0.00005, 0.0003),
}
DEFAULT_TAKER = {"mexc_spot": 0.002, "gateio_spot": 0.002, "gateio_futures": 0.0005}
SETTINGS = CompositeSettings(fee_refresh_s=0.05, resync_delay_s=0.02, book_retry_delay_s=0.02)


@pytest.fixture
async def sim():
    account = SimAccount("k1", "s1", {"USDT": 100_000.0, "BTC": 2.0, "MX": 1_000.0, "GT": 100.0}, fees=TIERS)
    config = SimConfig(seed=5, symbols=("BTC/USDT",), flow=False, admin=False, accounts=(account,))
    async with Simulator(config) as simulator:
        yield simulator


async def connect(sim, market: str):
    venue, kind = market.split("_")
    ex = create_exchange(venue, kind, sim.client_config("k1"), settings=SETTINGS)
    await ex.initialize([BTC])
    return ex


@pytest.mark.parametrize("market", list(TIERS))
async def test_the_account_rates_are_loaded_and_refreshed(sim, market):
    ex = await connect(sim, market)
    try:
        fees = ex.account_fees[BTC]
        expected = EXPECTED[market]
        assert (fees.maker, fees.taker, fees.token) == (expected.maker, expected.taker, expected.token)
        assert fees.token_taker == pytest.approx(expected.token_taker)
        assert ex.symbols_info[BTC].taker_fee == DEFAULT_TAKER[market]  # the public default stays
        # Holding the token, the effective taker rate is the discounted one.
        assert ex.taker_fee(BTC) == pytest.approx(expected.token_taker if expected.token else expected.taker)
        assert ex.maker_fee(BTC) == pytest.approx(expected.token_maker if expected.token else expected.maker)
        # The venue moves the account to another tier: the periodic refresh picks it up.
        sim.venue(market).account("k1").taker_fee = 0.0001
        sim.venue(market).account("k1").fee_tier = FeeTier(taker=0.0001)  # deduction switched off
        assert await eventually(lambda: ex.account_fees[BTC].taker == 0.0001)
        assert ex.taker_fee(BTC) == 0.0001 and ex.account_fees[BTC].token == ""
    finally:
        await ex.close()


class Fills:
    def __init__(self) -> None:
        self.seen: list = []

    def on_execution(self, fill) -> None:
        self.seen.append(fill)


@pytest.mark.parametrize("market", ["mexc_spot", "gateio_spot"])
async def test_a_fee_taken_in_the_discount_token_is_valued_at_what_the_venue_charged(sim, market):
    ex = await connect(sim, market)
    fills = Fills()
    ex.add_private_listener(fills)
    book = PnlBook()
    book.add_venue(market, {a: b.total for a, b in ex.balances.items()})
    tier = TIERS[market]
    try:
        ask = ex.book_tickers[BTC].ask_price
        await ex.place_limit_order(BTC, Side.BUY, 0.01, ask, time_in_force=TimeInForce.IOC)
        assert await eventually(lambda: fills.seen)
        (fill,) = fills.seen
        (truth,) = sim.truth(market, "k1").fills
        assert (fill.fee_asset, fill.fee) == (tier.token, pytest.approx(truth.fee))
        worth = truth.fee * tier.token_price  # the token's value at the venue's conversion price
        assert ex.fee_value(fill) == pytest.approx(worth, rel=1e-6)
        assert ex.fee_value(fill) == pytest.approx(
            fill.price * fill.quantity * ex.account_fees[BTC].token_taker
        )
        assert book.on_fill(market, fill, ex.fee_value(fill))
        assert book.snapshot({}).fees == pytest.approx(worth, rel=1e-6)
        # The token left the inventory; the whole base bought arrived.
        assert book.inventory_change(market)[tier.token] == pytest.approx(-truth.fee)
        assert book.inventory_change(market)["BTC"] == pytest.approx(0.01)
        assert await eventually(
            lambda: ex.balances[tier.token].total == pytest.approx(book.inventory(market)[tier.token])
        )
    finally:
        await ex.close()
