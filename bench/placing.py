"""In-process rows: placing an order, composite -> connector -> reply, with no socket.

`place_limit_order` runs as in production (the request built and checked, the order tracked
as pending, the connector's wire body or query and the reply's parse, the reply merged into
the tracker), with one stub: the connector's HTTP client answers at once with the venue's
create reply for the sent order. Signing and the round trip are excluded (the signing rows
and the simulator's place round trip time them), so the row isolates what cexarb adds.
"""

from __future__ import annotations

import itertools
from urllib.parse import parse_qsl

from bench.harness import Report, Row, run_sync, time_per_call_us
from cexarb.config import Market, Venue
from cexarb.exchange.gateio_futures import GateioFuturesPrivateExchange
from cexarb.exchange.gateio_spot import GateioSpotPrivateExchange
from cexarb.exchange.mexc_spot import MexcSpotPrivateExchange
from cexarb.model import Side, Symbol, SymbolInfo
from cexarb.venues.gateio import GateioFuturesPrivateRest, GateioSpotPrivateRest
from cexarb.venues.mexc import MexcSpotPrivateRest

BTC = Symbol("BTC", "USDT")
PRICE = 30000.0
QTY = 0.001


class _Reply:
    """The HTTP client's stand-in: the create reply for what was sent, without suspending."""

    def __init__(self, reply) -> None:
        self._reply = reply
        self._ids = itertools.count(1_000_000)
        self._queries: dict[str, dict] = {}

    async def request(self, method, path, *, params=None, json_body=None, query="", **_kw):
        if query:  # an encoded query (MEXC's order template): its parameters, as sent
            # Parsed once per order shape (the client id aside): the stub's cost stays out of the row.
            shape = query.rpartition("&newClientOrderId=")[0]
            params = self._queries.get(shape)
            if params is None:
                params = self._queries[shape] = dict(parse_qsl(query))
        return self._reply(next(self._ids), params, json_body)


def _gate_spot_reply(order_id: int, _params, body: dict) -> dict:
    return {
        "id": str(order_id),
        "text": body["text"],
        "create_time_ms": "1700000000000.123",
        "update_time_ms": "1700000000000.123",
        "currency_pair": body["currency_pair"],
        "status": "open",
        "type": "limit",
        "account": "spot",
        "side": body["side"],
        "amount": body["amount"],
        "price": body["price"],
        "time_in_force": body["time_in_force"],
        "left": body["amount"],
        "filled_amount": "0",
        "filled_total": "0",
        "avg_deal_price": "0",
        "fee": "0",
        "fee_currency": "BTC",
        "finish_as": "open",
    }


def _gate_futures_reply(order_id: int, _params, body: dict) -> dict:
    return {
        "id": order_id,
        "contract": body["contract"],
        "size": body["size"],
        "left": body["size"],
        "price": body["price"],
        "tif": body["tif"],
        "text": body["text"],
        "is_reduce_only": body["reduce_only"],
        "status": "open",
        "finish_as": "",
        "create_time": 1700000000.123,
        "update_time": 1700000000.123,
    }


def _mexc_reply(order_id: int, params: dict, _body) -> dict:
    # What MEXC answers to POST /api/v3/order (no status: the order is built from the request).
    return {
        "symbol": params["symbol"],
        "orderId": f"C02__{order_id}",
        "orderListId": -1,
        "price": params["price"],
        "origQty": params["quantity"],
        "type": params["type"],
        "side": params["side"],
        "transactTime": 1700000000000,
    }


def _ready(ex, rest, http_attr: str, reply) -> None:
    """The composite as after initialize, trading through `rest` whose HTTP client is stubbed."""
    setattr(rest, http_attr, _Reply(reply))
    ex._private_rest = rest
    ex._initialized = True


def _gate_spot(config):
    ex = GateioSpotPrivateExchange(config(Venue.GATEIO, Market.SPOT))
    ex.symbols_info[BTC] = SymbolInfo(BTC, "BTC_USDT", tick_size=0.1, step_size=0.0001)
    rest = GateioSpotPrivateRest(ex.config, ex.symbols_info)
    rest._account = "spot"  # learned once per key at startup
    _ready(ex, rest, "_client", _gate_spot_reply)
    return ex


def _gate_futures(config):
    ex = GateioFuturesPrivateExchange(config(Venue.GATEIO, Market.FUTURES))
    ex.symbols_info[BTC] = SymbolInfo(
        BTC, "BTC_USDT", tick_size=0.1, step_size=0.0001, contract_size=0.0001, is_futures=True
    )
    rest = GateioFuturesPrivateRest(ex.config, ex.symbols_info)
    _ready(ex, rest, "_client", _gate_futures_reply)
    return ex


def _mexc_spot(config):
    ex = MexcSpotPrivateExchange(config(Venue.MEXC, Market.SPOT))
    ex.symbols_info[BTC] = SymbolInfo(BTC, "BTCUSDT", tick_size=0.01, step_size=0.000001)
    rest = MexcSpotPrivateRest(ex.config, ex.symbols_info)
    _ready(ex, rest, "_http", _mexc_reply)
    return ex


def place_rows(report: Report, samples: int, config) -> None:
    """One row per venue market: `place_limit_order` awaited without a suspension."""
    for title, make in (
        ("Gate spot", _gate_spot),
        ("Gate futures", _gate_futures),
        ("MEXC spot", _mexc_spot),
    ):
        ex = make(config)
        place = ex.place_limit_order

        def one(place=place) -> None:
            run_sync(place(BTC, Side.BUY, QTY, PRICE))

        med, p99, n = time_per_call_us(one, samples)
        report.add(
            Row(
                f"place_limit_order, composite -> connector -> reply: {title}",
                "us",
                med,
                p99,
                n,
                note="HTTP stubbed (signing and round trip excluded); pending, body, parse, track",
            )
        )


def main() -> None:
    """`python -m bench.placing [samples]`: these rows alone (before/after comparisons)."""
    import sys

    from bench.hotpath import _config

    report = Report()
    place_rows(report, int(sys.argv[1]) if len(sys.argv) > 1 else 20_000, _config)
    for row in report.rows:
        print(f"{row.name}: median {row.median:.2f} us, p99 {row.p99:.2f} us, n={row.samples}")


if __name__ == "__main__":
    main()
