"""MEXC spot v3 REST: public market data and signed trading, account, listen keys, wallet.

Paths are `/api/v3/...` relative to `VenueConfig.rest_url` (https://api.mexc.com, or
the simulator's URL). Every parameter travels in the query string, like ccxt sends it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Awaitable
from contextlib import AbstractContextManager
from typing import Any

import aiohttp
import msgspec

from cexarb.config import VenueConfig
from cexarb.logs import register_secret
from cexarb.model import (
    AccountFees,
    AssetBalance,
    BookTicker,
    Execution,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    SymbolInfo,
    TimeInForce,
)
from cexarb.model.errors import (
    ExchangeError,
    InvalidOrder,
    OrderNotFound,
    ProtocolError,
)
from cexarb.model.rounding import format_decimal, format_on_grid, grid_spec
from cexarb.transport.clock import Clock
from cexarb.transport.http import HttpClient, QueryTemplate, Written, query_text
from cexarb.transport.ratelimit import RateLimiter
from cexarb.venues.mexc import codec
from cexarb.venues.mexc.auth import MexcSigner
from cexarb.venues.mexc.errors import VENUE, http_error_mapper, parse_error
from cexarb.venues.mexc.spec import SPOT
from cexarb.venues.mexc.symbols import MexcSymbols
from cexarb.venues.mexc.wallet import MexcWalletMixin

# Endpoint weights from mexc_spot.md section 3.
_W_EXCHANGE_INFO = 10
_W_ACCOUNT = 10
_W_MY_TRADES = 10
_W_OPEN_ORDERS = 3
_W_QUERY_ORDER = 2
_W_TRADE_FEE = 20
_MAX_DEPTH = 5000
# MEXC spot docs, "How to Properly Maintain a Local Copy of the Order Book": snapshot limit=1000.
SNAPSHOT_DEPTH = 1000
_MAX_TRADES = 100
_ORDERS_POOL = "orders"
_ORDER_PATH = "/api/v3/order"

log = logging.getLogger("cexarb.venues.mexc")

# Client ids' random bits: a generator of our own, seeded from the OS once (and again in a
# forked child, which would otherwise repeat the parent's ids), so a caller seeding the
# `random` module cannot make ids repeat, and an id costs no getrandom syscall.
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


def _checked(reply: Any) -> Any:
    """Some gateways answer HTTP 200 with an error body; success codes are 0 and 200."""
    if isinstance(reply, dict) and "code" in reply and ("msg" in reply or "message" in reply):
        if str(reply["code"]) not in ("0", "200"):
            raise parse_error(200, reply)
    return reply


async def _placed(reply: Awaitable[Any], request: OrderRequest, template: _NewOrder) -> Order:
    """The order a new-order reply written by write_order_now confirms, read as place_order reads it."""
    return codec.parse_new_order(_checked(await reply), template.sent(request))


def _http(config: VenueConfig, session, rate_limiter, **kw) -> HttpClient:
    return HttpClient(
        VENUE,
        config.rest_url,
        error_mapper=http_error_mapper,
        rate_limiter=rate_limiter if rate_limiter is not None else RateLimiter(config.rate_limits),
        timeout_s=config.request_timeout_s,
        session=session,
        **kw,
    )


class MexcSpotPublicRest:
    """`PublicRest` for MEXC spot. Learns venue symbols from exchangeInfo on first need."""

    venue = VENUE

    def __init__(
        self,
        config: VenueConfig,
        *,
        session: aiohttp.ClientSession | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.config = config
        self._http = _http(config, session, rate_limiter)
        self._infos: dict[Symbol, SymbolInfo] = {}
        self._symbols = MexcSymbols(self._infos)

    @property
    def http(self) -> HttpClient:
        return self._http

    async def get_symbols_info(self) -> dict[Symbol, SymbolInfo]:
        reply = _checked(await self._http.request("GET", "/api/v3/exchangeInfo", weight=_W_EXCHANGE_INFO))
        try:
            entries = reply["symbols"]
        except (KeyError, TypeError):
            raise ProtocolError(f"exchangeInfo without symbols: {str(reply)[:200]}", venue=VENUE) from None
        infos = {}
        for entry in entries:
            info = codec.parse_symbol_info(entry)
            infos[info.symbol] = info
        self._infos.update(infos)
        return infos

    async def _venue_symbol(self, symbol: Symbol) -> str:
        if symbol not in self._infos:
            await self.get_symbols_info()
        return self._symbols.to_venue(symbol)

    async def get_order_book(self, symbol: Symbol, limit: int = SNAPSHOT_DEPTH) -> OrderBook:
        """A depth snapshot, 1000 levels by default as MEXC's guide to keeping a local book asks:
        the aggregated depth stream only says what changed, so a level beyond the snapshot's
        range that does not change stays unknown. The local book is therefore complete only
        between the best prices and the snapshot's worst ones (plus levels diffs touched since)."""
        name = await self._venue_symbol(symbol)
        limit = max(1, min(limit, _MAX_DEPTH))
        reply = await self._http.request("GET", "/api/v3/depth", params={"symbol": name, "limit": limit})
        return codec.parse_order_book(_checked(reply), symbol)

    async def get_book_ticker(self, symbol: Symbol) -> BookTicker:
        name = await self._venue_symbol(symbol)
        reply = await self._http.request("GET", "/api/v3/ticker/bookTicker", params={"symbol": name})
        reply = _checked(reply)
        if isinstance(reply, list):  # some gateways wrap the single ticker in a list
            reply = reply[0]
        return codec.parse_book_ticker(reply, symbol)

    async def get_server_time(self) -> int:
        return codec.parse_server_time(_checked(await self._http.request("GET", "/api/v3/time")))

    async def close(self) -> None:
        await self._http.close()


