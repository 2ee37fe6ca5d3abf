"""`OrderRequest`: frozen, positional in a fixed order, and locally valid once built."""

from __future__ import annotations

import math

import msgspec
import pytest

from cexarb.model import OrderRequest, OrderType, Side, Symbol, TimeInForce
from cexarb.model.errors import InvalidOrder

BTC = Symbol("BTC", "USDT")


def test_fields_keep_their_positional_order() -> None:
    # The composites build it positionally: a reordering must fail here, not as a shifted price.
    assert OrderRequest.__struct_fields__ == (
        "symbol",
        "side",
        "order_type",
        "quantity",
        "price",
        "time_in_force",
        "client_order_id",
        "reduce_only",
    )


def test_it_is_frozen() -> None:
    request = OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.1, 100.0, TimeInForce.IOC, "c1")
    assert OrderRequest.__struct_config__.frozen
    with pytest.raises(AttributeError):
        request.quantity = 1.0  # type: ignore[misc]
    assert hash(request) == hash(
        OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.1, 100.0, TimeInForce.IOC, "c1")
    )


@pytest.mark.parametrize("quantity", [0.0, -0.1, math.inf, -math.inf, math.nan])
def test_quantity_must_be_finite_and_positive(quantity: float) -> None:
    with pytest.raises(InvalidOrder, match="quantity must be a finite number > 0") as err:
        OrderRequest(BTC, Side.SELL, OrderType.MARKET, quantity)
    assert "before reaching any venue" in err.value.hint


@pytest.mark.parametrize("price", [0.0, -1.0, math.inf, math.nan])
def test_price_when_given_must_be_finite_and_positive(price: float) -> None:
    with pytest.raises(InvalidOrder, match="price must be a finite number > 0"):
        OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.1, price)


@pytest.mark.parametrize("order_type", [OrderType.LIMIT, OrderType.LIMIT_MAKER])
def test_a_limit_order_needs_a_price(order_type: OrderType) -> None:
    with pytest.raises(InvalidOrder, match="needs a price"):
        OrderRequest(BTC, Side.BUY, order_type, 0.1, time_in_force=TimeInForce.IOC)


def test_a_market_order_may_carry_a_price_or_none() -> None:
    assert OrderRequest(BTC, Side.SELL, OrderType.MARKET, 0.1).price is None
    # A Gate spot market buy carries the price its quote amount is sized at.
    assert OrderRequest(BTC, Side.BUY, OrderType.MARKET, 0.1, 60000.0).price == 60000.0


def test_decoding_checks_the_same_rules() -> None:
    raw = (
        b'{"symbol":{"base":"BTC","quote":"USDT"},"side":"BUY","order_type":"LIMIT","quantity":-1,"price":1}'
    )
    with pytest.raises(InvalidOrder):
        msgspec.json.decode(raw, type=OrderRequest)
