"""Gate USDT-perpetual REST (/futures/usdt). Quantities cross this edge in base units and
travel on the wire in contracts (base / quanto_multiplier).

A quantity that is not a whole number of contract steps is rejected with InvalidOrder (never
silently rounded): the caller rounds with SymbolInfo.step_size, which is one contract step
in base units.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp

from cexarb.config import VenueConfig
from cexarb.model import (
    AccountFees,
    AssetBalance,
    BookTicker,
    Execution,
    FundingInfo,
    FundingPayment,
    Order,
    OrderBook,
    OrderRequest,
    OrderType,
    Position,
    Side,
    Symbol,
    SymbolInfo,
    TimeInForce,
)
from cexarb.model.errors import ExchangeError, InvalidOrder, ProtocolError
from cexarb.model.rounding import format_decimal, is_on_grid
from cexarb.transport import Written
from cexarb.venues.gateio import codec
from cexarb.venues.gateio.errors import VENUE
from cexarb.venues.gateio.rest_common import (
    CANCEL,
    TEXT_SEARCH_PAGES,
    GateRest,
    GateTradingRest,
    fills_since,
    limit_price,
    limit_tif,
    order_ref,
)
from cexarb.venues.gateio.symbols import check_client_order_id, from_venue, to_venue

SETTLE = "usdt"
PREFIX = f"/futures/{SETTLE}"
# Sizes as decimal strings (contracts with enable_decimal) instead of integers.
SIZE_DECIMAL_HEADERS = {"X-Gate-Size-Decimal": "1"}
_PAGE = 100
_ORDERS = f"{PREFIX}/orders"


class _Contracts:
    """Contract sizes: from the caller's symbols_info, else fetched once into our own cache
    (the caller's dict is never written: it lists what the caller chose to track)."""

    def __init__(self, rest: GateRest, symbols_info: dict[Symbol, SymbolInfo]) -> None:
        self._rest = rest
        self.symbols_info = symbols_info
        self._fetched: dict[Symbol, SymbolInfo] = {}

    def known(self, symbol: Symbol) -> SymbolInfo | None:
        """The contract's info if known without a request."""
        return self.symbols_info.get(symbol) or self._fetched.get(symbol)

    async def info(self, symbol: Symbol) -> SymbolInfo:
        info = self.symbols_info.get(symbol) or self._fetched.get(symbol)
        if info is None:
            raw = await self._rest.public(f"{PREFIX}/contracts/{to_venue(symbol)}")
            info = self._fetched[symbol] = codec.parse_contract_info(raw)
        return info

    async def size(self, contract: str) -> float:
        return (await self.info(from_venue(contract))).contract_size


class GateioFuturesPublicRest(GateRest):
    def __init__(self, config: VenueConfig, *, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(config, session=session, headers=SIZE_DECIMAL_HEADERS)
        self._contracts = _Contracts(self, {})

    async def get_symbols_info(self) -> dict[Symbol, SymbolInfo]:
        contracts = await self.public(f"{PREFIX}/contracts")
        infos = {i.symbol: i for i in (codec.parse_contract_info(c) for c in contracts)}
        self._contracts.symbols_info = dict(infos)
        return infos

    async def get_order_book(self, symbol: Symbol, limit: int = 100) -> OrderBook:
        """Snapshot in base units; update_id = Gate's book id (with_id=true)."""
        info = await self._contracts.info(symbol)
        params = {"contract": to_venue(symbol), "limit": limit, "with_id": True}
        raw = await self.public(f"{PREFIX}/order_book", params)
        return codec.parse_order_book(raw, symbol, info.contract_size)

    async def get_book_ticker(self, symbol: Symbol) -> BookTicker:
        info = await self._contracts.info(symbol)
        items = await self.public(f"{PREFIX}/tickers", {"contract": to_venue(symbol)})
        if not items:
            raise ProtocolError(f"no ticker for {symbol}", venue=VENUE)
        return codec.parse_ticker(items[0], symbol, info.contract_size)


class GateioFuturesPrivateRest(GateTradingRest):
    """Signed futures endpoints (one-way position mode). `symbols_info` is shared with the
    caller and read at call time; unknown contracts are fetched once."""

    def __init__(
        self,
        config: VenueConfig,
        symbols_info: dict[Symbol, SymbolInfo] | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__(config, session=session, headers=SIZE_DECIMAL_HEADERS)
        self.symbols_info = symbols_info if symbols_info is not None else {}
        self._contracts = _Contracts(self, self.symbols_info)
        self._user_id = config.user_id

    # ---- account ----------------------------------------------------------------------------

    async def _account(self) -> Any:
        account = await self.signed("GET", f"{PREFIX}/accounts")
        self._user_id = self._user_id or codec.parse_futures_user_id(account)
        return account

    async def get_user_id(self) -> int:
        """The UID for private WS subscriptions: config.user_id, else the accounts 'user' field."""
        if not self._user_id:
            await self._account()
        return self._user_id

    async def get_balances(self) -> dict[str, AssetBalance]:
        balance = codec.parse_futures_balance(await self._account())
        return {balance.asset: balance}

    async def get_account_fees(self, symbol: Symbol) -> AccountFees:
        """The rates this account pays on the `symbol` contract (its tier)."""
        reply = await self.signed("GET", f"{PREFIX}/fee", params={"contract": to_venue(symbol)})
        return codec.parse_futures_fee(reply, symbol)

    async def get_positions(self) -> dict[Symbol, Position]:
        """Non-zero positions, signed size in base units."""
        reply = await self.signed("GET", f"{PREFIX}/positions", params={"holding": True})
        positions: dict[Symbol, Position] = {}
        for raw in reply or ():
            size = await self._contracts.size(raw["contract"])
            position = codec.parse_position(raw, size)
            if position.contracts != 0:
                positions[position.symbol] = position
        return positions

    async def set_leverage(self, symbol: Symbol, leverage: float) -> float:
        """Isolated leverage; returns what the venue applied."""
        return await self.set_margin_mode(symbol, False, leverage)

    async def set_margin_mode(self, symbol: Symbol, cross: bool, leverage: float) -> float:
        """Isolated (`leverage=N`) or cross margin (`leverage=0`, `cross_leverage_limit=N`);
        returns the leverage the venue applied (for cross, its cross leverage limit)."""
        if not leverage > 0:
            raise InvalidOrder(f"leverage must be positive, got {leverage!r}", venue=VENUE)
        if cross:
            params = {"leverage": "0", "cross_leverage_limit": format_decimal(leverage)}
        else:
            params = {"leverage": format_decimal(leverage)}
        path = f"{PREFIX}/positions/{to_venue(symbol)}/leverage"
        reply = await self.signed("POST", path, params=params)
        size = (await self._contracts.info(symbol)).contract_size
        applied = codec.parse_position(reply, size).leverage if isinstance(reply, dict) else 0.0
        return applied or leverage

    # ---- funding ----------------------------------------------------------------------------

    async def get_funding(self) -> dict[Symbol, FundingInfo]:
        """Every contract's funding rate, next settlement and interval (public contracts list)."""
        contracts = await self.public(f"{PREFIX}/contracts")
        return {f.symbol: f for f in map(codec.parse_funding, contracts or ())}

    async def get_funding_payments(
        self, since_ms: int | None = None, limit: int = 1000
    ) -> list[FundingPayment]:
        """The account's funding settlements (account_book, type fund) from `since_ms`
        (whole seconds, inclusive), oldest first."""
        params = {
            "type": "fund",
            "limit": min(limit, 1000),
            "from": since_ms // 1000 if since_ms else None,
        }
        reply = await self.signed("GET", f"{PREFIX}/account_book", params=params)
        payments = [codec.parse_funding_payment(raw) for raw in reply or ()]
        payments.sort(key=lambda p: p.timestamp)
        return payments

    # ---- orders -----------------------------------------------------------------------------

    def to_contracts(self, info: SymbolInfo, quantity: float) -> int | str:
        """Base units -> signed-size magnitude on the wire (int, or decimal text)."""
        contracts = quantity / info.contract_size
        step = info.step_size / info.contract_size  # contracts per step (1, or e.g. 0.1)
        if not is_on_grid(contracts, step):
            raise InvalidOrder(
                f"{quantity!r} {info.symbol.base} is not a whole number of contracts "
                f"({info.contract_size} {info.symbol.base} each, step {info.step_size})",
                venue=VENUE,
                hint="round the quantity down to SymbolInfo.step_size",
            )
        whole = round(contracts)
        if is_on_grid(contracts, 1.0):
            return int(whole)
        return format_decimal(contracts, step)

    def _place_body(self, request: OrderRequest, info: SymbolInfo) -> dict[str, Any]:
        """The place request stated once (POST `_ORDERS`, signed; its reply read by `_order`):
        its body, the size in signed contracts of `info`, the price on the tick grid."""
        check_client_order_id(request.client_order_id)
        size = self.to_contracts(info, request.quantity)
        if request.side is Side.SELL:
            size = -size if isinstance(size, int) else f"-{size}"
        body: dict[str, Any] = {"contract": to_venue(request.symbol), "size": size}
        if request.order_type is OrderType.MARKET:
            body["price"] = "0"  # price 0 + ioc/fok = market
            body["tif"] = "fok" if request.time_in_force is TimeInForce.FOK else "ioc"
        else:
            body["price"] = limit_price(request.price, info)
            body["tif"] = limit_tif(request.order_type, request.time_in_force)
        body["text"] = request.client_order_id
        body["reduce_only"] = request.reduce_only
        return body

    async def order_body(self, request: OrderRequest) -> dict[str, Any]:
        """The POST /futures/usdt/orders body (the contract fetched first if not known)."""
        return self._place_body(request, await self._contracts.info(request.symbol))

    async def place_order(self, request: OrderRequest) -> Order:
        """POST the order (quantity converted to contracts at this edge)."""
        body = await self.order_body(request)
        return await self._order(await self.post_order(_ORDERS, body, request.client_order_id))

    def place_order_now(self, request: OrderRequest) -> Awaitable[Order] | None:
        """place_order with its request written before this returns when the transport can
        (HttpClient.write_now, then follow); awaiting gives what place_order gives, errors included (an
        OrderStatusUnknown carries the client id). None: nothing was sent (call place_order),
        also while the contract is not known yet (fetching it takes a request)."""
        written = self.write_order_now(request)
        return None if written is None else self.follow_order(request, written)

    def write_order_now(self, request: OrderRequest) -> Written | None:
        """place_order_now's first half: the request written, nothing followed yet. Give it to
        `follow_order` before anything is awaited. None: nothing was sent (as place_order_now)."""
        info = self._contracts.known(request.symbol)
        if info is None:
            return None
        return self.post_order_now(_ORDERS, self._place_body(request, info))

    def follow_order(self, request: OrderRequest, written: Written) -> Awaitable[Order]:
        """place_order_now's second half, for `request` written by `write_order_now`."""
        return self.placed(written, request.client_order_id, self._order)

    def order_bytes(self, request: OrderRequest) -> bytes:
        """The bytes place_order would write for `request` now: nothing sent, nothing counted.
        The size is in contracts, so the contract must be known (symbols_info, or fetched)."""
        info = self._contracts.known(request.symbol)
        if info is None:
            raise ExchangeError(
                f"the order's size is in contracts of {request.symbol}, not known yet",
                venue=VENUE,
                hint="pass its SymbolInfo in symbols_info (a composite does), or place an order first",
            )
        return self.post_order_bytes(_ORDERS, self._place_body(request, info))

    async def _order(self, raw: Any) -> Order:
        return codec.parse_futures_order(raw, await self._contracts.size(raw["contract"]))

    async def cancel_order(
        self, symbol: Symbol, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        ref = order_ref(order_id, client_order_id)
        return await self._order(await self.signed("DELETE", f"{PREFIX}/orders/{ref}", pool=CANCEL))

    async def cancel_all_orders(self, symbol: Symbol | None = None) -> list[Order]:
        canceled: list[Order] = []
        for sym in await self.symbols_to_cancel(symbol):
            reply = await self.signed(
                "DELETE", f"{PREFIX}/orders", params={"contract": to_venue(sym)}, pool=CANCEL
            )
            for raw in reply or ():
                canceled.append(await self._order(raw))
        return canceled

    async def order_by_ref(self, symbol: Symbol, ref: str) -> Order:
        return await self._order(await self.signed("GET", f"{PREFIX}/orders/{ref}"))

    async def finished_order_with_text(self, symbol: Symbol, text: str, since_ms: int) -> Order | None:
        # Newest first; stop at the first page reaching back before `since_ms`.
        for page in range(TEXT_SEARCH_PAGES):
            params = {
                "contract": to_venue(symbol),
                "status": "finished",
                "limit": _PAGE,
                "offset": page * _PAGE,
            }
            batch = await self.signed("GET", f"{PREFIX}/orders", params=params) or []
            for raw in batch:
                if raw.get("text") == text:
                    return await self._order(raw)
            if len(batch) < _PAGE or any(
                float(raw.get("create_time") or 0) * 1000 < since_ms for raw in batch
            ):
                break
        return None

    async def order_id_from_fills(self, symbol: Symbol, text: str, since_ms: int) -> str | None:
        params = {"contract": to_venue(symbol), "limit": 1000}
        for raw in await self.signed("GET", f"{PREFIX}/my_trades", params=params) or ():
            if raw.get("text") == text and float(raw.get("create_time") or 0) * 1000 >= since_ms:
                return str(raw["order_id"])
        return None

    async def get_open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        orders: list[Order] = []
        offset = 0
        while True:
            params = {
                "status": "open",
                "contract": to_venue(symbol) if symbol is not None else None,
                "limit": _PAGE,
                "offset": offset,
            }
            batch = await self.signed("GET", f"{PREFIX}/orders", params=params) or []
            for raw in batch:
                orders.append(await self._order(raw))
            if len(batch) < _PAGE:
                return orders
            offset += _PAGE

    async def get_my_trades(
        self, symbol: Symbol, since_ms: int | None = None, limit: int = 100
    ) -> list[Execution]:
        """Fills of `symbol`, oldest first; `since_ms` inclusive."""
        size = (await self._contracts.info(symbol)).contract_size
        params = {"contract": to_venue(symbol), "limit": min(limit, 1000)}
        reply = await self.signed("GET", f"{PREFIX}/my_trades", params=params)
        return fills_since([codec.parse_futures_execution(raw, size) for raw in reply or ()], since_ms)

    async def get_fills_since(self, symbol: Symbol, since_ms: int) -> list[Execution]:
        """Every fill of `symbol` at or after `since_ms`, oldest first.

        my_trades pages newest first by `offset`: read pages until a short one or one reaching
        back before `since_ms`. A fill landing meanwhile shifts older ones to the next page
        (seen twice, dropped here), never past it. Each page is one rate-limited request."""
        size = (await self._contracts.info(symbol)).contract_size
        fills: dict[str, Execution] = {}
        offset = 0
        while True:
            params = {"contract": to_venue(symbol), "limit": _PAGE, "offset": offset}
            batch = await self.signed("GET", f"{PREFIX}/my_trades", params=params) or []
            parsed = [codec.parse_futures_execution(raw, size) for raw in batch]
            for fill in parsed:
                fills.setdefault(fill.trade_id, fill)
            if len(batch) < _PAGE or any(fill.timestamp < since_ms for fill in parsed):
                return fills_since(list(fills.values()), since_ms)
            offset += _PAGE