class _NewOrder:
    """The new-order request of one symbol, side, type and time in force, built once: its
    query with the quantity, price and client id left open, and what the order is sent as."""

    __slots__ = ("info", "query", "market", "step", "tick", "order_type", "tif")

    def __init__(
        self,
        info: SymbolInfo | None,
        query: QueryTemplate,
        market: bool,
        order_type: OrderType,
        tif: TimeInForce,
    ) -> None:
        self.info = info
        self.query = query
        self.market = market
        # The grids' format specs the numbers are written with ("": no grid, shortest exact text).
        self.step = grid_spec(info.step_size) if info is not None else ""
        self.tick = grid_spec(info.tick_size) if info is not None else ""
        self.order_type = order_type
        self.tif = tif

    def sent(self, request: OrderRequest) -> Order:
        """`request` as this template sends it, which its reply is read against: built once
        the reply is in, off the order lane. The reply may hold only symbol, orderId,
        orderListId and transactTime: the order comes from the request, so a placed order is
        never reported as an error."""
        quantity = request.quantity
        # Positional, in Order's field order (tests/model/test_order_fields.py pins it).
        order = Order(
            request.symbol,
            "",
            request.client_order_id,
            request.side,
            self.order_type,
            0.0 if self.market else request.price,  # a market order carries no price
            quantity,
            OrderStatus.NEW,
            self.tif,
        )
        order.remaining_quantity = quantity
        return order


