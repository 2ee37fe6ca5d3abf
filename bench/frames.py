"""Venue frames for the in-process rows, built the way the venues publish them.

Every generator returns the raw frames a WebSocket delivers (Gate: JSON text, MEXC:
protobuf bytes), so cexarb and ccxt are fed exactly the same inputs. Order frames
come as whole lifecycles (new -> partial fill -> filled) over many distinct orders;
book frames are a gap-free chain of diffs over a book seeded from a snapshot, each
level an update, an insert or a removal, so the book keeps its size.
"""

from __future__ import annotations

import json
import random
from bisect import insort
from dataclasses import dataclass

from cexarb.venues.mexc.pb import PushDataV3ApiWrapper

T0_MS = 1_760_000_000_000
PAIR = "BTC_USDT"
MEXC_SYMBOL = "BTCUSDT"
MID = 60_000.0
TICK = 0.1


def _px(ticks: int) -> str:
    return f"{ticks * TICK:.1f}"


def _qty(value: float) -> str:
    return f"{value:.4f}"


# ---- private order lifecycles -------------------------------------------------------------


def gate_spot_orders(n_orders: int, seed: int = 1) -> list[str]:
    """spot.orders frames: put, update (half filled), finish (filled) for each order."""
    rng = random.Random(seed)
    frames = []
    for i in range(n_orders):
        oid = str(400_000_000 + i)
        text = f"t-bench{i:09d}"
        side = "buy" if i % 2 else "sell"
        amount = round(rng.uniform(0.001, 0.5), 4)
        price = _px(600_000 + rng.randint(-500, 500))
        t = T0_MS + i * 10
        half = round(amount / 2, 4)
        steps = (
            ("put", "open", amount, 0.0, t),
            ("update", "open", amount - half, half, t + 3),
            ("finish", "filled", 0.0, amount, t + 7),
        )
        for event, finish_as, left, filled, ts in steps:
            item = {
                "id": oid,
                "text": text,
                "create_time": str(t // 1000),
                "update_time": str(ts // 1000),
                "currency_pair": PAIR,
                "type": "limit",
                "account": "spot",
                "side": side,
                "amount": _qty(amount),
                "price": price,
                "time_in_force": "gtc",
                "left": _qty(left),
                "filled_amount": _qty(filled),
                "filled_total": f"{filled * float(price):.6f}",
                "avg_deal_price": price if filled else "0",
                "fee": f"{filled * 0.002:.8f}",
                "fee_currency": "BTC" if side == "buy" else "USDT",
                "point_fee": "0",
                "gt_fee": "0",
                "rebated_fee": "0",
                "rebated_fee_currency": "USDT",
                "create_time_ms": str(t),
                "update_time_ms": str(ts),
                "user": 3497082,
                "event": event,
                "stp_id": 0,
                "stp_act": "-",
                "finish_as": finish_as,
                "biz_info": "-",
                "amend_text": "-",
            }
            envelope = {
                "time": ts // 1000,
                "time_ms": ts,
                "channel": "spot.orders",
                "event": "update",
                "result": [item],
            }
            frames.append(json.dumps(envelope, separators=(",", ":")))
    return frames


def gate_futures_orders(n_orders: int, seed: int = 2) -> list[str]:
    """futures.orders frames (sizes in contracts, decimal strings): open, partly filled, finished."""
    rng = random.Random(seed)
    frames = []
    for i in range(n_orders):
        sign = 1 if i % 2 else -1
        size = rng.randint(1, 500)
        half = size // 2
        price = float(_px(600_000 + rng.randint(-500, 500)))
        t = T0_MS + i * 10
        steps = (
            ("open", "_new", size, 0.0, t, 0),
            ("open", "_update", size - half, price, t + 3, 0),
            ("finished", "filled", 0, price, t + 7, t + 7),
        )
        for seq, (status, finish_as, left, fill_price, ts, finished) in enumerate(steps, 1):
            item = {
                "id": 4_872_460_000 + i,
                "user": "110",
                "contract": PAIR,
                "create_time": t // 1000,
                "create_time_ms": t,
                "size": str(size * sign),
                "iceberg": "0",
                "left": str(left * sign),
                "price": price,
                "fill_price": fill_price,
                "mkfr": 0.0002,
                "tkfr": 0.0005,
                "tif": "gtc",
                "refu": 0,
                "refr": 0,
                "is_reduce_only": False,
                "is_close": False,
                "is_liq": False,
                "text": f"t-bench{i:09d}",
                "status": status,
                "finish_as": finish_as,
                "stp_id": 0,
                "stp_act": "-",
                "amend_text": "-",
                "finish_time": finished // 1000,
                "finish_time_ms": finished,
                "update_time": ts,
                "update_id": seq,
            }
            envelope = {
                "time": ts // 1000,
                "time_ms": ts,
                "channel": "futures.orders",
                "event": "update",
                "result": [item],
            }
            frames.append(json.dumps(envelope, separators=(",", ":")))
    return frames


def mexc_orders(n_orders: int, seed: int = 3) -> list[bytes]:
    """spot@private.orders.v3.api.pb pushes: new (1), partially filled (3), filled (2)."""
    rng = random.Random(seed)
    frames = []
    for i in range(n_orders):
        qty = round(rng.uniform(0.001, 0.5), 4)
        half = round(qty / 2, 4)
        price = float(_px(600_000 + rng.randint(-500, 500)))
        t = T0_MS + i * 10
        for status, filled, ts in ((1, 0.0, t), (3, half, t + 3), (2, qty, t + 7)):
            msg = PushDataV3ApiWrapper(
                channel="spot@private.orders.v3.api.pb", sendTime=ts, symbol=MEXC_SYMBOL
            )
            o = msg.privateOrders
            o.id = f"C02__{500_000_000 + i}"
            o.clientId = f"bench{i:09d}"
            o.price = f"{price:.2f}"
            o.quantity = _qty(qty)
            o.amount = f"{price * qty:.6f}"
            o.avgPrice = f"{price:.2f}" if filled else "0"
            o.orderType = 1
            o.tradeType = 1 if i % 2 else 2
            o.remainAmount = f"{price * (qty - filled):.6f}"
            o.remainQuantity = _qty(qty - filled)
            if filled:
                o.lastDealQuantity = _qty(filled - (half if status == 2 else 0.0))
            o.cumulativeQuantity = _qty(filled)
            o.cumulativeAmount = f"{price * filled:.6f}"
            o.status = status
            o.createTime = t
            frames.append(msg.SerializeToString())
    return frames


# ---- order books --------------------------------------------------------------------------


@dataclass
class BookScript:
    """A snapshot (levels as (price, qty) floats, best first) and the diff frames that follow it."""

    snapshot_id: int
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    frames: list
    levels_per_frame: int


class _Side:
    """Integer-tick ladder that the diff generator mutates to keep the book realistic.

    Levels are kept under `key = tick * step` (step -1 for bids, +1 for asks), so the
    sorted key list is best-first on both sides.
    """

    def __init__(self, rng: random.Random, best: int, step: int, depth: int) -> None:
        self.rng = rng
        self.step = step
        self.levels = {(best + step * k * 3) * step: round(rng.uniform(0.01, 2.0), 4) for k in range(depth)}
        self.keys = sorted(self.levels)

    def change(self) -> tuple[int, float]:
        rng, keys, levels = self.rng, self.keys, self.levels
        roll = rng.random()
        if roll < 0.6 or len(keys) < 10:  # update a live level near the top
            key = keys[rng.randrange(min(40, len(keys)))]
            qty = round(rng.uniform(0.01, 2.0), 4)
            levels[key] = qty
        elif roll < 0.8:  # remove one
            key = keys.pop(rng.randrange(min(40, len(keys))))
            del levels[key]
            qty = 0.0
        else:  # insert a new level among the live ones (just past the worst if that range is full)
            key = keys[0] + rng.randint(0, 120)
            if key in levels:
                key = keys[-1] + 1
            qty = round(rng.uniform(0.01, 2.0), 4)
            levels[key] = qty
            insort(keys, key)
        return key * self.step, qty

    def as_floats(self) -> list[tuple[float, float]]:
        return [(round(key * self.step * TICK, 1), self.levels[key]) for key in self.keys]


def _book_chain(n_frames: int, levels: int, seed: int, depth: int = 100):
    rng = random.Random(seed)
    bids = _Side(rng, 599_990, -1, depth)
    asks = _Side(rng, 600_010, 1, depth)
    snap = (bids.as_floats(), asks.as_floats())
    changes = []
    for _ in range(n_frames):
        b = [bids.change() for _ in range(levels // 2)]
        a = [asks.change() for _ in range(levels - levels // 2)]
        changes.append((b, a))
    return snap, changes


def gate_book_updates(n_frames: int, levels: int, seed: int = 4) -> BookScript:
    """spot.order_book_update frames, `levels` price levels each (half bids, half asks)."""
    (bids, asks), changes = _book_chain(n_frames, levels, seed)
    first = 1_000_000
    frames = []
    update_id = first
    for i, (b, a) in enumerate(changes):
        ts = T0_MS + i * 100
        result = {
            "t": ts,
            "e": "depthUpdate",
            "E": ts // 1000,
            "s": PAIR,
            "U": update_id + 1,
            "u": update_id + 3,
            "b": [[_px(p), _qty(q)] for p, q in b],
            "a": [[_px(p), _qty(q)] for p, q in a],
        }
        update_id += 3
        envelope = {"time": ts // 1000, "time_ms": ts, "channel": "spot.order_book_update", "event": "update"}
        envelope["result"] = result
        frames.append(json.dumps(envelope, separators=(",", ":")))
    return BookScript(first, bids, asks, frames, levels)


def mexc_depth_updates(n_frames: int, levels: int, seed: int = 5) -> BookScript:
    """spot@public.aggre.depth.v3.api.pb@100ms pushes (fromVersion..toVersion chained)."""
    (bids, asks), changes = _book_chain(n_frames, levels, seed)
    first = 40_000_000_000
    frames = []
    version = first
    channel = f"spot@public.aggre.depth.v3.api.pb@100ms@{MEXC_SYMBOL}"
    for i, (b, a) in enumerate(changes):
        msg = PushDataV3ApiWrapper(channel=channel, sendTime=T0_MS + i * 100, symbol=MEXC_SYMBOL)
        body = msg.publicAggreDepths
        for p, q in a:
            body.asks.add(price=_px(p), quantity=_qty(q))
        for p, q in b:
            body.bids.add(price=_px(p), quantity=_qty(q))
        body.eventType = "spot@public.aggre.depth.v3.api.pb@100ms"
        body.fromVersion = str(version + 1)
        body.toVersion = str(version + 3)
        version += 3
        frames.append(msg.SerializeToString())
    return BookScript(first, bids, asks, frames, levels)


# ---- tickers ------------------------------------------------------------------------------


def gate_book_tickers(n_frames: int, seed: int = 6) -> list[str]:
    rng = random.Random(seed)
    frames = []
    for i in range(n_frames):
        bid = 599_990 + rng.randint(-3, 3)
        ts = T0_MS + i * 10
        result = {
            "t": ts,
            "u": 1_000_000 + i,
            "s": PAIR,
            "b": _px(bid),
            "B": _qty(rng.uniform(0.01, 2)),
            "a": _px(bid + rng.randint(1, 4)),
            "A": _qty(rng.uniform(0.01, 2)),
        }
        envelope = {"time": ts // 1000, "time_ms": ts, "channel": "spot.book_ticker", "event": "update"}
        envelope["result"] = result
        frames.append(json.dumps(envelope, separators=(",", ":")))
    return frames


def mexc_book_tickers(n_frames: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    frames = []
    channel = f"spot@public.aggre.bookTicker.v3.api.pb@100ms@{MEXC_SYMBOL}"
    for i in range(n_frames):
        bid = 599_990 + rng.randint(-3, 3)
        msg = PushDataV3ApiWrapper(channel=channel, sendTime=T0_MS + i * 10, symbol=MEXC_SYMBOL)
        t = msg.publicAggreBookTicker
        t.bidPrice = _px(bid)
        t.bidQuantity = _qty(rng.uniform(0.01, 2))
        t.askPrice = _px(bid + rng.randint(1, 4))
        t.askQuantity = _qty(rng.uniform(0.01, 2))
        frames.append(msg.SerializeToString())
    return frames
