"""The spot and futures ledgers on their own: what an order locks, what a fill moves, fees, PnL."""

from __future__ import annotations

import pytest

from cexarb.model import Symbol
from cexarb.model.enums import OrderType, Side, TimeInForce
from cexarb.sim.accounts import SimAccountState
from cexarb.sim.clock import SimClock
from cexarb.sim.engine import SimMarket, SimReject
from cexarb.sim.events import BalanceEvent, FundingEvent, PositionEvent, SimEvent
from cexarb.sim.fees import FeeTier
from cexarb.sim.ledgers import FuturesLedger, SpotLedger
from cexarb.sim.order_checks import OrderPlan, check_order
from cexarb.sim.venue_events import EventQueue
from cexarb.sim.venue_state import MarketState, OrderRecord

BTC = Symbol("BTC", "USDT")
SPOT = SimMarket(BTC, 0.1, 0.0001, 0.0001, 1.0, maker_fee=0.001, taker_fee=0.002)
PERP = SimMarket(BTC, 0.1, 0.0001, 0.0001, 0.0, contract_size=0.0001, maker_fee=0.0002, taker_fee=0.0005)


def plan(market: MarketState, side: Side, qty: float, price: float, **kw: object) -> OrderPlan:
    result = check_order(
        market.rules, market.engine, side, OrderType.LIMIT, qty, price, TimeInForce.GTC, **kw
    )
    assert isinstance(result, OrderPlan), result
    return result


def place(ledger, account: SimAccountState, market: MarketState, p: OrderPlan) -> OrderRecord:
    """Lock for the plan and open the order, as the venue's pipeline does."""
    lock = ledger.lock(account, market, p)
    return OrderRecord.open(str(id(p)), account, market, p, "", lock, 0, 1)


def fill(
    ledger, record: OrderRecord, qty: float, price: float, *, is_maker: bool = False
) -> tuple[float, str]:
    rules = record.market.rules
    units = rules.to_units(qty)
    paid = ledger.settle(record, is_maker, units, qty, price, "t1", 0)
    record.fill(units, qty, price, paid[0], paid[1], "t1", is_maker, 0, 2)
    return paid


@pytest.fixture
def events() -> tuple[EventQueue, list[SimEvent]]:
    queue = EventQueue(SimClock())
    seen: list[SimEvent] = []
    queue.subscribe(seen.append)
    return queue, seen


def test_spot_buy_locks_quote_then_settles_conserving_value(events) -> None:
    queue, seen = events
    ledger = SpotLedger(queue)
    market = MarketState(SPOT)
    account = SimAccountState("k", "s", 1, {"USDT": 1000.0, "BTC": 0.0})
    with queue:
        record = place(ledger, account, market, plan(market, Side.BUY, 0.5, 100.0))
    assert (record.lock_asset, record.locked) == ("USDT", 50.0)
    assert account.balance("USDT").locked == 50.0 and account.balance("USDT").available == 950.0
    assert any(isinstance(e, BalanceEvent) and e.balance.asset == "USDT" for e in seen)

    # Taker fill of 0.3 at 99.0 (better than the limit): pays 29.7 from the lock, gets
    # 0.3 BTC less the 0.2% taker fee, taken in BTC.
    fee, fee_asset = fill(ledger, record, 0.3, 99.0)
    assert fee_asset == "BTC" and fee == pytest.approx(0.3 * 0.002)
    assert account.balance("BTC").total == pytest.approx(0.3 - fee)
    assert account.balance("USDT").total == pytest.approx(1000.0 - 29.7)
    assert ledger.fees_collected == {"BTC": pytest.approx(fee)}
    # Value is conserved: what the account holds plus the fee collected, at the trade price.
    value = account.balance("USDT").total + (account.balance("BTC").total + fee) * 99.0
    assert value == pytest.approx(1000.0)

    # The resting remainder (0.2 at 100.0) keeps exactly 20.0 locked after the trim.
    assert record.locked == pytest.approx(50.0 - 29.7)
    ledger.trim(record)
    assert record.locked == pytest.approx(20.0)
    assert account.balance("USDT").locked == pytest.approx(20.0)


