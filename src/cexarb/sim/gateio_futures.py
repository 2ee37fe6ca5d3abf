"""Gate.io USDT perpetual futures v4 front-end: REST under /api/v4/futures/usdt, WS at /v4/ws/usdt.

Sizes on the wire are signed contracts; the core speaks base units, so every size is converted with
the contract's quanto_multiplier here. `X-Gate-Size-Decimal: 1` (REST request or WS handshake) makes
sizes decimal strings instead of integers, as Gate does.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cexarb.model import OrderType, Side, TimeInForce
from cexarb.sim import gateio_fees
from cexarb.sim import gateio_futures_codec as codec
from cexarb.sim.gateio_errors import GateError, bad_param, missing_param
from cexarb.sim.gateio_front import (
    API,
    PUBLIC,
    SIGNED,
    GateFront,
    json_object,
    listing_status,
    order_text,
    ws_names,
)
from cexarb.sim.gateio_rest import GateRoutes, api_key, json_response, parse_number, query_bool, query_int
from cexarb.sim.gateio_spot_codec import TIF_IN, pair_id
from cexarb.sim.gateio_ws import ALL, ERR_BAD_ARGUMENT, ChannelSpec, GateWsHub, WsError

FUT = f"{API}/futures/usdt"


def size_decimal(request: web.Request) -> bool:
    return request.headers.get("X-Gate-Size-Decimal") == "1"


class GateFuturesFront(GateFront):
    label = "gate futures"
    futures = True
    ws_paths = ("/v4/ws/usdt",)

    market_param = "contract"
    # "Operations based on custom ID can only be checked when the order is in orderbook. When
    # the order is finished, it can be checked within 60 seconds after the end of the order.
    # After that, only order ID is accepted." (gateapi-python docs/FuturesApi.md, get_futures_order)
    text_grace_ms = 60_000

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        # (api_key, symbol) of positions the user switched to cross margin (leverage "0" on the wire).
        self._cross: set[tuple[str, Any]] = set()
        self._balance_seen: dict[str, float] = {}
        self._position_ids: dict[tuple[str, Any], int] = {}
        self.hub = GateWsHub(venue, "futures", self._channels())

    # ---- app -------------------------------------------------------------------------------------

    def _routes(self, routes: GateRoutes) -> None:
        # Gate's REST host serves spot paths too; futures clients read the server time here.
        routes.add("GET", f"{API}/spot/time", self.server_time, **PUBLIC)
        routes.add("GET", f"{FUT}/contracts", self.list_contracts, **PUBLIC)
        routes.add("GET", f"{FUT}/contracts/{{contract}}", self.one_contract, **PUBLIC)
        routes.add("GET", f"{API}/futures/btc/contracts", self.no_contracts, **PUBLIC)
        routes.add("GET", f"{FUT}/order_book", self.order_book, **PUBLIC)
        routes.add("GET", f"{FUT}/tickers", self.tickers, **PUBLIC)
        routes.add("GET", f"{FUT}/trades", self.trades, **PUBLIC)
        routes.add("GET", f"{API}/account/detail", self.account_detail, **SIGNED)
        routes.add("GET", f"{FUT}/accounts", self.accounts, **SIGNED)
        routes.add("GET", f"{FUT}/fee", self.fee, **SIGNED)
        routes.add("GET", f"{FUT}/positions", self.list_positions, **SIGNED)
        routes.add("GET", f"{FUT}/positions/{{contract}}", self.one_position, **SIGNED)
        routes.add("POST", f"{FUT}/positions/{{contract}}/leverage", self.set_leverage, **SIGNED)
        routes.add("POST", f"{FUT}/orders", self.create_order, pool="orders", signed=True)
        routes.add("GET", f"{FUT}/orders", self.list_orders, **SIGNED)
        routes.add("GET", f"{FUT}/orders/{{order_id}}", self.get_order, **SIGNED)
        routes.add("DELETE", f"{FUT}/orders/{{order_id}}", self.cancel_order, pool="cancel", signed=True)
        routes.add("DELETE", f"{FUT}/orders", self.cancel_all, pool="cancel", signed=True)
        routes.add("GET", f"{FUT}/my_trades", self.my_trades, **SIGNED)
        routes.add("GET", f"{FUT}/account_book", self.account_book, **SIGNED)

    # ---- helpers ---------------------------------------------------------------------------------

    def unknown_market(self, name: str) -> GateError:
        return GateError(400, "CONTRACT_NOT_FOUND", f"Contract {name} not found")

    def leverage_of(self, key: str, p: Any) -> float:
        return 0.0 if (key, p.symbol) in self._cross else p.leverage

    def encode_order(self, key: str, o: Any, decimal: bool) -> dict[str, Any]:
        return codec.order(self.venue.markets[o.symbol], o, self.uid(key), decimal)

    def _find(self, key: str, ref: str) -> Any:
        """An order by exchange id or `text`, across contracts (Gate needs no contract to find it)."""
        if ref.startswith("t-"):
            return self.order_by_text(key, ref)
        order = self.venue.account(key).orders.get(ref)
        if order is None:
            raise GateError(404, "ORDER_NOT_FOUND", "Order not found")
        return order

    def _position_json(self, key: str, p: Any, decimal: bool) -> dict[str, Any]:
        m = self.venue.markets[p.symbol]
        out = codec.position(
            m, p, self.uid(key), self.leverage_of(key, p), self.venue.clock.now_ms(), decimal
        )
        if (key, p.symbol) in self._cross:
            out["cross_leverage_limit"] = codec.num(p.leverage)
        out["pending_orders"] = sum(1 for o in self.venue.open_orders(key, p.symbol))
        return out

    # ---- public REST -----------------------------------------------------------------------------

    def _last(self, m: Any) -> float:
        trades = self.venue.recent_trades(m.symbol, 1)
        return trades[-1].price if trades else self.venue.mark_price(m.symbol)

    def _funding(self, m: Any) -> codec.Funding:
        schedule = self.venue.funding
        return codec.Funding(self.venue.funding_rate(m.symbol), schedule.interval_s, schedule.next_apply)

    def _contract(self, m: Any, decimal: bool) -> dict[str, Any]:
        return codec.contract(
            m,
            self.venue.mark_price(m.symbol),
            self.venue.index_price(m.symbol),
            self._last(m),
            self.venue.book_id(m.symbol),
            self._funding(m),
            decimal,
        )

    async def list_contracts(self, request: web.Request) -> Any:
        return [self._contract(m, size_decimal(request)) for m in self.by_name.values()]

    async def one_contract(self, request: web.Request) -> Any:
        return self._contract(self.market(request.match_info["contract"]), size_decimal(request))

    async def no_contracts(self, request: web.Request) -> Any:
        return []

    async def order_book(self, request: web.Request) -> Any:
        m = self.market(request.query.get("contract"))
        limit = query_int(request, "limit", 10, 1, 300)
        book = self.venue.snapshot(m.symbol, limit)
        return codec.order_book(
            m, book, self.venue.clock.now_ms(), query_bool(request, "with_id"), size_decimal(request)
        )

    async def tickers(self, request: web.Request) -> Any:
        name = request.query.get("contract")
        markets = [self.market(name)] if name else list(self.by_name.values())
        decimal = size_decimal(request)
        return [
            codec.ticker(
                m,
                self.venue.ticker(m.symbol),
                self._last(m),
                self.venue.mark_price(m.symbol),
                self.venue.index_price(m.symbol),
                self.venue.funding_rate(m.symbol),
                bool(name),
                decimal,
            )
            for m in markets
        ]

    async def trades(self, request: web.Request) -> Any:
        m = self.market(request.query.get("contract"))
        limit = query_int(request, "limit", 100, 1, 1000)
        decimal = size_decimal(request)
        return [
            codec.public_trade_rest(m, t, decimal)
            for t in reversed(self.venue.recent_trades(m.symbol, limit))
        ]

    # ---- private REST ----------------------------------------------------------------------------

    async def fee(self, request: web.Request) -> Any:
        m = self.market(request.query.get("contract"), required=False)
        markets = [m] if m is not None else list(self.by_name.values())
        return gateio_fees.futures_fee(self.venue, api_key(request), markets)

    async def accounts(self, request: web.Request) -> Any:
        key = api_key(request)
        bal = self.venue.balances(key).get(self.venue.settle_asset)
        positions = [p for p in self.venue.positions(key).values() if p.size]
        available, locked = (bal.available, bal.locked) if bal else (0.0, 0.0)
        return codec.account(self.uid(key), available, locked, positions, self.venue.account(key).funding)

    async def list_positions(self, request: web.Request) -> Any:
        key = api_key(request)
        holding = query_bool(request, "holding")
        decimal = size_decimal(request)
        return [
            self._position_json(key, p, decimal)
            for p in self.venue.positions(key).values()
            if p.size or not holding
        ]

    async def one_position(self, request: web.Request) -> Any:
        key = api_key(request)
        m = self.market(request.match_info["contract"])
        return self._position_json(key, self.venue.positions(key)[m.symbol], size_decimal(request))

    async def set_leverage(self, request: web.Request) -> Any:
        key = api_key(request)
        m = self.market(request.match_info["contract"])
        if request.query.get("leverage") in (None, ""):
            raise missing_param("leverage")
        leverage = parse_number(request.query["leverage"], "leverage")
        cross = leverage == 0
        if cross:
            current = self.venue.positions(key)[m.symbol].leverage
            limit_text = request.query.get("cross_leverage_limit")
            leverage = parse_number(limit_text, "cross_leverage_limit") if limit_text else current
        if leverage < 1:
            raise GateError(400, "LEVERAGE_TOO_LOW", f"leverage {leverage:g} below minimum 1")
        if leverage > codec.LEVERAGE_MAX:
            raise GateError(
                400, "LEVERAGE_TOO_HIGH", f"leverage {leverage:g} above maximum {codec.LEVERAGE_MAX}"
            )
        self.venue.set_leverage(key, m.symbol, leverage)
        if cross:
            self._cross.add((key, m.symbol))
        else:
            self._cross.discard((key, m.symbol))
        return self._position_json(key, self.venue.positions(key)[m.symbol], size_decimal(request))

    def _parse_size(self, raw: Any, decimal: bool) -> float:
        if raw is None or raw == "":
            raise missing_param("size")
        size = parse_number(raw, "size")
        if size != int(size):
            # Our contracts have enable_decimal false: whole contracts only.
            raise bad_param(f"Invalid size: {raw} (this contract trades whole contracts)")
        return size

    async def create_order(self, request: web.Request) -> Any:
        key = api_key(request)
        decimal = size_decimal(request)
        body = await json_object(request)
        m = self.market(body.get("contract"))
        size = self._parse_size(body.get("size"), decimal)
        reduce_only = bool(body.get("reduce_only", False))
        if body.get("close"):
            if size != 0:
                raise bad_param("size must be 0 when close is true")
            pos = self.venue.positions(key)[m.symbol]
            if not pos.size:
                raise GateError(400, "POSITION_EMPTY", "Position is empty")
            size = -codec.contracts_of(m, pos.size)
            reduce_only = True
        if size == 0:
            raise bad_param("Invalid size: 0")
        text = order_text(body)
        if body.get("price") in (None, ""):
            raise missing_param("price")
        price = parse_number(body["price"], "price")
        tif_text = body.get("tif") or "gtc"
        tif = TIF_IN.get(tif_text)
        if tif is None:
            raise bad_param(f"Invalid tif: {tif_text}")
        if price == 0:
            if tif not in (TimeInForce.IOC, TimeInForce.FOK):
                raise bad_param("market orders (price 0) need tif ioc or fok")
            order_type, limit_price = OrderType.MARKET, None
        elif price < 0:
            raise bad_param(f"Invalid price: {body['price']}")
        else:
            order_type = OrderType.LIMIT_MAKER if tif is TimeInForce.POST_ONLY else OrderType.LIMIT
            limit_price = price
        side = Side.BUY if size > 0 else Side.SELL
        quantity = round(abs(size) * m.contract_size, m.qty_precision)
        order = self.venue.place_order(
            key,
            m.symbol,
            side,
            order_type,
            quantity,
            limit_price,
            tif,
            client_order_id=text,
            reduce_only=reduce_only,
        )
        if self.venue.faults.take_timeout_after_accept():
            return await self.venue.faults.hold_then_drop(request)
        return json_response(self.encode_order(key, order, decimal), status=201)

    async def get_order(self, request: web.Request) -> Any:
        key = api_key(request)
        return self.encode_order(key, self._find(key, request.match_info["order_id"]), size_decimal(request))

    async def cancel_order(self, request: web.Request) -> Any:
        key = api_key(request)
        found = self._find(key, request.match_info["order_id"])
        if found.status.is_done:
            raise GateError(400, "ORDER_FINISHED", "Order already finished")
        order = self.venue.cancel_order(key, found.symbol, order_id=found.order_id)
        return self.encode_order(key, order, size_decimal(request))

    async def cancel_all(self, request: web.Request) -> Any:
        key = api_key(request)
        m = self.market(request.query.get("contract"))
        side_text = request.query.get("side")
        if side_text not in (None, "", "bid", "ask"):
            raise bad_param(f"Invalid side: {side_text}")
        side = {"bid": Side.BUY, "ask": Side.SELL}.get(side_text or "")
        decimal = size_decimal(request)
        return [self.encode_order(key, o, decimal) for o in self.venue.cancel_all(key, m.symbol, side)]

    async def list_orders(self, request: web.Request) -> Any:
        key = api_key(request)
        status = listing_status(request)
        m = self.market(request.query.get("contract"), required=False)
        limit = query_int(request, "limit", 100, 1, 1000)
        offset = query_int(request, "offset", 0, 0, 1_000_000)
        if status == "open":
            orders = sorted(self.venue.open_orders(key, m.symbol if m else None), key=lambda o: o.created_at)
        else:
            orders = self.finished_orders(key, m)
        decimal = size_decimal(request)
        return [self.encode_order(key, o, decimal) for o in orders[offset : offset + limit]]

    async def my_trades(self, request: web.Request) -> Any:
        key = api_key(request)
        m = self.market(request.query.get("contract"), required=False)
        limit = query_int(request, "limit", 100, 1, 1000)
        offset = query_int(request, "offset", 0, 0, 1_000_000)
        order_id = request.query.get("order")
        fills = self.venue.my_trades(key, m.symbol if m else None, limit=1_000_000)
        fills = [f for f in fills if not order_id or f.order_id == order_id]
        fills.sort(key=lambda f: f.timestamp, reverse=True)
        decimal = size_decimal(request)
        return [
            codec.my_trade(self.venue.markets[f.symbol], f, decimal) for f in fills[offset : offset + limit]
        ]

    async def account_book(self, request: web.Request) -> Any:
        """Wallet changes, newest first, filtered as Gate does (contract, type, from/to seconds)."""
        key = api_key(request)
        m = self.market(request.query.get("contract"), required=False)
        kind = request.query.get("type") or ""
        if kind and kind not in BOOK_TYPES:
            raise bad_param(f"Invalid type: {kind}")
        limit = query_int(request, "limit", 100, 1, 1000)
        offset = query_int(request, "offset", 0, 0, 1_000_000)
        start = _seconds(request, "from")
        end = _seconds(request, "to")
        entries = [
            e
            for e in reversed(self.venue.account(key).book)
            if (m is None or e.symbol == m.symbol)
            and (not kind or e.kind == kind)
            and (start is None or e.time_ms >= start * 1000)
            and (end is None or e.time_ms <= end * 1000)
        ]
        return [codec.account_book_entry(e) for e in entries[offset : offset + limit]]

    # ---- WebSocket channels ----------------------------------------------------------------------

    def _names(self, names: list[Any], allow_all: bool) -> tuple[str, ...]:
        return ws_names(names, self.by_name, "contract", allow_all=allow_all)

    def _book_payload(self, payload: list[Any], _key: str | None) -> tuple[str, ...]:
        if not 2 <= len(payload) <= 3 or payload[1] not in ("20ms", "100ms"):
            raise WsError(ERR_BAD_ARGUMENT, "payload must be [contract, frequency(20ms|100ms), level]")
        if len(payload) == 3 and str(payload[2]) not in ("20", "50", "100"):
            raise WsError(ERR_BAD_ARGUMENT, f"invalid level: {payload[2]}")
        return self._names(payload[:1], allow_all=False)

    def _book_unsubscribe_payload(self, payload: list[Any], _key: str | None) -> tuple[str, ...]:
        """Gate's futures WS docs unsubscribe order_book_update with [contract, frequency]."""
        if len(payload) != 2 or payload[1] not in ("20ms", "100ms"):
            raise WsError(ERR_BAD_ARGUMENT, "unsubscribe payload must be [contract, frequency(20ms|100ms)]")
        return self._names(payload[:1], allow_all=False)

    def _private_payload(self, check_uid: bool) -> Any:
        def parse(payload: list[Any], key: str | None) -> tuple[str, ...]:
            if not payload:
                raise WsError(ERR_BAD_ARGUMENT, "payload must start with the user id")
            if check_uid and str(payload[0]) != str(self.uid(key or "")):
                raise WsError(ERR_BAD_ARGUMENT, f"user id {payload[0]} does not match the API key")
            return self._names(payload[1:], allow_all=True) if len(payload) > 1 else (ALL,)

        return parse

    def _channels(self) -> dict[str, ChannelSpec]:
        public = ChannelSpec(private=False, parse=lambda p, k: self._names(p, allow_all=False))
        return {
            "futures.book_ticker": public,
            "futures.trades": public,
            "futures.tickers": public,
            "futures.order_book_update": ChannelSpec(
                private=False, parse=self._book_payload, parse_unsubscribe=self._book_unsubscribe_payload
            ),
            "futures.orders": ChannelSpec(private=True, parse=self._private_payload(True)),
            "futures.usertrades": ChannelSpec(private=True, parse=self._private_payload(True)),
            # Gate documents the uid of futures.positions as a placeholder: present but not checked.
            "futures.positions": ChannelSpec(private=True, parse=self._private_payload(False)),
            "futures.balances": ChannelSpec(private=True, parse=self._private_payload(True)),
        }

    # ---- venue events -> pushes ------------------------------------------------------------------

    def _on_book_delta(self, ev: Any) -> None:
        m = self.venue.markets[ev.symbol]
        self.hub.publish(
            "futures.order_book_update", pair_id(ev.symbol), lambda d: codec.ws_book_update(m, ev, d)
        )

    def _on_ticker(self, ev: Any) -> None:
        bt = ev.ticker
        m = self.venue.markets[bt.symbol]
        self.hub.publish("futures.book_ticker", pair_id(bt.symbol), lambda d: codec.ws_book_ticker(m, bt, d))

    def _on_trade(self, ev: Any) -> None:
        t = ev.trade
        m = self.venue.markets[t.symbol]
        self.hub.publish("futures.trades", pair_id(t.symbol), lambda d: [codec.ws_trade(m, t, d)])
        self._push_ticker(m, t.price)  # Gate pushes futures.tickers as trades print

    def _push_ticker(self, m: Any, last: float) -> None:
        venue = self.venue
        symbol = m.symbol
        self.hub.publish(
            "futures.tickers",
            pair_id(symbol),
            lambda _d: [
                codec.ws_ticker(
                    m,
                    last,
                    venue.mark_price(symbol),
                    venue.index_price(symbol),
                    venue.funding_rate(symbol),
                )
            ],
        )

    def _on_funding(self, ev: Any) -> None:
        """A settlement: the wallet push says `fund`, and the contract's ticker shows the new rate."""
        self._balance_seen[ev.api_key] = ev.balance  # the balance event that follows is this change
        uid = self.uid(ev.api_key)
        text = pair_id(ev.symbol)
        self.hub.publish_private(
            "futures.balances",
            ev.api_key,
            None,
            lambda _d: [codec.ws_balance(ev.balance, ev.amount, text, "fund", ev.ts_ms, uid)],
        )
        m = self.venue.markets[ev.symbol]
        self._push_ticker(m, self._last(m))

    def _on_order(self, ev: Any) -> None:
        o = ev.order
        m = self.venue.markets[o.symbol]
        uid = self.uid(ev.api_key)
        self.hub.publish_private(
            "futures.orders", ev.api_key, pair_id(o.symbol), lambda d: [codec.order(m, o, uid, d, ws=True)]
        )

    def _on_fill(self, ev: Any) -> None:
        e = ev.execution
        m = self.venue.markets[e.symbol]
        self.hub.publish_private(
            "futures.usertrades", ev.api_key, pair_id(e.symbol), lambda d: [codec.ws_usertrade(m, e, d)]
        )

    def _on_balance(self, ev: Any) -> None:
        bal = ev.balance
        total = bal.available + bal.locked
        prev = self._balance_seen.get(ev.api_key)
        self._balance_seen[ev.api_key] = total
        change = 0.0 if prev is None else total - prev
        if prev is not None and abs(change) < 1e-12:
            return  # margin moved between available and locked: Gate's wallet balance did not change
        uid = self.uid(ev.api_key)
        now_ms = self.venue.clock.now_ms()
        self.hub.publish_private(
            "futures.balances",
            ev.api_key,
            None,
            lambda _d: [codec.ws_balance(total, change, "", "pnl", now_ms, uid)],
        )

    def _on_position(self, ev: Any) -> None:
        p = ev.position
        m = self.venue.markets[p.symbol]
        k = (ev.api_key, p.symbol)
        self._position_ids[k] = update_id = self._position_ids.get(k, 0) + 1
        uid = self.uid(ev.api_key)
        lev = self.leverage_of(ev.api_key, p)
        self.hub.publish_private(
            "futures.positions",
            ev.api_key,
            pair_id(p.symbol),
            lambda d: [codec.ws_position(m, p, uid, lev, update_id, d)],
        )


# Types of /futures/usdt/account_book entries (gateapi FuturesAccountBook.type).
BOOK_TYPES = frozenset(
    ("dnw", "pnl", "fee", "refr", "fund", "point_dnw", "point_fee", "point_refr", "bonus_offset")
)


def _seconds(request: web.Request, name: str) -> float | None:
    text = request.query.get(name)
    return parse_number(text, name) if text not in (None, "") else None


def create_app(venue: Any) -> web.Application:
    """The Gate USDT futures v4 front-end (REST + WS on one app) serving `venue`."""
    return GateFuturesFront(venue).app()
