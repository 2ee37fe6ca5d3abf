"""The MEXC spot v3 protocol front-end of the simulator: REST `/api/v3/...` and the
WebSocket `/ws` on one aiohttp app (MEXC spot v3 API docs, mexcdevelop.github.io/apidocs/spot_v3_en/).

`create_app(venue)` is what the harness serves; a third-party MEXC client works against
it with only its base URLs changed. Requests are signed and checked exactly like MEXC
(HMAC-SHA256 over the raw query string + body, timestamp/recvWindow), errors come back
as MEXC's `{"code","msg"}` bodies, rate limits as HTTP 429 with `Retry-After`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from cexarb.model import Order, OrderType, Side, Symbol
from cexarb.sim import mexc_auth
from cexarb.sim import mexc_errors as err
from cexarb.sim import mexc_wire as wire
from cexarb.sim.engine import SimReject
from cexarb.sim.mexc_errors import MexcApiError
from cexarb.sim.mexc_listen_keys import ListenKeys
from cexarb.sim.mexc_options import MexcSpotOptions
from cexarb.sim.mexc_wire import SymbolBook
from cexarb.sim.mexc_ws import MexcStreams
from cexarb.sim.venue import SimVenue

__all__ = ["FRONT_END", "MexcSpotFrontEnd", "MexcSpotOptions", "create_app"]

_JSON = "application/json"
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_MAX_CANCEL_SYMBOLS = 5
_MAX_DEPTH = 5000
# Signed writes: MEXC wants `Content-Type: application/json` on each (code 700013 otherwise).
_WRITES = frozenset({"POST", "PUT", "DELETE"})
_MAX_MY_TRADES = 100


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a signed request and what it asked, after the signature and clock checks."""

    api_key: str
    params: dict[str, str]


Handler = Callable[[web.Request], Awaitable[Any]]
SignedHandler = Callable[[Caller], Awaitable[Any]]


def create_app(venue: SimVenue, *, options: MexcSpotOptions | None = None) -> web.Application:
    front = MexcSpotFrontEnd(venue, options or MexcSpotOptions())
    app = web.Application(middlewares=[front.middleware])
    app[FRONT_END] = front
    front.add_routes(app.router)
    app.on_startup.append(front.on_startup)
    app.on_shutdown.append(front.on_shutdown)
    return app


