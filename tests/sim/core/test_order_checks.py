"""check_order: the pure order checks (rules + book -> OrderPlan or the refusal), without a venue."""

from __future__ import annotations

import pytest

from cexarb.model import Symbol
from cexarb.model.enums import OrderType, Side, TimeInForce
from cexarb.sim.engine import MatchingEngine, RejectReason, Resting, SimMarket, SimReject
from cexarb.sim.order_checks import UNBOUNDED_UNITS, OrderPlan, check_order

BTC = Symbol("BTC", "USDT")
# tick 0.1, step 0.0001 (= min qty), min notional 5 quote.
RULES = SimMarket(BTC, 0.1, 0.0001, 0.0001, 5.0)
LIMIT = OrderType.LIMIT


def book_with_ask(price: float = 100.0, qty: float = 1.0) -> MatchingEngine:
    engine = MatchingEngine(RULES)
    engine.add(Resting(object(), Side.SELL, RULES.to_ticks(price), RULES.to_units(qty)))
    engine.take_changes()
    return engine


def reason(result: OrderPlan | SimReject) -> RejectReason:
    assert isinstance(result, SimReject), f"expected a refusal, got a plan for {result!r}"
    return result.reason


def test_valid_limit_order_is_planned_in_engine_units() -> None:
    plan = check_order(RULES, book_with_ask(), Side.BUY, LIMIT, 0.25, 99.5)
    assert isinstance(plan, OrderPlan)
    assert (plan.limit_ticks, plan.units, plan.quote_budget) == (995, 2500, None)
    assert plan.tif is TimeInForce.GTC and plan.rests


@pytest.mark.parametrize(
    ("quantity", "price", "expected"),
    [
        (0.1, None, RejectReason.INVALID_PRICE),
        (0.1, 0.0, RejectReason.INVALID_PRICE),
        (0.1, 99.55, RejectReason.INVALID_PRICE),  # off the 0.1 tick
        (0.00015, 99.5, RejectReason.INVALID_QUANTITY),  # off the step
        (0.0, 99.5, RejectReason.INVALID_QUANTITY),
        (0.01, 99.5, RejectReason.BELOW_MIN_NOTIONAL),  # 0.995 quote < 5
    ],
)
def test_limit_order_refusals(quantity: float, price: float | None, expected: RejectReason) -> None:
    assert reason(check_order(RULES, book_with_ask(), Side.BUY, LIMIT, quantity, price)) is expected


def test_market_order_notional_is_measured_at_the_best_opposite_price() -> None:
    engine = book_with_ask(100.0)
    # 0.04 at the 100.0 ask is 4 quote < 5; 0.05 is 5.
    assert reason(check_order(RULES, engine, Side.BUY, OrderType.MARKET, 0.04, None)) is (
        RejectReason.BELOW_MIN_NOTIONAL
    )
    plan = check_order(RULES, engine, Side.BUY, OrderType.MARKET, 0.05, None)
    assert isinstance(plan, OrderPlan) and plan.tif is TimeInForce.IOC and not plan.rests


def test_post_only_and_fok_look_at_the_book_without_changing_it() -> None:
    engine = book_with_ask(100.0, 0.5)
    crossing = check_order(RULES, engine, Side.BUY, OrderType.LIMIT_MAKER, 0.1, 100.0)
    assert reason(crossing) is RejectReason.POST_ONLY_WOULD_TAKE
    assert reason(check_order(RULES, engine, Side.BUY, LIMIT, 0.6, 100.0, TimeInForce.FOK)) is (
        RejectReason.FOK_NOT_FILLED
    )
    fok = check_order(RULES, engine, Side.BUY, LIMIT, 0.5, 100.0, TimeInForce.FOK)
    assert isinstance(fok, OrderPlan) and not fok.rests
    maker = check_order(RULES, engine, Side.BUY, OrderType.LIMIT_MAKER, 0.1, 99.9)
    assert isinstance(maker, OrderPlan) and maker.tif is TimeInForce.POST_ONLY
    # Pure: the book is exactly as before.
    assert not engine.has_changes()
    assert engine.asks.depth(5) == [(1000, 5000)] and engine.bids.depth(5) == []


def test_quote_sized_market_buy() -> None:
    engine = book_with_ask()
    plan = check_order(RULES, engine, Side.BUY, OrderType.MARKET, 0.0, None, quote_quantity=20.0)
    assert isinstance(plan, OrderPlan)
    assert (plan.quote_budget, plan.units) == (20.0, UNBOUNDED_UNITS)
    sell = check_order(RULES, engine, Side.SELL, OrderType.MARKET, 0.0, None, quote_quantity=20.0)
    assert reason(sell) is RejectReason.INVALID_QUANTITY
    small = check_order(RULES, engine, Side.BUY, OrderType.MARKET, 0.0, None, quote_quantity=4.0)
    assert reason(small) is RejectReason.BELOW_MIN_NOTIONAL
    # On futures (a position size is given) a quote amount is ignored: the base quantity counts.
    fut = check_order(
        RULES, engine, Side.BUY, OrderType.MARKET, 0.1, None, quote_quantity=20.0, position_size=0.0
    )
    assert isinstance(fut, OrderPlan) and fut.quote_budget is None and fut.units == 1000


@pytest.mark.parametrize(
    ("side", "quantity", "position", "ok"),
    [
        (Side.SELL, 0.1, None, False),  # spot: reduce-only is a futures flag
        (Side.SELL, 0.1, 0.0, False),  # flat: nothing to reduce
        (Side.BUY, 0.1, 0.5, False),  # long + buy would increase
        (Side.SELL, 0.6, 0.5, False),  # larger than the position
        (Side.SELL, 0.5, 0.5, True),  # closes the long exactly
        (Side.BUY, 0.2, -0.5, True),  # reduces a short
    ],
)
def test_reduce_only(side: Side, quantity: float, position: float | None, ok: bool) -> None:
    result = check_order(
        RULES, book_with_ask(), side, LIMIT, quantity, 99.0, reduce_only=True, position_size=position
    )
    if ok:
        assert isinstance(result, OrderPlan) and result.reduce_only
    else:
        assert reason(result) is RejectReason.REDUCE_ONLY_VIOLATED
