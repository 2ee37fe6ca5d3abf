"""ccxt (4.5.90) set up as the peer: the same frames go through its own decoding and parsing.

Markets are given to ccxt directly (set_markets), as load_markets would leave them for the
one market each row uses, so no request is ever made. ccxt.pro's message handlers are
driven with a stand-in for its WebSocket Client that keeps what those handlers touch
(`subscriptions`, `resolve`, `reject`) and resolves futures the same way.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import ccxt
    import ccxt.pro as ccxt_pro
except ImportError:  # the bench extra is not installed: rows print without a peer
    ccxt = ccxt_pro = None

from bench.frames import BookScript

AVAILABLE = ccxt_pro is not None
VERSION = getattr(ccxt, "__version__", "") if ccxt is not None else ""
# ccxt's WebSocket client decodes frames with orjson when it is importable, else the stdlib.
try:
    import orjson as _json_impl

    JSON_DECODER = "orjson"
except ImportError:
    _json_impl = json
    JSON_DECODER = "json"
json_loads = _json_impl.loads


class StubClient:
    """What ccxt.pro's handlers use of `ccxt.async_support.base.ws.client.Client`."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, Any] = {}
        self.futures: dict[str, Any] = {}
        self.rejections: dict[str, Any] = {}
        self.resolved = 0

    def resolve(self, result: Any, message_hash: str) -> Any:
        self.resolved += 1
        future = self.futures.pop(message_hash, None)
        if future is not None:
            future.resolve(result)
        return result

    def reject(self, result: Any, message_hash: str | None = None) -> Any:
        if message_hash is not None:
            self.rejections[message_hash] = result
        return result


def _market(market_id: str, symbol: str, kind: str, contract_size: float | None = None) -> dict:
    spot = kind == "spot"
    return {
        "id": market_id,
        "symbol": symbol,
        "base": "BTC",
        "quote": "USDT",
        "settle": None if spot else "USDT",
        "baseId": "BTC",
        "quoteId": "USDT",
        "settleId": None if spot else "USDT",
        "type": kind,
        "spot": spot,
        "margin": False,
        "swap": not spot,
        "future": False,
        "option": False,
        "active": True,
        "contract": not spot,
        "linear": None if spot else True,
        "inverse": None if spot else False,
        "contractSize": contract_size,
        "precision": {"amount": 0.0001 if spot else 1.0, "price": 0.1},
        "limits": {"amount": {"min": None, "max": None}, "price": {}, "cost": {}, "leverage": {}},
        "info": {},
    }


def gate() -> Any:
    ex = ccxt_pro.gate({"options": {"defaultType": "spot"}})
    ex.set_markets(
        [
            _market("BTC_USDT", "BTC/USDT", "spot"),
            _market("BTC_USDT", "BTC/USDT:USDT", "swap", 0.0001),
        ]
    )
    return ex


def mexc() -> Any:
    ex = ccxt_pro.mexc()
    ex.set_markets([_market("BTCUSDT", "BTC/USDT", "spot")])
    return ex


# ---- private orders: frame -> JSON/protobuf decode -> parse_order ---------------------------


def gate_order_parser(ex: Any, market_symbol: str):
    market = ex.market(market_symbol)
    parse_order = ex.parse_order

    def run(frame: str) -> None:
        for item in json_loads(frame)["result"]:
            parse_order(item, market)

    return run


def mexc_order_parser(ex: Any):
    """ccxt.pro mexc's own protobuf path: decode_proto_msg (protobuf -> dict) + parse_ws_order."""
    decode = ex.decode_proto_msg
    parse = ex.parse_ws_order
    safe_market = ex.safe_market

    def run(frame: bytes) -> None:
        message = decode(frame)
        parse(message["privateOrders"], safe_market(message["symbol"]))

    return run


# ---- order books: frame -> decode -> handle_order_book into a synced ccxt OrderBook ---------


def _synced_book(ex: Any, script: BookScript) -> Any:
    book = ex.order_book(
        {
            "bids": [[p, q] for p, q in script.bids],
            "asks": [[p, q] for p, q in script.asks],
            "nonce": script.snapshot_id,
        }
    )
    ex.orderbooks["BTC/USDT"] = book
    return book


def gate_book_handler(ex: Any, script: BookScript):
    _synced_book(ex, script)
    client = StubClient()
    handle = ex.handle_order_book

    def run(frame: str) -> None:
        handle(client, json_loads(frame))

    return run, client


def mexc_book_handler(ex: Any, script: BookScript):
    _synced_book(ex, script)
    client = StubClient()
    handle = ex.handle_order_book
    decode = ex.decode_proto_msg

    def run(frame: bytes) -> None:
        handle(client, decode(frame))

    return run, client


def gate_book_ticker_handler(ex: Any):
    client = StubClient()
    handle = ex.handle_bid_ask

    def run(frame: str) -> None:
        handle(client, json_loads(frame))

    return run, client


# ---- signing ------------------------------------------------------------------------------


def gate_signer(ex: Any):
    ex.apiKey, ex.secret = "k" * 32, "s" * 64

    def run(body: dict) -> None:
        ex.sign("spot/orders", ["private", "spot"], "POST", dict(body))

    return run


def mexc_signer(ex: Any):
    ex.apiKey, ex.secret = "k" * 32, "s" * 64

    def run(params: dict) -> None:
        ex.sign("order", ["spot", "private"], "POST", dict(params))

    return run
