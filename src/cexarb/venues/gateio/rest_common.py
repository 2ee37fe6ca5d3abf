"""What Gate's spot and futures REST clients share: the HTTP client (signing, budgets,
clock), server time, turning an ambiguous POST into OrderStatusUnknown with its id, and the
order rules both markets apply alike (ids, limit price and time in force, fills since)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import AbstractContextManager
from typing import Any

import aiohttp

from cexarb.config import VenueConfig
from cexarb.model import Execution, Order, OrderType, Symbol, SymbolInfo, TimeInForce
from cexarb.model.errors import (
    AuthenticationError,
    InvalidOrder,
    InvalidPrice,
    OrderNotFound,
    OrderStatusUnknown,
)
from cexarb.model.rounding import format_decimal, format_on_grid, grid_spec, is_on_grid
from cexarb.transport import Clock, HttpClient, RateLimiter, Written
from cexarb.venues.gateio.auth import GateSigner
from cexarb.venues.gateio.errors import VENUE, map_http_error
from cexarb.venues.gateio.spec import SPOT
from cexarb.venues.gateio.symbols import new_client_order_id

PUBLIC = "public"
ORDERS = "orders"
CANCEL = "cancel"
DEFAULT = "default"

# How far back a client-id search reaches by default: well beyond a lost reply's few seconds.
TEXT_SEARCH_LOOKBACK_MS = 3_600_000
# Pages of finished orders a client-id search reads at most (each of the market's page size).
TEXT_SEARCH_PAGES = 10

WIRE_TIF = {
    TimeInForce.GTC: "gtc",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.POST_ONLY: "poc",
}


class GateRest:
    venue = "gateio"

    def __init__(
        self,
        config: VenueConfig,
        *,
        session: aiohttp.ClientSession | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.clock = Clock()
        self._session = session
        # Sent by the HTTP client on every request (signed or not), whoever owns the session.
        self._headers = headers
        self._signer = GateSigner(config.api_key, config.api_secret) if config.has_credentials() else None
        self._limiter = RateLimiter(config.rate_limits)
        self._client: HttpClient | None = None

    @property
    def http(self) -> HttpClient:
        """Built on first use (inside the event loop, where our own session can be created)."""
        if self._client is None:
            self._client = HttpClient(
                VENUE,
                self.config.rest_url,
                error_mapper=map_http_error,
                signer=self._signer,
                rate_limiter=self._limiter,
                clock=self.clock,
                timeout_s=self.config.request_timeout_s,
                server_time=self.get_server_time,
                session=self._session,
                headers=self._headers,
            )
        return self._client

    async def public(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.http.request("GET", path, params=params, pool=PUBLIC)

    async def signed(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        pool: str = DEFAULT,
    ) -> Any:
        self._require_signer(method, path)
        return await self.http.request(method, path, params=params, json_body=body, signed=True, pool=pool)

    def _require_signer(self, method: str, path: str) -> None:
        if self._signer is None:
            raise AuthenticationError(
                f"{method} {path} needs API credentials",
                venue=VENUE,
                hint=f"set api_key/api_secret for gateio in cexarb.toml or {' / '.join(SPOT.credentials_env)}",
            )

    async def get_server_time(self) -> int:
        """Venue time in ms (GET /spot/time, served on the same host for futures)."""
        reply = await self.http.request("GET", "/spot/time", pool=PUBLIC)
        return int(reply["server_time"])

    async def sync_clock(self) -> None:
        await self.clock.sync(self.get_server_time)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


async def _placed(
    reply: Awaitable[Any], client_order_id: str, parse: Callable[[Any], Awaitable[Order]]
) -> Order:
    """`GateTradingRest.placed`'s coroutine: the reply awaited, an ambiguous outcome given its
    client id, the answer read by `parse`."""
    try:
        raw = await reply
    except OrderStatusUnknown as exc:
        raise _with_client_id(exc, client_order_id) from exc
    return await parse(raw)


def price_text(price: float, info: SymbolInfo | None) -> str:
    return format_decimal(price, info.tick_size if info is not None else None)


def spec_of(increment: float | None) -> str:
    """The grid_spec an order kind keeps for `increment` ("": none, or an increment too broken
    to have one: the number is then formatted, and refused, as without a kept spec)."""
    return grid_spec(increment) if increment is not None and increment > 0 else ""


class GateTradingRest(GateRest):
    """Signed order endpoints of one Gate market: the parts spot and futures share."""

    def new_client_order_id(self) -> str:
        return new_client_order_id()

    async def post_order(self, path: str, body: dict[str, Any], client_order_id: str) -> Any:
        """POST the order; an ambiguous outcome is raised with the client id to query it by."""
        # `signed`'s check and call inline: one coroutine less per order.
        self._require_signer("POST", path)
        try:
            return await self.http.request("POST", path, json_body=body, signed=True, pool=ORDERS)
        except OrderStatusUnknown as exc:
            raise _with_client_id(exc, client_order_id) from exc

    def post_order_now(self, path: str, body: dict[str, Any]) -> Written | None:
        """post_order's request written now when the transport can (HttpClient.write_now);
        None: nothing was sent. Follow it with `placed` before anything is awaited."""
        if self._signer is None:  # _require_signer's test inline (the order lane): it raises
            self._require_signer("POST", path)
        client = self._client if self._client is not None else self.http
        return client.write_now("POST", path, json_body=body, signed=True, pool=ORDERS)

    def placed(
        self, written: Written, client_order_id: str, parse: Callable[[Any], Awaitable[Order]]
    ) -> Coroutine[Any, Any, Order]:
        """The order a place written by `post_order_now` made, as place_order gives it: the
        reply through `parse`, an ambiguous outcome raised with the client id. It follows the
        write (HttpClient.follow): call it before anything is awaited."""
        client = self._client if self._client is not None else self.http
        return _placed(client.follow(written), client_order_id, parse)

    def rehearsing(self) -> AbstractContextManager[None]:
        """write_order_now within it runs to its socket write and sends nothing (the order
        path's HTTP client rehearsing: HttpClient.rehearsing)."""
        return (self._client if self._client is not None else self.http).rehearsing()

    def post_order_bytes(self, path: str, body: dict[str, Any]) -> bytes:
        """The bytes post_order would write now (HttpClient.encode_request): nothing sent."""
        if self._signer is None:  # as post_order_now
            self._require_signer("POST", path)
        client = self._client if self._client is not None else self.http
        return client.encode_request("POST", path, json_body=body, signed=True)

    async def get_open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        raise NotImplementedError

    async def get_order(
        self, symbol: Symbol, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """By exchange id; by client id alone it is a search (`find_order_by_client_id`)."""
        if not order_id and client_order_id:
            return await self.find_order_by_client_id(symbol, client_order_id)
        return await self.order_by_ref(symbol, order_ref(order_id, client_order_id))

    async def find_order_by_client_id(
        self, symbol: Symbol, client_order_id: str, since_ms: int | None = None
    ) -> Order:
        """The order whose `text` is `client_order_id`, wherever Gate still knows it.

        Gate finds an order by `text` only while it is open (spot) or up to 60 s after it
        finished (futures); after that only its id works, so an IOC, market or fast-filled
        order is "not found" by `text` within milliseconds. Then the market's finished orders
        since `since_ms` (default: the last hour) are searched for the `text`, then its fills
        (whose order id finds the order). OrderNotFound only when none of them knows it.
        """
        try:
            return await self.order_by_ref(symbol, client_order_id)
        except OrderNotFound:
            pass
        since = since_ms if since_ms is not None else self.clock.now_ms() - TEXT_SEARCH_LOOKBACK_MS
        order = await self.finished_order_with_text(symbol, client_order_id, since)
        if order is not None:
            return order
        order_id = await self.order_id_from_fills(symbol, client_order_id, since)
        if order_id is not None:
            return await self.order_by_ref(symbol, order_id)
        raise OrderNotFound(
            f"no order {client_order_id} on {symbol}: not open, and no finished order or fill "
            f"carries that text since {since} ms",
            venue=VENUE,
            hint="the venue has no such order: it was not placed",
        )

    async def order_by_ref(self, symbol: Symbol, ref: str) -> Order:
        """GET the order by exchange id or `text` (OrderNotFound outside Gate's window)."""
        raise NotImplementedError

    async def finished_order_with_text(self, symbol: Symbol, text: str, since_ms: int) -> Order | None:
        raise NotImplementedError

    async def order_id_from_fills(self, symbol: Symbol, text: str, since_ms: int) -> str | None:
        raise NotImplementedError

    async def symbols_to_cancel(self, symbol: Symbol | None) -> list[Symbol]:
        """`symbol`, or every symbol that has open orders."""
        if symbol is None:
            return sorted({o.symbol for o in await self.get_open_orders()})
        return [symbol]


def _with_client_id(exc: OrderStatusUnknown, client_order_id: str) -> OrderStatusUnknown:
    """The transport's OrderStatusUnknown with the client id the order can be found by."""
    return OrderStatusUnknown(
        exc.message, client_order_id=client_order_id, venue=VENUE, http_status=exc.http_status
    )


def order_ref(order_id: str | None, client_order_id: str | None) -> str:
    """Gate finds an order by its exchange id or its client id ('t-...')."""
    ref = order_id or client_order_id
    if not ref:
        raise InvalidOrder("give order_id or client_order_id", venue=VENUE)
    return ref


def limit_price(price: float, info: SymbolInfo | None, spec: str = "") -> str:
    """A limit order's wire price: on the tick grid (InvalidPrice off it). `spec`: the tick's
    grid_spec when the caller keeps it (the order lane), else it is looked up."""
    if info is not None and not is_on_grid(price, info.tick_size):
        raise InvalidPrice(f"price {price!r} is not a multiple of the tick {info.tick_size}", venue=VENUE)
    return format_on_grid(price, spec) if spec else price_text(price, info)


def limit_tif(order_type: OrderType, time_in_force: TimeInForce) -> str:
    """A limit order's wire time in force (LIMIT_MAKER is 'poc')."""
    return WIRE_TIF[TimeInForce.POST_ONLY if order_type is OrderType.LIMIT_MAKER else time_in_force]


def fills_since(fills: list[Execution], since_ms: int | None) -> list[Execution]:
    """Fills at or after `since_ms`, oldest first."""
    if since_ms is not None:
        fills = [f for f in fills if f.timestamp >= since_ms]
    fills.sort(key=lambda f: (f.timestamp, f.trade_id))
    return fills
