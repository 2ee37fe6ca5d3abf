"""OrderTracker: merge rules, pending adoption, the executed LRU cache."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from cexarb.exchange.orders import UNTRACKED, OrderTracker, merge
from cexarb.model import Order, OrderStatus, OrderType, Side, Symbol

BTC = Symbol("BTC", "USDT")


def order(status=OrderStatus.NEW, filled=0.0, t=1, seq=0, oid="1", cid="c1", qty=1.0, symbol=BTC):
    return Order(
        symbol=symbol,
        order_id=oid,
        client_order_id=cid,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        price=100.0,
        quantity=qty,
        status=status,
        filled_quantity=filled,
        remaining_quantity=qty - filled,
        updated_at=t,
        sequence=seq,
    )


def test_filled_quantity_never_decreases():
    cur = order(OrderStatus.PARTIALLY_FILLED, 0.5, t=5)
    assert merge(cur, order(OrderStatus.PARTIALLY_FILLED, 0.3, t=9)) is None
    assert merge(cur, order(OrderStatus.PARTIALLY_FILLED, 0.7, t=2)).filled_quantity == 0.7


def test_finished_order_never_reopens_but_a_late_fill_lands():
    canceled = order(OrderStatus.CANCELED, 0.2, t=5)
    assert merge(canceled, order(OrderStatus.NEW, 0.0, t=9)) is None
    late = merge(canceled, order(OrderStatus.PARTIALLY_FILLED, 0.4, t=4))
    assert late.status is OrderStatus.CANCELED and late.filled_quantity == 0.4
    assert canceled.filled_quantity == 0.2  # the tracked object is not mutated


def test_final_status_keeps_larger_fill_seen_before():
    merged = merge(order(OrderStatus.PARTIALLY_FILLED, 0.6, t=5), order(OrderStatus.CANCELED, 0.4, t=6))
    assert merged.status is OrderStatus.CANCELED and merged.filled_quantity == 0.6


def test_equal_fill_newer_timestamp_then_sequence_wins():
    cur = order(OrderStatus.PARTIALLY_FILLED, 0.5, t=5, seq=3)
    assert merge(cur, order(OrderStatus.PARTIALLY_FILLED, 0.5, t=4, seq=9)) is None
    assert merge(cur, order(OrderStatus.PARTIALLY_FILLED, 0.5, t=5, seq=2)) is None
    assert merge(cur, order(OrderStatus.PARTIALLY_FILLED, 0.5, t=5, seq=3)) is None  # duplicate
    assert merge(cur, order(OrderStatus.PARTIALLY_FILLED, 0.5, t=5, seq=4)) is not None
    assert merge(cur, order(OrderStatus.PARTIALLY_FILLED, 0.5, t=6, seq=0)) is not None


def test_float_noise_in_fill_is_the_same_fill():
    cur = order(OrderStatus.PARTIALLY_FILLED, 0.3, t=5, qty=1.0)
    assert merge(cur, order(OrderStatus.PARTIALLY_FILLED, 1.0 - 0.7, t=4)) is None


def test_update_fills_blank_identity_fields():
    cur = order(OrderStatus.NEW, cid="abc")
    cur.reduce_only = True
    upd = order(OrderStatus.PARTIALLY_FILLED, 0.1, t=2, cid="")
    upd.price = 0.0
    merged = merge(cur, upd)
    assert merged.client_order_id == "abc" and merged.price == 100.0 and merged.reduce_only


def test_websocket_update_adopts_pending_order_by_client_id():
    tracker = OrderTracker()
    tracker.add_pending(order(OrderStatus.PENDING_NEW, oid="", cid="cx", t=0))
    tracker.apply(order(OrderStatus.NEW, oid="77", cid="cx", t=3))
    assert tracker.pending == {}
    assert list(tracker.open[BTC]) == ["77"]
    # the REST reply arriving afterwards is matched by order id, not duplicated
    assert tracker.apply(order(OrderStatus.NEW, oid="77", cid="cx", t=3)) is None
    assert tracker.open_count() == 1


def test_fill_before_rest_reply_ends_executed_once():
    tracker = OrderTracker()
    tracker.add_pending(order(OrderStatus.PENDING_NEW, oid="", cid="cx", t=0))
    filled = tracker.apply(order(OrderStatus.FILLED, 1.0, oid="9", cid="cx", t=5))
    assert filled.status is OrderStatus.FILLED
    assert tracker.apply(order(OrderStatus.NEW, oid="9", cid="cx", t=2)) is None
    assert tracker.apply(order(OrderStatus.FILLED, 1.0, oid="9", cid="cx", t=5)) is None
    # Finished before it was ever open here: not an open -> executed transition.
    assert tracker.open_count() == 0 and tracker.transitions == 0
    assert tracker.get_executed(BTC, "9").status is OrderStatus.FILLED


def test_update_without_order_id_for_unknown_order_is_ignored():
    tracker = OrderTracker()
    assert tracker.apply(order(oid="", cid="nobody")) is None
    assert tracker.ignored == 1


def test_a_stream_update_of_an_untracked_order_changes_nothing():
    t = OrderTracker()
    other = Symbol("ETH", "USDT")
    assert t.apply(order(oid="9", cid="x", symbol=other), adopt=False) is UNTRACKED
    assert t.open == {} and t.updates == 0 and t.ignored == 0
    t.apply(order(oid="1"))  # tracked from elsewhere (a REST reply)
    assert t.apply(order(oid="2", cid="x"), adopt=False) is UNTRACKED
    assert set(t.open[BTC]) == {"1"} and t.updates == 1


def test_a_stream_update_of_a_tracked_order_applies_as_before():
    t = OrderTracker()
    t.add_pending(order(OrderStatus.PENDING_NEW, oid="", cid="c7"))
    adopted = t.apply(order(oid="7", cid="c7"), adopt=False)  # pending, by client id
    assert adopted is not None and adopted.order_id == "7" and t.pending == {}
    filled = t.apply(order(OrderStatus.FILLED, 1.0, t=2, oid="7", cid="c7"), adopt=False)  # open
    assert filled.status is OrderStatus.FILLED and t.open[BTC] == {}
    late = t.apply(order(OrderStatus.FILLED, 1.0, t=3, oid="7", cid="c7"), adopt=False)  # executed
    assert late is not UNTRACKED
    assert t.apply(order(oid="", cid="nobody"), adopt=False) is None  # no id: ignored, as ever
    assert t.ignored == 1


def test_executed_cache_evicts_least_recently_touched_fifth():
    tracker = OrderTracker(executed_capacity=10)
    for i in range(10):
        tracker.apply(order(OrderStatus.FILLED, 1.0, oid=str(i)))
    assert tracker.get_executed(BTC, "0") is not None  # touched: now the most recent
    tracker.apply(order(OrderStatus.FILLED, 1.0, oid="10"))
    kept = tracker.executed_copy()[BTC]
    assert len(kept) == 9 and tracker.evicted == 2
    assert "1" not in kept and "2" not in kept and "0" in kept and "10" in kept


def test_executed_copy_is_a_copy_and_per_symbol():
    eth = Symbol("ETH", "USDT")
    tracker = OrderTracker(executed_capacity=2)
    for i in range(3):
        tracker.apply(order(OrderStatus.FILLED, 1.0, oid=f"b{i}"))
    tracker.apply(order(OrderStatus.CANCELED, 0.0, oid="e0", symbol=eth))
    copy = tracker.executed_copy()
    copy[BTC].clear()
    assert tracker.executed_count() == 3  # 2 BTC (one evicted), 1 ETH
    assert set(tracker.executed_symbols()) == {BTC, eth}


# -- property: any delivery order, with duplicates, ends at the newest truth -----------------


@st.composite
def lifecycles(draw):
    qty = draw(st.sampled_from([1.0, 0.3, 2.5, 0.001]))
    n_fills = draw(st.integers(0, 4))
    cuts = sorted(draw(st.lists(st.integers(1, 999), min_size=n_fills, max_size=n_fills, unique=True)))
    ending = draw(st.sampled_from(["open", "filled", "canceled"]))
    t = 100
    seq = 0
    states = []

    def step(status, filled):
        nonlocal t, seq
        t += draw(st.integers(0, 2))  # venues repeat timestamps; the sequence still moves
        seq += 1
        states.append(order(status, filled, t=t, seq=seq, oid="42", cid="cid", qty=qty))

    step(OrderStatus.NEW, 0.0)
    for cut in cuts:
        step(OrderStatus.PARTIALLY_FILLED, qty * cut / 1000)
    if ending == "filled":
        step(OrderStatus.FILLED, qty)
    elif ending == "canceled":
        last = states[-1].filled_quantity
        step(OrderStatus.PARTIALLY_CANCELED if last else OrderStatus.CANCELED, last)
    return states


@settings(max_examples=300, deadline=None)
@given(data=st.data(), truth=lifecycles())
def test_any_delivery_order_ends_at_newest_truth(data, truth):
    deliveries = data.draw(
        st.lists(st.sampled_from(range(len(truth))), min_size=0, max_size=3 * len(truth)).map(
            lambda extra: list(range(len(truth))) + extra
        )
    )
    deliveries = data.draw(st.permutations(deliveries))
    tracker = OrderTracker()
    with_pending = data.draw(st.booleans())
    if with_pending:
        tracker.add_pending(order(OrderStatus.PENDING_NEW, oid="", cid="cid", t=0, qty=truth[0].quantity))
    was_open = False
    for i in deliveries:
        tracker.apply(msgspec.structs.replace(truth[i]))
        was_open = was_open or tracker.get_open(BTC, "42") is not None
    newest = truth[-1]
    got = tracker.find(BTC, "42")
    assert got == newest
    assert tracker.pending == {}
    assert (tracker.get_open(BTC, "42") is not None) is (not newest.status.is_done)
    assert tracker.transitions == (1 if newest.status.is_done and was_open else 0)