def test_spot_sell_locks_base_and_pays_the_fee_in_quote(events) -> None:
    ledger = SpotLedger(events[0])
    market = MarketState(SPOT)
    account = SimAccountState("k", "s", 1, {"USDT": 0.0, "BTC": 1.0})
    record = place(ledger, account, market, plan(market, Side.SELL, 0.4, 100.0))
    assert (record.lock_asset, record.locked) == ("BTC", 0.4)
    fee, fee_asset = fill(ledger, record, 0.4, 100.0, is_maker=True)
    assert (fee_asset, fee) == ("USDT", pytest.approx(40.0 * 0.001))
    assert account.balance("USDT").total == pytest.approx(40.0 - fee)
    assert account.balance("BTC").total == pytest.approx(0.6) and account.balance("BTC").locked == 0.0
    assert record.locked == pytest.approx(0.0)


def test_spot_fee_in_discount_token_only_while_it_covers_the_fee(events) -> None:
    ledger = SpotLedger(events[0])
    market = MarketState(SPOT)
    account = SimAccountState("k", "s", 1, {"USDT": 1000.0, "MX": 1.0})
    account.fee_tier = FeeTier(token="MX", token_discount=0.2, token_price=2.0)
    record = place(ledger, account, market, plan(market, Side.BUY, 0.5, 100.0))
    fee, fee_asset = fill(ledger, record, 0.5, 100.0)
    # 50 quote at 0.2% = 0.1 quote, 20% off = 0.08 quote = 0.04 MX; the BTC arrives in full.
    assert (fee_asset, fee) == ("MX", pytest.approx(0.04))
    assert account.balance("BTC").total == 0.5
    assert account.balance("MX").total == pytest.approx(0.96)
    account.balances["MX"].available = 0.01  # too little MX now: the normal fee, in BTC
    record = place(ledger, account, market, plan(market, Side.BUY, 0.5, 100.0))
    fee, fee_asset = fill(ledger, record, 0.5, 100.0)
    assert (fee_asset, fee) == ("BTC", pytest.approx(0.001))


def test_spot_lock_beyond_the_balance_is_refused(events) -> None:
    ledger = SpotLedger(events[0])
    market = MarketState(SPOT)
    account = SimAccountState("k", "s", 1, {"USDT": 10.0})
    with pytest.raises(SimReject):
        ledger.lock(account, market, plan(market, Side.BUY, 0.5, 100.0))
    assert account.balance("USDT").locked == 0.0


def futures_ledger(queue: EventQueue, mark: float = 100.0, index: float = 100.0) -> FuturesLedger:
    return FuturesLedger(queue, SimClock(), {BTC: PERP}, "USDT", lambda s: mark, lambda s: index, 28800)


def test_futures_open_then_reduce_only_close_realizes_pnl(events) -> None:
    queue, seen = events
    ledger = futures_ledger(queue)
    market = MarketState(PERP)
    account = SimAccountState("k", "s", 1, {"USDT": 10_000.0})
    # Open a 1 BTC long at 100 (leverage 10 by default): margin + fee reserve locked.
    opening = place(ledger, account, market, plan(market, Side.BUY, 1.0, 100.0, position_size=0.0))
    assert opening.lock_asset == "USDT" and opening.locked > 10.0
    with queue:  # one operation: the position is reported when it ends
        open_fee, _ = fill(ledger, opening, 1.0, 100.0)
    position = ledger.position(account, BTC)
    assert position.size == 1.0 and position.entry_price == 100.0
    assert opening.locked == pytest.approx(0.0)  # the order margin moved to the position
    assert account.balance("USDT").locked == pytest.approx(position.margin)
    assert any(isinstance(e, PositionEvent) for e in seen)

    # Close it reduce-only at 110: locks nothing, realizes +10, releases the position margin.
    close_plan = plan(market, Side.SELL, 1.0, 110.0, reduce_only=True, position_size=position.size)
    closing = place(ledger, account, market, close_plan)
    assert closing.locked == 0.0
    close_fee, fee_asset = fill(ledger, closing, 1.0, 110.0)
    assert fee_asset == "USDT" and close_fee == pytest.approx(110.0 * 0.0005)
    assert position.size == 0.0
    assert account.balance("USDT").locked == pytest.approx(0.0)
    assert account.balance("USDT").total == pytest.approx(10_000.0 + 10.0 - open_fee - close_fee)
    kinds = [(e.kind, round(e.change, 6)) for e in account.book]
    assert ("pnl", 10.0) in kinds and kinds.count(("fee", round(-close_fee, 6))) == 1
    assert ledger.fees_collected["USDT"] == pytest.approx(open_fee + close_fee)


