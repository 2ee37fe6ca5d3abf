"""Frames a venue should never send, written with the simulator's own wire encoders so that
everything but the fault is exactly what the venue sends."""

from __future__ import annotations

import json
import time

from cexarb.model import Order, OrderStatus, OrderType, Side, Symbol, TimeInForce
from cexarb.sim import gateio_futures_codec, gateio_spot_codec, mexc_push
from cexarb.sim.events import BookDeltaEvent
from cexarb.sim.mexc_wire import SymbolFormat

from .rig import BTC

FAKE_ORDER_ID = "987654321"


def _fake_order(price: float, quantity: float) -> Order:
    now = int(time.time() * 1000)
    return Order(
        symbol=BTC,
        order_id=FAKE_ORDER_ID,
        client_order_id="t-never-placed",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        price=price,
        quantity=quantity,
        status=OrderStatus.NEW,
        time_in_force=TimeInForce.GTC,
        remaining_quantity=quantity,
        created_at=now,
        updated_at=now,
    )


def _gate(channel: str, result) -> str:
    now = int(time.time() * 1000)
    return json.dumps(
        {"time": now // 1000, "time_ms": now, "channel": channel, "event": "update", "result": result}
    )


def _mexc_format(sim, symbol: Symbol) -> SymbolFormat:
    rules = sim.venue("mexc_spot").markets[symbol]
    return SymbolFormat(symbol, f"{symbol.base}{symbol.quote}", rules.tick, rules.step)


def bad_frames(sim, market: str) -> dict[str, str | bytes]:
    """Frames each stream must count and skip, by kind."""
    if market == "mexc_spot":
        depth = mexc_push.parse_channel("spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT")
        valid = mexc_push.encode_depth(depth, _mexc_format(sim, BTC), 1, 2, [(59000.0, 1.0)], [], 0)
        return {
            "malformed_json": '{"id":0,"code":0,"msg":',
            "truncated_protobuf": valid[: len(valid) // 2],
            "unknown_channel": _unknown_mexc_channel(),
            "wrong_types": json.dumps({"id": "x", "code": "zero", "msg": {"a": 1}}),
        }
    prefix = "spot" if market == "gateio_spot" else "futures"
    return {
        "malformed_json": '{"time": 1, "channel": "'
        + prefix
        + '.orders", "event": "update", "result": [{"id": ',
        "unknown_channel": _gate(f"{prefix}.no_such_channel", [{"a": 1}]),
        "wrong_types": _gate(f"{prefix}.orders", [{"id": {"nested": True}, "text": 5, "status": []}]),
    }


def _unknown_mexc_channel() -> bytes:
    wrapper = mexc_push.pb.PushDataV3ApiWrapper()
    wrapper.channel = "spot@public.no.such.channel.v3.api.pb@BTCUSDT"
    wrapper.sendTime = 1
    return wrapper.SerializeToString()


def unknown_order_update(sim, market: str, price: float, quantity: float) -> str | bytes:
    """An order push, well formed, with an unknown extra field, about an order that does not exist."""
    order = _fake_order(price, quantity)
    rules = sim.venue(market).markets[BTC]
    uid = sim.venue(market).account("k1").user_id
    if market == "mexc_spot":
        return mexc_push.encode_order(_mexc_format(sim, BTC), order, None, order.created_at)
    if market == "gateio_spot":
        body = gateio_spot_codec.order(rules, order, user_id=uid, event="put")
        return _gate("spot.orders", [{**body, "field_from_the_future": {"x": 1}}])
    body = gateio_futures_codec.order(rules, order, uid, True, ws=True)
    return _gate("futures.orders", [{**body, "field_from_the_future": {"x": 1}}])


def book_gap(sim, market: str) -> str | bytes:
    """A book diff far ahead of the venue's sequence, with a level that does not exist."""
    venue = sim.venue(market)
    book_id = venue.book_id(BTC)
    delta = BookDeltaEvent(BTC, book_id + 1000, book_id + 1001, [(1.0, 123.0)], [], int(time.time() * 1000))
    rules = venue.markets[BTC]
    if market == "mexc_spot":
        depth = mexc_push.parse_channel("spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT")
        return mexc_push.encode_depth(
            depth, _mexc_format(sim, BTC), delta.first_id, delta.last_id, delta.bids, delta.asks, delta.ts_ms
        )
    if market == "gateio_spot":
        return _gate("spot.order_book_update", gateio_spot_codec.ws_book_update(rules, delta))
    return _gate("futures.order_book_update", gateio_futures_codec.ws_book_update(rules, delta, True))
