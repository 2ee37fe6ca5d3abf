"""The checks a new order passes before it touches any balance or the book.

`check_order` is pure: it reads the market's rules and book and returns either the normalized
order (`OrderPlan`) or the refusal (a `SimReject`, returned, not raised, so callers and tests
can look at its reason). The venue raises it; every front-end maps the reason to its wire error.
"""

from __future__ import annotations

from cexarb.model.enums import OrderType, Side, TimeInForce
from cexarb.sim.engine import MatchingEngine, RejectReason, SimMarket, SimReject

# A quote-sized market buy matches until its budget is spent: no unit cap of its own.
UNBOUNDED_UNITS = 1 << 62


class OrderPlan:
    """An order that passed the checks, in engine units."""

    __slots__ = (
        "side",
        "order_type",
        "reduce_only",
        "tif",
        "is_market",
        "limit_ticks",
        "units",
        "quote_budget",
    )

    def __init__(
        self,
        side: Side,
        order_type: OrderType,
        reduce_only: bool,
        tif: TimeInForce,
        is_market: bool,
        limit_ticks: int | None,
        units: int,
        quote_budget: float | None,
    ) -> None:
        self.side = side
        self.order_type = order_type
        self.reduce_only = reduce_only
        self.tif = tif  # effective: IOC for market orders, POST_ONLY for LIMIT_MAKER
        self.is_market = is_market
        self.limit_ticks = limit_ticks  # None for market orders
        self.units = units
        self.quote_budget = quote_budget  # spot market buys sized in quote, else None

    @property
    def rests(self) -> bool:
        """Whether an unfilled remainder would rest on the book."""
        return (
            not self.is_market
            and self.tif in (TimeInForce.GTC, TimeInForce.POST_ONLY)
            and self.quote_budget is None
        )


def check_order(
    rules: SimMarket,
    engine: MatchingEngine,
    side: Side,
    order_type: OrderType,
    quantity: float,
    price: float | None,
    tif: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
    quote_quantity: float | None = None,
    position_size: float | None = None,
) -> OrderPlan | SimReject:
    """Validate price, size, notional, post-only, fill-or-kill and reduce-only against `rules`
    and the current book. `position_size` is the account's signed position on a futures
    market and None on spot (reduce-only is a futures flag; quote amounts a spot one)."""
    is_futures = position_size is not None
    is_market = order_type is OrderType.MARKET
    post_only = order_type is OrderType.LIMIT_MAKER or tif is TimeInForce.POST_ONLY
    if is_market:
        tif = TimeInForce.IOC
    elif order_type is OrderType.LIMIT_MAKER:
        tif = TimeInForce.POST_ONLY

    limit_ticks: int | None = None
    if not is_market:
        if price is None or not price > 0:
            return SimReject(
                RejectReason.INVALID_PRICE, f"a limit order needs a positive price, got {price!r}"
            )
        limit_ticks = rules.to_ticks(price)
        if limit_ticks is None or limit_ticks <= 0:
            return SimReject(
                RejectReason.INVALID_PRICE, f"price {price!r} is not a multiple of tick {rules.tick:g}"
            )

    quote_budget: float | None = None
    if is_market and quote_quantity is not None and not is_futures:
        if side is not Side.BUY:
            return SimReject(RejectReason.INVALID_QUANTITY, "a quote amount is only accepted for market buys")
        if not quote_quantity > 0:
            return SimReject(
                RejectReason.INVALID_QUANTITY, f"quote amount must be positive, got {quote_quantity!r}"
            )
        if quote_quantity < rules.min_notional:
            return SimReject(
                RejectReason.BELOW_MIN_NOTIONAL, f"{quote_quantity:g} < min notional {rules.min_notional:g}"
            )
        quote_budget = float(quote_quantity)
        units = UNBOUNDED_UNITS
    else:
        units = rules.to_units(quantity) if quantity is not None and quantity > 0 else None
        if units is None or units <= 0:
            return SimReject(
                RejectReason.INVALID_QUANTITY,
                f"quantity {quantity!r} must be a positive multiple of step {rules.step:g}",
            )
        if rules.qty_of(units) < rules.min_qty - 1e-12:
            return SimReject(
                RejectReason.BELOW_MIN_QUANTITY, f"quantity {quantity:g} < minimum {rules.min_qty:g}"
            )
        if limit_ticks is not None:
            ref_ticks: int | None = limit_ticks
        else:
            ref_ticks = engine.best_ask() if side is Side.BUY else engine.best_bid()
        if ref_ticks is not None and rules.min_notional > 0:
            notional = rules.price_of(ref_ticks) * rules.qty_of(units)
            if notional < rules.min_notional - 1e-9:
                return SimReject(
                    RejectReason.BELOW_MIN_NOTIONAL, f"notional {notional:g} < minimum {rules.min_notional:g}"
                )

    if post_only and limit_ticks is not None and engine.would_take(side, limit_ticks):
        return SimReject(RejectReason.POST_ONLY_WOULD_TAKE, "post-only order would take liquidity")
    if tif is TimeInForce.FOK and not is_market and engine.fillable_units(side, limit_ticks, units) < units:
        return SimReject(RejectReason.FOK_NOT_FILLED, "fill-or-kill order cannot be filled completely")
    if reduce_only:
        if not is_futures:
            return SimReject(RejectReason.REDUCE_ONLY_VIOLATED, "reduce-only is a futures order flag")
        if not position_size or (position_size > 0) == (side is Side.BUY):
            return SimReject(RejectReason.REDUCE_ONLY_VIOLATED, "reduce-only order would open or increase")
        if rules.qty_of(units) > abs(position_size) + 1e-12:
            return SimReject(
                RejectReason.REDUCE_ONLY_VIOLATED, "reduce-only order is larger than the position"
            )
    return OrderPlan(side, order_type, reduce_only, tif, is_market, limit_ticks, units, quote_budget)