def test_futures_stale_reduce_only_orders_are_reported(events) -> None:
    ledger = futures_ledger(events[0])
    market = MarketState(PERP)
    account = SimAccountState("k", "s", 1, {"USDT": 10_000.0})
    opening = place(ledger, account, market, plan(market, Side.BUY, 0.5, 100.0, position_size=0.0))
    fill(ledger, opening, 0.5, 100.0)
    resting = place(
        ledger, account, market, plan(market, Side.SELL, 0.5, 120.0, reduce_only=True, position_size=0.5)
    )
    account.open_orders[resting.order.order_id] = resting
    assert ledger.stale_reduce_only(BTC, [account]) == []
    # The long shrinks to 0.2 (a sell elsewhere): the 0.5 reduce-only sell is now too large.
    other = place(ledger, account, market, plan(market, Side.SELL, 0.3, 100.0, position_size=0.5))
    fill(ledger, other, 0.3, 100.0)
    assert ledger.stale_reduce_only(BTC, [account]) == [resting]


def test_futures_leverage_remargins_the_open_position(events) -> None:
    ledger = futures_ledger(events[0])
    market = MarketState(PERP)
    account = SimAccountState("k", "s", 1, {"USDT": 10_000.0})
    opening = place(ledger, account, market, plan(market, Side.BUY, 1.0, 100.0, position_size=0.0))
    fill(ledger, opening, 1.0, 100.0)
    ledger.set_leverage(account, BTC, 2.0)
    assert account.balance("USDT").locked == pytest.approx(50.0)
    ledger.set_leverage(account, BTC, 20.0)
    assert account.balance("USDT").locked == pytest.approx(5.0)
    with pytest.raises(SimReject):
        ledger.set_leverage(account, BTC, 0.5)


def test_futures_funding_longs_pay_shorts_at_a_positive_rate(events) -> None:
    queue, seen = events
    # The perpetual trades above its index: a positive rate.
    ledger = futures_ledger(queue, mark=100.05, index=100.0)
    market = MarketState(PERP)
    long_, short = (SimAccountState(k, "s", i, {"USDT": 1000.0}) for i, k in enumerate(("l", "s")))
    for account, side in ((long_, Side.BUY), (short, Side.SELL)):
        record = place(ledger, account, market, plan(market, side, 2.0, 100.0, position_size=0.0))
        fill(ledger, record, 2.0, 100.0, is_maker=True)
    ledger.sample_funding()
    rate = ledger.funding.rate(BTC)
    assert rate > 0
    before = {a.api_key: a.balance("USDT").total for a in (long_, short)}
    with queue:
        assert ledger.settle_funding({"l": long_, "s": short}) == {BTC: rate}
    paid = 2.0 * 100.05 * rate
    assert long_.balance("USDT").total - before["l"] == pytest.approx(-paid)
    assert short.balance("USDT").total - before["s"] == pytest.approx(paid)
    assert long_.funding == pytest.approx(-paid) and long_.book[-1].kind == "fund"
    assert [e.amount for e in seen if isinstance(e, FundingEvent)] == [
        pytest.approx(-paid),
        pytest.approx(paid),
    ]
