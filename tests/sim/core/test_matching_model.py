"""The engine against a naive reference book: same fills (maker, price, size, order) and same book."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cexarb.model import OrderType, Side, TimeInForce
from cexarb.sim.engine import RejectReason, SimReject
from cexarb.sim.events import FillEvent
from cexarb.sim.venue import SimVenue

from .conftest import BTC, spot_markets

TIFS = (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY)


class ReferenceBook:
    """Resting orders in a plain list; every match sorts from scratch."""

    def __init__(self) -> None:
        self.orders: list[list] = []  # [seq, side, ticks, units, order_id]
        self.seq = 0

    def _crosses(self, side: Side, limit: int | None, ticks: int) -> bool:
        if limit is None:
            return True
        return ticks <= limit if side is Side.BUY else ticks >= limit

    def _queue(self, side: Side) -> list[list]:
        opposite = [o for o in self.orders if o[1] is not side]
        sign = 1 if side is Side.BUY else -1
        return sorted(opposite, key=lambda o: (sign * o[2], o[0]))

    def place(
        self, side: Side, limit: int | None, units: int, tif: TimeInForce
    ) -> list[tuple[str, int, int]] | str:
        queue = [o for o in self._queue(side) if self._crosses(side, limit, o[2])]
        if tif is TimeInForce.POST_ONLY and queue:
            return "post_only"
        if tif is TimeInForce.FOK and sum(o[3] for o in queue) < units:
            return "fok"
        fills = []
        left = units
        for o in queue:
            if not left:
                break
            n = min(left, o[3])
            o[3] -= n
            left -= n
            fills.append((o[4], n, o[2]))
        self.orders = [o for o in self.orders if o[3] > 0]
        if left and limit is not None and tif in (TimeInForce.GTC, TimeInForce.POST_ONLY):
            self.seq += 1
            self.orders.append([self.seq, side, limit, left, None])
        return fills

    def levels(self, side: Side) -> list[tuple[int, int]]:
        agg: dict[int, int] = {}
        for o in self.orders:
            if o[1] is side:
                agg[o[2]] = agg.get(o[2], 0) + o[3]
        return sorted(agg.items(), reverse=side is Side.BUY)


action = st.one_of(
    st.tuples(
        st.just("order"),
        st.sampled_from((Side.BUY, Side.SELL)),
        st.one_of(st.none(), st.integers(599_996, 600_004)),  # limit in ticks, None = market
        st.integers(1, 40),
        st.sampled_from(TIFS),
    ),
    st.tuples(st.just("cancel"), st.integers(0, 1000)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(action, min_size=1, max_size=120))
def test_engine_matches_reference(actions) -> None:
    venue = SimVenue("ref", spot_markets())
    venue.add_account("x", "s", 1, {"USDT": 1e12, "BTC": 1e6})
    ref = ReferenceBook()
    fills: list[tuple[str, int, int]] = []

    def on_event(event) -> None:
        e = getattr(event, "execution", None)
        if isinstance(event, FillEvent) and e.is_maker:
            fills.append((e.order_id, round(e.quantity / 0.0001), round(e.price / 0.1)))

    venue.subscribe(on_event)
    for act in actions:
        if act[0] == "cancel":
            open_orders = venue.open_orders("x", BTC)
            if open_orders:
                victim = open_orders[act[1] % len(open_orders)].order_id
                venue.cancel_order("x", BTC, victim)
                ref.orders = [o for o in ref.orders if o[4] != victim]
            continue
        _, side, limit, units, tif = act
        expected = ref.place(side, limit, units, TimeInForce.IOC if limit is None else tif)
        fills.clear()
        try:
            if limit is None:
                order = venue.place_order("x", BTC, side, OrderType.MARKET, units * 0.0001, None)
            else:
                order = venue.place_order("x", BTC, side, OrderType.LIMIT, units * 0.0001, limit * 0.1, tif)
        except SimReject as exc:
            assert isinstance(expected, str), f"venue rejected {exc}, reference filled {expected}"
            assert exc.reason in (RejectReason.POST_ONLY_WOULD_TAKE, RejectReason.FOK_NOT_FILLED)
            continue
        assert isinstance(expected, list)
        assert fills == expected
        # the reference learns the id the venue gave the order that rested
        for o in ref.orders:
            if o[4] is None:
                o[4] = order.order_id
    snap = venue.snapshot(BTC, 1000)
    assert [(round(p / 0.1), round(q / 0.0001)) for p, q in snap.bids] == ref.levels(Side.BUY)
    assert [(round(p / 0.1), round(q / 0.0001)) for p, q in snap.asks] == ref.levels(Side.SELL)