class MexcSpotFrontEnd:
    """REST handlers + the WebSocket hub of one simulated MEXC spot venue."""

    def __init__(self, venue: SimVenue, options: MexcSpotOptions) -> None:
        self.venue = venue
        self.options = options
        self.symbols = SymbolBook(venue.markets)
        self.listen_keys = ListenKeys(options.listen_key_ttl_s, options.max_listen_keys)
        self.streams = MexcStreams(venue, self.symbols, self.listen_keys, options)
        # Per (api key, symbol): ids of the orders placed here, oldest first (for allOrders).
        self._order_ids: dict[tuple[str, Symbol], list[str]] = {}
        # Withdrawal id -> (memo, withdrawOrderId) as sent (the core keeps neither).
        self._withdraw_extras: dict[str, tuple[str | None, str | None]] = {}

    async def on_startup(self, _app: web.Application) -> None:
        await self.streams.start()

    async def on_shutdown(self, _app: web.Application) -> None:
        await self.streams.stop()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        public = [
            ("GET", "/api/v3/ping", self.ping, 1),
            ("GET", "/api/v3/time", self.server_time, 1),
            ("GET", "/api/v3/exchangeInfo", self.exchange_info, 10),
            ("GET", "/api/v3/defaultSymbols", self.default_symbols, 1),
            ("GET", "/api/v3/depth", self.depth, 1),
            ("GET", "/api/v3/trades", self.trades, 5),
            ("GET", "/api/v3/ticker/bookTicker", self.book_ticker, 1),
            ("GET", "/api/v3/ticker/24hr", self.ticker_24hr, 1),
        ]
        for method, path, handler, weight in public:
            router.add_route(method, path, self._public(handler, weight))
        signed = [
            ("GET", "/api/v3/account", self.account, "default", 10),
            ("GET", "/api/v3/tradeFee", self.trade_fee, "default", 20),
            ("GET", "/api/v3/mxDeduct/enable", self.mx_deduct_status, "default", 1),
            ("POST", "/api/v3/order/test", self.test_order, "orders", 1),
            ("DELETE", "/api/v3/order", self.cancel_order, "orders", 1),
            ("GET", "/api/v3/order", self.query_order, "default", 2),
            ("GET", "/api/v3/openOrders", self.open_orders, "default", 3),
            ("DELETE", "/api/v3/openOrders", self.cancel_open_orders, "orders", 1),
            ("GET", "/api/v3/allOrders", self.all_orders, "default", 10),
            ("GET", "/api/v3/myTrades", self.my_trades, "default", 10),
            ("POST", "/api/v3/userDataStream", self.create_listen_key, "default", 1),
            ("GET", "/api/v3/userDataStream", self.list_listen_keys, "default", 1),
            ("PUT", "/api/v3/userDataStream", self.keepalive_listen_key, "default", 1),
            ("DELETE", "/api/v3/userDataStream", self.close_listen_key, "default", 1),
            ("GET", "/api/v3/capital/config/getall", self.coin_config, "default", 10),
            ("POST", "/api/v3/capital/withdraw", self.withdraw, "default", 1),
            ("DELETE", "/api/v3/capital/withdraw", self.cancel_withdraw, "default", 1),
            ("GET", "/api/v3/capital/withdraw/history", self.withdraw_history, "default", 1),
            ("GET", "/api/v3/capital/deposit/address", self.deposit_address, "default", 10),
            ("GET", "/api/v3/capital/deposit/hisrec", self.deposit_history, "default", 1),
        ]
        for method, path, handler, pool, weight in signed:
            router.add_route(method, path, self._signed(handler, pool, weight))
        # Placing answers with its own response: a fault may swallow the reply.
        router.add_post("/api/v3/order", self._signed_raw(self.place_order, "orders", 1))
        router.add_get("/ws", self.streams.handle)

    # ---- plumbing ----

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/ws":
            return await handler(request)
        faults = self.venue.faults
        injected = await faults.before_rest(request)
        if injected is not None:
            return injected
        try:
            response = await handler(request)
        except MexcApiError as e:
            response = e.response()
        except web.HTTPNotFound:
            return MexcApiError(404, "Not Found", status=404).response()
        except web.HTTPMethodNotAllowed:
            return MexcApiError(405, "Method Not Allowed", status=405).response()
        await faults.after_rest_reply(request)
        return response

    def _public(self, handler: Callable[[dict[str, str]], Awaitable[Any]], weight: int) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            self._rate_limit(request.remote or "?", "default", weight)
            return _json(await handler(dict(request.query)))

        return wrapped

    def _signed(self, handler: SignedHandler, pool: str, weight: int) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            caller = await self._authenticate(request)
            self._rate_limit(caller.api_key, pool, weight)
            return _json(await handler(caller))

        return wrapped

    def _signed_raw(
        self, handler: Callable[[web.Request, Caller], Awaitable[web.StreamResponse]], pool: str, weight: int
    ) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            caller = await self._authenticate(request)
            self._rate_limit(caller.api_key, pool, weight)
            return await handler(request, caller)

        return wrapped

    async def _authenticate(self, request: web.Request) -> Caller:
        if request.method in _WRITES and request.content_type != "application/json":
            # MEXC refuses a signed write whose Content-Type is not JSON, bodyless ones included.
            raise err.invalid_content_type()
        api_key = request.headers.get("X-MEXC-APIKEY", "")
        if not api_key:
            raise err.api_key_required()
        query = request.rel_url.raw_query_string
        raw_body = await request.read()
        try:
            body = raw_body.decode()
        except UnicodeDecodeError as e:
            raise err.bad_param("body", "not UTF-8") from e
        account = self.venue.account(api_key)
        if account is None or not mexc_auth.verify(account.api_secret, query, body):
            raise err.invalid_signature()
        params = mexc_auth.parse_params(query, body)
        mexc_auth.check_timestamp(params, self.venue.clock.now_ms())
        return Caller(api_key, params)

    def _rate_limit(self, caller: str, pool: str, weight: int) -> None:
        retry_after = self.venue.limits.hit(caller, pool, weight)
        if retry_after is not None:
            raise err.too_many_requests(retry_after)

    def _symbol(self, params: dict[str, str], name: str = "symbol") -> Symbol:
        raw = params.get(name)
        if not raw:
            raise err.bad_param(name, "mandatory")
        symbol = self.symbols.lookup(raw)
        if symbol is None:
            raise err.bad_symbol()
        return symbol

    # ---- market data (public) ----

    async def ping(self, _params: dict[str, str]) -> Any:
        return {}

    async def server_time(self, _params: dict[str, str]) -> Any:
        return {"serverTime": self.venue.clock.now_ms()}

    async def exchange_info(self, params: dict[str, str]) -> Any:
        wanted = list(self.venue.markets)
        names = params.get("symbols") or params.get("symbol")
        if names:
            wanted = []
            for name in names.split(","):
                symbol = self.symbols.lookup(name.strip())
                if symbol is None:
                    raise MexcApiError(-1121, f"Invalid symbol. {name}")
                wanted.append(symbol)
        return {
            "timezone": "CST",
            "serverTime": self.venue.clock.now_ms(),
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": [wire.exchange_symbol(self.venue.markets[s], self.symbols.fmt(s)) for s in wanted],
        }

    async def default_symbols(self, _params: dict[str, str]) -> Any:
        return {"code": 200, "data": [self.symbols.name(s) for s in self.venue.markets], "msg": None}

    async def depth(self, params: dict[str, str]) -> Any:
        symbol = self._symbol(params)
        limit = min(_int_param(params, "limit", 100), _MAX_DEPTH)
        book = self.venue.snapshot(symbol, max(limit, 1))
        return wire.depth(book, self.symbols.fmt(symbol), self.venue.clock.now_ms())

    async def trades(self, params: dict[str, str]) -> Any:
        symbol = self._symbol(params)
        limit = min(max(_int_param(params, "limit", 500), 1), 1000)
        fmt = self.symbols.fmt(symbol)
        return [wire.public_trade(t, fmt) for t in reversed(self.venue.recent_trades(symbol, limit))]

    async def book_ticker(self, params: dict[str, str]) -> Any:
        if params.get("symbol"):
            symbol = self._symbol(params)
            return wire.book_ticker(self.venue.ticker(symbol), self.symbols.fmt(symbol))
        return [wire.book_ticker(self.venue.ticker(s), self.symbols.fmt(s)) for s in self.venue.markets]

    async def ticker_24hr(self, params: dict[str, str]) -> Any:
        now = self.venue.clock.now_ms()
        symbols = [self._symbol(params)] if params.get("symbol") else list(self.venue.markets)
        out = []
        for symbol in symbols:
            trades = [t for t in self.venue.recent_trades(symbol, 1000) if t.timestamp >= now - 86_400_000]
            out.append(wire.ticker_24hr(self.venue.ticker(symbol), trades, self.symbols.fmt(symbol), now))
        return out[0] if params.get("symbol") else out

    # ---- account and trading (signed) ----

    async def account(self, caller: Caller) -> Any:
        market = next(iter(self.venue.markets.values()))
        return wire.account(
            self.venue.balances(caller.api_key), self.venue.clock.now_ms(), market.maker_fee, market.taker_fee
        )

    async def trade_fee(self, caller: Caller) -> Any:
        """The account's own rates on one symbol (its tier; MX deduction not applied)."""
        maker, taker = self.venue.fee_rates(caller.api_key, self._symbol(caller.params))
        return wire.data_reply(
            {"makerCommission": maker, "takerCommission": taker}, self.venue.clock.now_ms()
        )

    async def mx_deduct_status(self, caller: Caller) -> Any:
        enabled = self.venue.account(caller.api_key).fee_tier.token == "MX"
        return wire.data_reply({"mxDeductEnable": enabled}, self.venue.clock.now_ms())

    def _order_request(self, params: dict[str, str]) -> dict[str, Any]:
        """Validated arguments of SimVenue.place_order from MEXC's new-order parameters."""
        symbol = self._symbol(params)
        side_text = params.get("side", "").upper()
        if side_text not in ("BUY", "SELL"):
            raise err.bad_param("side", "BUY or SELL")
        mexc_type = params.get("type", "").upper()
        if mexc_type not in wire.MEXC_TYPES:
            raise err.bad_param("type", ", ".join(wire.MEXC_TYPES))
        order_type, tif = wire.MEXC_TYPES[mexc_type]
        quantity = _float_param(params, "quantity")
        quote_qty = _float_param(params, "quoteOrderQty")
        price = _float_param(params, "price")
        if order_type is OrderType.MARKET:
            if quantity is None and quote_qty is None:
                raise err.bad_combination("MARKET needs quantity or quoteOrderQty")
            price = None
            if quantity is not None:
                quote_qty = None
        elif quantity is None or price is None:
            raise err.bad_combination(f"{mexc_type} needs quantity and price")
        client_id = params.get("newClientOrderId", "")
        if client_id and not _CLIENT_ID.fullmatch(client_id):
            raise err.illegal_characters("newClientOrderId")
        return {
            "symbol": symbol,
            "side": Side(side_text),
            "order_type": order_type,
            "quantity": quantity or 0.0,
            "price": price,
            "tif": tif,
            "client_order_id": client_id,
            "quote_quantity": quote_qty,
        }

    async def place_order(self, request: web.Request, caller: Caller) -> web.StreamResponse:
        args = self._order_request(caller.params)
        try:
            order = self.venue.place_order(caller.api_key, **args)
        except SimReject as e:
            raise err.from_reject(e.reason.value, e.detail, side=args["side"].value) from e
        self._order_ids.setdefault((caller.api_key, order.symbol), []).append(order.order_id)
        if self.venue.faults.take_timeout_after_accept():
            # The order stands; the client never learns it (it must query by client id).
            return await self.venue.faults.hold_then_drop(request)
        fmt = self.symbols.fmt(order.symbol)
        return _json(wire.new_order_ack(order, fmt, self.venue.clock.now_ms()))

    async def test_order(self, caller: Caller) -> Any:
        self._order_request(caller.params)
        return {}

    def _order_ref(self, params: dict[str, str]) -> tuple[str | None, str | None]:
        order_id = params.get("orderId") or None
        client_id = params.get("origClientOrderId") or None
        if order_id is None and client_id is None:
            raise err.order_id_required()
        return order_id, client_id

    async def cancel_order(self, caller: Caller) -> Any:
        symbol = self._symbol(caller.params)
        order_id, client_id = self._order_ref(caller.params)
        try:
            order = self.venue.cancel_order(caller.api_key, symbol, order_id, client_id)
        except SimReject as e:
            raise err.from_reject(e.reason.value, e.detail) from e
        return wire.canceled_order(order, self.symbols.fmt(symbol))

    async def query_order(self, caller: Caller) -> Any:
        symbol = self._symbol(caller.params)
        order_id, client_id = self._order_ref(caller.params)
        try:
            order = self.venue.get_order(caller.api_key, symbol, order_id, client_id)
        except SimReject as e:
            raise err.from_reject(e.reason.value, e.detail, querying=True) from e
        return wire.order(order, self.symbols.fmt(symbol))

    async def open_orders(self, caller: Caller) -> Any:
        symbol = self._symbol(caller.params)
        fmt = self.symbols.fmt(symbol)
        orders = sorted(self.venue.open_orders(caller.api_key, symbol), key=_created)
        return [wire.order(o, fmt) for o in orders]

    async def cancel_open_orders(self, caller: Caller) -> Any:
        raw = caller.params.get("symbol", "")
        names = [n.strip() for n in raw.split(",") if n.strip()]
        if not names:
            raise err.bad_param("symbol", "mandatory")
        if len(names) > _MAX_CANCEL_SYMBOLS:
            raise err.bad_param("symbol", f"at most {_MAX_CANCEL_SYMBOLS} symbols")
        symbols = [self._symbol({"symbol": n}) for n in names]
        out = []
        for symbol in symbols:
            fmt = self.symbols.fmt(symbol)
            canceled = sorted(self.venue.cancel_all(caller.api_key, symbol), key=_created)
            out.extend(wire.canceled_order(o, fmt) for o in canceled)
        return out

    async def all_orders(self, caller: Caller) -> Any:
        params = caller.params
        symbol = self._symbol(params)
        fmt = self.symbols.fmt(symbol)
        start = _int_param(params, "startTime", 0)
        end = _int_param(params, "endTime", 0)
        limit = min(max(_int_param(params, "limit", 500), 1), 1000)
        orders = []
        for order_id in self._order_ids.get((caller.api_key, symbol), ()):
            order = self.venue.get_order(caller.api_key, symbol, order_id)
            if order.created_at >= start and (not end or order.created_at <= end):
                orders.append(order)
        return [wire.order(o, fmt) for o in orders[-limit:]]

    async def my_trades(self, caller: Caller) -> Any:
        params = caller.params
        symbol = self._symbol(params)
        fmt = self.symbols.fmt(symbol)
        limit = min(max(_int_param(params, "limit", _MAX_MY_TRADES), 1), _MAX_MY_TRADES)
        start = _int_param(params, "startTime", 0) or None
        end = _int_param(params, "endTime", 0)
        order_id = params.get("orderId")
        fills = self.venue.my_trades(caller.api_key, symbol, since_ms=start, limit=1 << 30)
        fills = [
            f
            for f in fills
            if (not end or f.timestamp <= end) and (order_id is None or f.order_id == order_id)
        ]
        fills = fills[:limit] if start is not None else fills[-limit:]
        return [wire.my_trade(f, fmt) for f in fills]

    # ---- user data stream (listen keys) ----

    async def create_listen_key(self, caller: Caller) -> Any:
        key = self.listen_keys.create(caller.api_key)
        if key is None:
            raise err.too_many_listen_keys(self.listen_keys.max_per_account)
        return {"listenKey": key}

    async def list_listen_keys(self, caller: Caller) -> Any:
        return {"listenKey": self.listen_keys.valid_keys(caller.api_key)}

    async def keepalive_listen_key(self, caller: Caller) -> Any:
        key = caller.params.get("listenKey", "")
        if not key:
            raise err.bad_param("listenKey", "mandatory")
        if not self.listen_keys.keepalive(caller.api_key, key):
            raise err.listen_key_not_found()
        return {"listenKey": key}

    async def close_listen_key(self, caller: Caller) -> Any:
        key = caller.params.get("listenKey", "")
        if not key:
            raise err.bad_param("listenKey", "mandatory")
        if not self.listen_keys.delete(caller.api_key, key):
            raise err.listen_key_not_found()
        return {"listenKey": key}

    # ---- wallet ----

    async def coin_config(self, caller: Caller) -> Any:
        assets = sorted({a for s in self.venue.markets for a in (s.base, s.quote)})
        return [wire.coin_config(a, self.venue.network_config(a)) for a in assets]

    async def withdraw(self, caller: Caller) -> Any:
        params = caller.params
        coin = params.get("coin", "").upper()
        address = params.get("address", "")
        amount = _float_param(params, "amount")
        network = params.get("netWork") or params.get("network") or ""
        for name, value in (("coin", coin), ("address", address), ("amount", amount)):
            if not value:
                raise err.bad_param(name, "mandatory")
        memo = params.get("memo") or None
        client_id = params.get("withdrawOrderId") or None
        try:
            result = self.venue.withdraw(caller.api_key, coin, amount, address, network, memo, client_id)
        except SimReject as e:
            raise err.from_reject(e.reason.value, e.detail) from e
        self._withdraw_extras[result.withdrawal_id] = (memo, client_id)
        return {"id": result.withdrawal_id}

    async def cancel_withdraw(self, caller: Caller) -> Any:
        withdrawal_id = caller.params.get("id", "")
        if not withdrawal_id:
            raise err.bad_param("id", "mandatory")
        try:
            self.venue.cancel_withdrawal(caller.api_key, withdrawal_id)
        except SimReject as e:
            raise err.record_not_found() from e
        return {"id": withdrawal_id}

    async def withdraw_history(self, caller: Caller) -> Any:
        params = caller.params
        coin = params.get("coin") or None
        status = _int_param(params, "status", 0)
        start = _int_param(params, "startTime", 0)
        end = _int_param(params, "endTime", 0)
        limit = min(max(_int_param(params, "limit", 1000), 1), 1000)
        items = []
        for w in sorted(self.venue.withdrawals(caller.api_key, coin), key=lambda w: -w.timestamp):
            memo, client_id = self._withdraw_extras.get(w.withdrawal_id, (None, None))
            item = wire.withdrawal(w, memo, client_id)
            if status and item["status"] != status:
                continue
            if w.timestamp < start or (end and w.timestamp > end):
                continue
            items.append(item)
        return items[:limit]

    async def deposit_address(self, caller: Caller) -> Any:
        """Every network's address of `coin` (or the one `network`), as MEXC lists them."""
        params = caller.params
        coin = params.get("coin", "").upper()
        if not coin:
            raise err.bad_param("coin", "mandatory")
        network = params.get("network") or params.get("netWork") or ""
        nets = [n for n in self.venue.deposit_networks(coin) if not network or n.network == network]
        if not nets:
            raise err.from_reject("WITHDRAW_INVALID_NETWORK", f"{coin} {network or '(any)'}")
        return [
            wire.deposit_address(coin, n.network, self.venue.deposit_address(caller.api_key, coin, n.network))
            for n in nets
        ]

    async def deposit_history(self, caller: Caller) -> Any:
        """Deposits, newest first, filtered by coin, status and time as MEXC does."""
        params = caller.params
        coin = params.get("coin") or None
        status = _int_param(params, "status", 0)
        start = _int_param(params, "startTime", 0)
        end = _int_param(params, "endTime", 0)
        limit = min(max(_int_param(params, "limit", 1000), 1), 1000)
        items = []
        for d in sorted(self.venue.deposits(caller.api_key, coin), key=lambda d: -d.timestamp):
            item = wire.deposit(d)
            if status and item["status"] != status:
                continue
            if d.timestamp < start or (end and d.timestamp > end):
                continue
            items.append(item)
        return items[:limit]


FRONT_END: web.AppKey[MexcSpotFrontEnd] = web.AppKey("mexc_spot_front_end", MexcSpotFrontEnd)


def _json(payload: Any) -> web.Response:
    return web.Response(body=msgspec.json.encode(payload), content_type=_JSON)


def _created(order: Order) -> tuple[int, str]:
    return order.created_at, order.order_id


def _float_param(params: dict[str, str], name: str) -> float | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError as e:
        raise err.bad_param(name, f"not a number: {raw!r}") from e
    if value != value or value in (float("inf"), float("-inf")):
        raise err.bad_param(name, f"not a number: {raw!r}")
    return value


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as e:
        raise err.bad_param(name, f"not an integer: {raw!r}") from e