class MexcSpotPrivateRest(MexcWalletMixin):
    """`PrivateRest` + `WithdrawalRest` for MEXC spot, plus listen keys and asset networks.

    `symbols_info` is the composite's dict (it may grow later); orders on symbols not in it
    are refused. Calls without a symbol (open orders, cancel all) iterate its active symbols,
    because MEXC requires one: hand it only the symbols you trade.
    """

    venue = VENUE

    def __init__(
        self,
        config: VenueConfig,
        symbols_info: dict[Symbol, SymbolInfo],
        *,
        session: aiohttp.ClientSession | None = None,
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not config.has_credentials():
            raise ExchangeError(
                "MEXC private REST needs an API key and secret",
                venue=VENUE,
                hint=f"set {' and '.join(SPOT.credentials_env)} (or [mexc.spot] in cexarb.toml)",
            )
        register_secret(config.api_secret.reveal())
        self.config = config
        self.symbols = MexcSymbols(symbols_info)
        self._infos = symbols_info  # the composite's dict, read per order (_new_order)
        # The new-order request per (symbol, side, type, time in force): a few per symbol traded.
        self._templates: dict[tuple[Symbol, Side, OrderType, TimeInForce], _NewOrder] = {}
        self._http = _http(
            config,
            session,
            rate_limiter,
            signer=MexcSigner(config.api_key, config.api_secret, config.recv_window_ms),
            clock=clock,
            server_time=self.get_server_time,
        )

    @property
    def http(self) -> HttpClient:
        return self._http

    async def get_server_time(self) -> int:
        return codec.parse_server_time(_checked(await self._http.request("GET", "/api/v3/time")))

    async def sync_clock(self) -> None:
        """Measure the venue clock offset now (signed requests also resync on a 700003)."""
        await self._http.clock.sync(self.get_server_time)

    def new_client_order_id(self) -> str:
        # MEXC's limits are undocumented; 26 chars of [a-z0-9] stays inside every known rule.
        # 96 random bits as os.urandom(12).hex() gave them, without a syscall per order.
        return f"cx{_ids.getrandbits(96):024x}"

    async def _signed(self, method: str, path: str, params: dict | None = None, **kw) -> Any:
        return _checked(await self._http.request(method, path, params=params, signed=True, **kw))

    # --- account -------------------------------------------------------------------------

    async def get_balances(self) -> dict[str, AssetBalance]:
        return codec.parse_balances(await self._signed("GET", "/api/v3/account", weight=_W_ACCOUNT))

    async def get_account_fees(self, symbol: Symbol) -> AccountFees:
        """The rates this account pays on `symbol` (its tier, and MX deduction if enabled)."""
        fee = await self._signed(
            "GET", "/api/v3/tradeFee", {"symbol": self.symbols.to_venue(symbol)}, weight=_W_TRADE_FEE
        )
        return codec.parse_trade_fee(fee, await self._signed("GET", "/api/v3/mxDeduct/enable"), symbol)

    # --- orders --------------------------------------------------------------------------

    @staticmethod
    def _order_params(
        venue_symbol: str, side: Side, venue_type: str, quantity: str, price: str | None, client_order_id: str
    ) -> dict[str, str | None]:
        """The new-order request stated once (POST `_ORDER_PATH`, signed, in the orders pool):
        its query parameters in the order sent, the numbers as wire text (price None: not sent)."""
        return {
            "symbol": venue_symbol,
            "side": side.value,
            "type": venue_type,
            "quantity": quantity,
            "price": price,
            "newClientOrderId": client_order_id,
        }

    def _new_order(self, request: OrderRequest) -> tuple[str, _NewOrder]:
        """The new-order request's query (its template's, filled with this order's quantity,
        price and client id), and the template (`_NewOrder.sent` reads the reply).
        `reduce_only` has no meaning on spot and is not sent."""
        symbol, quantity, cid = request.symbol, request.quantity, request.client_order_id
        info = self._infos.get(symbol)  # symbols.info, without its frame
        key = (symbol, request.side, request.order_type, request.time_in_force)
        template = self._templates.get(key)
        if template is None or template.info is not info:  # new, or the symbol's info replaced
            template = self._template(key, info)
        # Decimal text needs no url-encoding; a client id may (one the caller chose): ours is
        # [0-9a-z], which query_text's first test passes (made here: a frame less).
        cid_text = cid if cid.isalnum() and cid.isascii() else query_text(cid)
        step, tick = template.step, template.tick
        quantity_text = format_on_grid(quantity, step) if step else format_decimal(quantity)
        if template.market:  # a market order carries no price
            return template.query.fill(quantity_text, cid_text), template
        price = request.price
        price_text = format_on_grid(price, tick) if tick else format_decimal(price)
        return template.query.fill(quantity_text, price_text, cid_text), template

    def _template(
        self, key: tuple[Symbol, Side, OrderType, TimeInForce], info: SymbolInfo | None
    ) -> _NewOrder:
        """`_order_params` for one symbol, side, type and time in force, its quantity, price and
        client id left open; kept while the symbol's info stays the same object."""
        symbol, side, order_type, tif = key
        venue_type = codec.order_type_param(order_type, tif)
        market = venue_type == "MARKET"  # a request of any other type carries a price
        name = info.venue_symbol if info is not None else self.symbols.to_venue(symbol)
        params = self._order_params(name, side, venue_type, "", None if market else "", "")
        slots = ("quantity", "newClientOrderId") if market else ("quantity", "price", "newClientOrderId")
        # What the venue's reply is read as: the type and time in force the query states.
        sent_type, sent_tif = codec.ORDER_TYPE.get(venue_type, (order_type, tif))
        template = _NewOrder(info, QueryTemplate(params, slots), market, sent_type, sent_tif)
        if info is not None:  # without info the venue symbol comes from a registry: asked anew
            self._templates[key] = template
        return template

    async def place_order(self, request: OrderRequest) -> Order:
        """POST /api/v3/order; `reduce_only` has no meaning on spot and is not sent."""
        query, template = self._new_order(request)
        # The client directly (not `_signed`): one coroutine less, and `_checked` runs once, below.
        reply = await self._http.request("POST", _ORDER_PATH, query=query, signed=True, pool=_ORDERS_POOL)
        return codec.parse_new_order(_checked(reply), template.sent(request))

    def place_order_now(self, request: OrderRequest) -> Awaitable[Order] | None:
        """place_order with its request written before this returns when the transport can
        (HttpClient.write_now, then follow); awaiting gives what place_order gives, errors included. None:
        nothing was sent (call place_order)."""
        written = self.write_order_now(request)
        return None if written is None else self.follow_order(request, written)

    def write_order_now(self, request: OrderRequest) -> tuple[Written, _NewOrder] | None:
        """place_order_now's first half: the request written, nothing followed yet. Give it to
        `follow_order` before anything is awaited. None: nothing was sent."""
        query, template = self._new_order(request)
        written = self._http.write_now("POST", _ORDER_PATH, query=query, signed=True, pool=_ORDERS_POOL)
        return None if written is None else (written, template)

    def follow_order(self, request: OrderRequest, written: tuple[Written, _NewOrder]) -> Awaitable[Order]:
        """place_order_now's second half, for `request` written by `write_order_now`."""
        sent, template = written
        return _placed(self._http.follow(sent), request, template)

    def rehearsing(self) -> AbstractContextManager[None]:
        """write_order_now within it runs to its socket write and sends nothing (the order
        path's HTTP client rehearsing: HttpClient.rehearsing)."""
        return self._http.rehearsing()

    def order_bytes(self, request: OrderRequest) -> bytes:
        """The bytes place_order would write for `request` now: nothing sent, nothing counted."""
        query, _template = self._new_order(request)
        return self._http.encode_request("POST", _ORDER_PATH, query=query, signed=True)

    def _order_ref(self, symbol: Symbol, order_id: str | None, client_order_id: str | None) -> dict:
        if not order_id and not client_order_id:
            raise InvalidOrder("give order_id or client_order_id", venue=VENUE)
        params: dict[str, Any] = {"symbol": self.symbols.to_venue(symbol)}
        if order_id:
            params["orderId"] = order_id
        else:
            params["origClientOrderId"] = client_order_id
        return params

    async def cancel_order(
        self, symbol: Symbol, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        params = self._order_ref(symbol, order_id, client_order_id)
        reply = await self._signed("DELETE", "/api/v3/order", params, pool=_ORDERS_POOL)
        order = codec.parse_order(reply, symbol)
        if order.status is OrderStatus.NEW and "status" not in reply:
            # The short cancel reply has no status; a successful cancel means canceled.
            order = msgspec.structs.replace(order, status=OrderStatus.CANCELED)
        return order

    async def get_order(
        self, symbol: Symbol, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        params = self._order_ref(symbol, order_id, client_order_id)
        reply = await self._signed("GET", "/api/v3/order", params, weight=_W_QUERY_ORDER)
        return codec.parse_order(reply, symbol)

    def _active_symbols(self) -> list[Symbol]:
        return [s for s, info in self.symbols.infos.items() if info.active]

    async def get_open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        if symbol is None:
            per_symbol = await asyncio.gather(*(self.get_open_orders(s) for s in self._active_symbols()))
            return [o for orders in per_symbol for o in orders]
        params = {"symbol": self.symbols.to_venue(symbol)}
        reply = await self._signed("GET", "/api/v3/openOrders", params, weight=_W_OPEN_ORDERS)
        return [codec.parse_order(item, symbol) for item in reply or ()]

    async def cancel_all_orders(self, symbol: Symbol | None = None) -> list[Order]:
        if symbol is None:
            with_orders = {o.symbol for o in await self.get_open_orders()}
            per_symbol = await asyncio.gather(*(self.cancel_all_orders(s) for s in sorted(with_orders)))
            return [o for orders in per_symbol for o in orders]
        params = {"symbol": self.symbols.to_venue(symbol)}
        try:
            reply = await self._signed("DELETE", "/api/v3/openOrders", params, pool=_ORDERS_POOL)
        except OrderNotFound:
            return []  # nothing was open
        orders = [codec.parse_order(item, symbol) for item in reply or ()]
        return [
            o if "status" in item else msgspec.structs.replace(o, status=OrderStatus.CANCELED)
            for o, item in zip(orders, reply or (), strict=True)
        ]

    async def get_my_trades(
        self, symbol: Symbol, since_ms: int | None = None, limit: int = 100
    ) -> list[Execution]:
        params = {
            "symbol": self.symbols.to_venue(symbol),
            "startTime": since_ms,
            "limit": max(1, min(limit, _MAX_TRADES)),
        }
        reply = await self._signed("GET", "/api/v3/myTrades", params, weight=_W_MY_TRADES)
        trades = [codec.parse_execution(item, symbol) for item in reply or ()]
        trades.sort(key=lambda e: e.timestamp)
        return trades

    async def get_fills_since(self, symbol: Symbol, since_ms: int) -> list[Execution]:
        """Every fill of `symbol` at or after `since_ms`, oldest first.

        myTrades answers at most 100 fills from `startTime` on, oldest first: page on from the
        last fill's time (inclusive; the fills of that millisecond already seen are dropped).
        Each page is one weighted request through the rate limiter."""
        fills: dict[str, Execution] = {}
        start = since_ms
        while True:
            page = await self.get_my_trades(symbol, since_ms=start, limit=_MAX_TRADES)
            for fill in page:
                fills.setdefault(fill.trade_id, fill)
            if len(page) < _MAX_TRADES:
                break
            last = page[-1].timestamp
            if last > start:
                start = last
            else:
                # A full page within one millisecond: startTime cannot reach past it.
                log.warning("mexc: more than %d fills of %s at %d ms; later ones of it may be missed", _MAX_TRADES, symbol, start)  # fmt: skip
                start += 1
        return sorted(fills.values(), key=lambda e: e.timestamp)

    # --- listen keys (user data stream) ---------------------------------------------------

    async def create_listen_key(self) -> str:
        # A duplicate key is harmless (it expires unused), so a lost reply may be retried.
        reply = await self._signed("POST", "/api/v3/userDataStream", idempotent=True)
        try:
            key = str(reply["listenKey"])
        except (KeyError, TypeError):
            raise ProtocolError(f"userDataStream reply without listenKey: {reply!r}", venue=VENUE) from None
        register_secret(key)
        return key

    async def keepalive_listen_key(self, listen_key: str) -> None:
        await self._signed("PUT", "/api/v3/userDataStream", {"listenKey": listen_key}, idempotent=True)

    async def delete_listen_key(self, listen_key: str) -> None:
        await self._signed("DELETE", "/api/v3/userDataStream", {"listenKey": listen_key})

    async def close(self) -> None:
        await self._http.close()
