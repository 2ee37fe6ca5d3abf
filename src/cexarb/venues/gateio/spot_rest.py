"""Gate spot REST: public market data, signed trading and withdrawals (API v4)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp
import msgspec

from cexarb.config import VenueConfig
from cexarb.model import (
    AccountFees,
    AssetBalance,
    BookTicker,
    DepositAddress,
    DepositRecord,
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
    WithdrawalNetwork,
    WithdrawalRequest,
    WithdrawalResponse,
)
from cexarb.model.errors import (
    AuthenticationError,
    ExchangeError,
    InvalidOrder,
    NetworkError,
    OrderStatusUnknown,
    ProtocolError,
    RateLimitError,
    WithdrawalError,
)
from cexarb.model.rounding import format_decimal, format_on_grid, is_on_grid, round_up
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
    spec_of,
)
from cexarb.venues.gateio.symbols import check_client_order_id, to_venue

_PAGE = 100
_ORDERS = "/spot/orders"


class GateioSpotPublicRest(GateRest):
    def __init__(self, config: VenueConfig, *, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(config, session=session)

    async def get_symbols_info(self) -> dict[Symbol, SymbolInfo]:
        pairs = await self.public("/spot/currency_pairs")
        infos = (codec.parse_symbol_info(p) for p in pairs)
        return {i.symbol: i for i in infos}

    async def get_order_book(self, symbol: Symbol, limit: int = 100) -> OrderBook:
        """Snapshot with Gate's book id (with_id=true) as update_id, to chain the stream's U/u."""
        params = {"currency_pair": to_venue(symbol), "limit": limit, "with_id": True}
        return codec.parse_order_book(await self.public("/spot/order_book", params), symbol)

    async def get_book_ticker(self, symbol: Symbol) -> BookTicker:
        items = await self.public("/spot/tickers", {"currency_pair": to_venue(symbol)})
        if not items:
            raise ProtocolError(f"no ticker for {symbol}", venue=VENUE)
        return codec.parse_ticker(items[0], symbol)


class _OrderKind:
    """What a Gate spot order's symbol, side, type and time in force (and the account kind)
    fix in its body: the fields between its client id and its numbers, its time in force,
    and the grids' format specs its numbers are written with ("": looked up per order)."""

    __slots__ = ("info", "account", "market", "head", "tif", "tick", "step")

    def __init__(
        self, info: SymbolInfo | None, account: str, market: bool, head: dict[str, str], tif: str
    ) -> None:
        self.info = info
        self.account = account
        self.market = market
        self.head = head
        self.tif = tif
        self.tick = spec_of(info.tick_size) if info is not None else ""
        self.step = spec_of(info.step_size) if info is not None else ""


class GateioSpotPrivateRest(GateTradingRest):
    """Signed spot endpoints. Quantities in base units; a MARKET BUY needs `price` (the
    worst acceptable price) because Gate sizes market buys in quote: amount = qty x price."""

    def __init__(
        self,
        config: VenueConfig,
        symbols_info: dict[Symbol, SymbolInfo] | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__(config, session=session)
        self.symbols_info = symbols_info if symbols_info is not None else {}
        self._account: str | None = None  # "spot" or "unified", learned from /account/detail
        # Order bodies' fixed fields per (symbol, side, type, time in force): a few per symbol.
        self._kinds: dict[tuple[Symbol, Side, OrderType, TimeInForce], _OrderKind] = {}

    async def account_kind(self) -> str:
        """The `account` this key trades in: "unified" when `/account/detail` says the key's
        mode is not the classic one (1), else "spot". Asked once."""
        if self._account is None:
            detail = await self.signed("GET", "/account/detail") or {}
            mode = (detail.get("key") or {}).get("mode", 1)
            self._account = "spot" if str(mode) == "1" else "unified"
        return self._account

    async def get_balances(self) -> dict[str, AssetBalance]:
        if await self.account_kind() == "unified":
            return codec.parse_unified_balances(await self.signed("GET", "/unified/accounts"))
        return codec.parse_balances(await self.signed("GET", "/spot/accounts"))

    async def get_account_fees(self, symbol: Symbol) -> AccountFees:
        """The rates this account pays on `symbol` (its tier, and GT deduction if enabled)."""
        reply = await self.signed("GET", "/spot/fee", params={"currency_pair": to_venue(symbol)})
        return codec.parse_spot_fee(reply, symbol)

    # ---- orders -----------------------------------------------------------------------------

    def order_body(self, request: OrderRequest) -> dict[str, Any]:
        """The POST /spot/orders body (exact wire text for price and amount), its fields in the
        order sent; what the order's symbol, side, type and time in force fix comes from `_kind`."""
        cid = request.client_order_id
        check_client_order_id(cid)
        symbol, quantity, price = request.symbol, request.quantity, request.price
        info = self.symbols_info.get(symbol)
        kind = self._kinds.get((symbol, request.side, request.order_type, request.time_in_force))
        # Made anew for a new kind, a replaced SymbolInfo, or the account kind learned.
        if kind is None or kind.info is not info or kind.account != (self._account or "spot"):
            kind = self._kind(request, info)
        if not kind.market:
            price_wire = limit_price(price, info, kind.tick)  # checked before the amount, as ever
            amount = self._amount(quantity, info, kind.step)
            return {
                "text": cid,
                **kind.head,
                "amount": amount,
                "price": price_wire,
                "time_in_force": kind.tif,
            }
        body: dict[str, Any] = {"text": cid, **kind.head, "time_in_force": kind.tif}
        if request.side is Side.BUY:
            if price is None:
                raise InvalidOrder(
                    "a Gate spot market buy is sized in quote currency",
                    venue=VENUE,
                    hint="pass price= (worst acceptable price): amount = quantity x price is sent",
                )
            # Rounded up: a budget a fraction of a cent short buys one step less than asked
            # (0.001 BTC at 60012 = 60.012 -> "60.01" bought 0.0009).
            quote = quantity * price
            if info is None:
                body["amount"] = format_decimal(quote)
            else:
                quote_step = 10.0**-info.quote_precision
                body["amount"] = format_decimal(round_up(quote, quote_step), quote_step)
        else:
            body["amount"] = self._amount(quantity, info, kind.step)
        return body

    def _kind(self, request: OrderRequest, info: SymbolInfo | None) -> _OrderKind:
        """The body fields an order's symbol, side, type and time in force fix (with the
        account), kept per kind while the symbol's info and the account kind stay the same."""
        market = request.order_type is OrderType.MARKET
        account = self._account or "spot"
        head = {
            "currency_pair": to_venue(request.symbol),
            "type": "market" if market else "limit",
            "account": account,
            "side": "buy" if request.side is Side.BUY else "sell",
        }
        if market:
            tif = "fok" if request.time_in_force is TimeInForce.FOK else "ioc"
        else:
            tif = limit_tif(request.order_type, request.time_in_force)
        kind = _OrderKind(info, account, market, head, tif)
        self._kinds[(request.symbol, request.side, request.order_type, request.time_in_force)] = kind
        return kind

    @staticmethod
    def _amount(quantity: float, info: SymbolInfo | None, spec: str) -> str:
        """The wire amount of `quantity` base: on the step grid (InvalidOrder off it), written
        with the step's grid spec `spec` ("": looked up)."""
        if info is not None and not is_on_grid(quantity, info.step_size):
            raise InvalidOrder(
                f"quantity {quantity!r} is not a multiple of the step {info.step_size}",
                venue=VENUE,
                hint="round the quantity down to the step (cexarb.model.rounding.round_quantity)",
            )
        if spec:
            return format_on_grid(quantity, spec)
        return format_decimal(quantity, info.step_size if info is not None else None)

    def _place_body(self, request: OrderRequest) -> dict[str, Any]:
        """The place request stated once (POST `_ORDERS`, signed; its reply read by
        `spot_order`): its body, once the account kind is known."""
        if request.reduce_only:
            raise InvalidOrder("reduce_only has no meaning on spot", venue=VENUE)
        return self.order_body(request)

    async def place_order(self, request: OrderRequest) -> Order:
        """POST /spot/orders; a market buy is sized in quote (quantity x price)."""
        if self._account is None:  # asked once: no coroutine per order after that
            await self.account_kind()  # the body names the key's account
        body = self._place_body(request)
        return await self.spot_order(await self.post_order(_ORDERS, body, request.client_order_id))

    def place_order_now(self, request: OrderRequest) -> Awaitable[Order] | None:
        """place_order with its request written before this returns when the transport can
        (HttpClient.write_now, then follow); awaiting gives what place_order gives, errors included (an
        OrderStatusUnknown carries the client id). None: nothing was sent (call place_order),
        also while the account kind is not known yet (learning it takes a request)."""
        written = self.write_order_now(request)
        return None if written is None else self.follow_order(request, written)

    def write_order_now(self, request: OrderRequest) -> Written | None:
        """place_order_now's first half: the request written, nothing followed yet. Give it to
        `follow_order` before anything is awaited. None: nothing was sent (as place_order_now)."""
        if self._account is None:
            return None
        return self.post_order_now(_ORDERS, self._place_body(request))

    def follow_order(self, request: OrderRequest, written: Written) -> Awaitable[Order]:
        """place_order_now's second half, for `request` written by `write_order_now`."""
        return self.placed(written, request.client_order_id, self.spot_order)

    def order_bytes(self, request: OrderRequest) -> bytes:
        """The bytes place_order would write for `request` now: nothing sent, nothing counted.
        The body names the account, so its kind must be known (initialize asks for it)."""
        if self._account is None:
            raise ExchangeError(
                "the order's bytes name the account kind, not known yet",
                venue=VENUE,
                hint="await account_kind() first (a composite's initialize does)",
            )
        return self.post_order_bytes(_ORDERS, self._place_body(request))

    async def spot_order(self, raw: Any) -> Order:
        """An order from a REST reply; a market buy whose reply lacks `filled_amount` (Gate's
        `action_mode` RESULT/ACK replies carry no clearing fields) takes its base from its fills."""
        order = codec.parse_order(raw)
        if order.quote_quantity > 0 and raw.get("filled_amount") in (None, ""):
            order = await self.with_exact_fills(order)
            if order.filled_quantity > 0 and raw.get("status") == "closed":
                order = msgspec.structs.replace(order, status=OrderStatus.FILLED, remaining_quantity=0.0)
            elif order.filled_quantity > 0 and order.status is OrderStatus.CANCELED:
                order = msgspec.structs.replace(order, status=OrderStatus.PARTIALLY_CANCELED)
        return order

    async def with_exact_fills(self, order: Order) -> Order:
        """A market buy as its fills say: Gate states its amount in quote, and the base bought
        estimated as filled_total / avg_deal_price would carry the average price's rounding."""
        params = {"currency_pair": to_venue(order.symbol), "order_id": order.order_id, "limit": 1000}
        fills = [
            codec.parse_execution(t, order.symbol)
            for t in await self.signed("GET", "/spot/my_trades", params=params) or ()
        ]
        base = sum(f.quantity for f in fills)
        if base <= 0:
            return order  # fills not listed yet: keep the estimate
        quote = sum(f.quantity * f.price for f in fills)
        done = order.status.is_done
        return msgspec.structs.replace(
            order,
            filled_quantity=base,
            average_price=quote / base,
            quantity=base if done else max(order.quantity, base),
        )

    async def cancel_order(
        self, symbol: Symbol, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """By exchange id, or by client id ('t-...', works while the order is open)."""
        ref = order_ref(order_id, client_order_id)
        params = {"currency_pair": to_venue(symbol), "account": await self.account_kind()}
        reply = await self.signed("DELETE", f"/spot/orders/{ref}", params=params, pool=CANCEL)
        return await self.spot_order(reply)

    async def cancel_all_orders(self, symbol: Symbol | None = None) -> list[Order]:
        """Every open order of `symbol`, or of every pair that has open orders."""
        canceled: list[Order] = []
        for sym in await self.symbols_to_cancel(symbol):
            params = {"currency_pair": to_venue(sym), "account": await self.account_kind()}
            reply = await self.signed("DELETE", "/spot/orders", params=params, pool=CANCEL)
            canceled.extend(codec.parse_order(item) for item in reply or () if item.get("succeeded", True))
        return canceled

    async def order_by_ref(self, symbol: Symbol, ref: str) -> Order:
        params = {"currency_pair": to_venue(symbol), "account": await self.account_kind()}
        return await self.spot_order(await self.signed("GET", f"/spot/orders/{ref}", params=params))

    async def finished_order_with_text(self, symbol: Symbol, text: str, since_ms: int) -> Order | None:
        pair = to_venue(symbol)
        for page in range(1, TEXT_SEARCH_PAGES + 1):
            params = {
                "currency_pair": pair,
                "status": "finished",
                "from": since_ms // 1000,
                "page": page,
                "limit": _PAGE,
                "account": await self.account_kind(),
            }
            batch = await self.signed("GET", "/spot/orders", params=params) or []
            for item in batch:
                if item.get("text") == text:
                    return await self.spot_order(item)
            if len(batch) < _PAGE:
                break
        return None

    async def order_id_from_fills(self, symbol: Symbol, text: str, since_ms: int) -> str | None:
        params = {"currency_pair": to_venue(symbol), "from": since_ms // 1000, "limit": 1000}
        for item in await self.signed("GET", "/spot/my_trades", params=params) or ():
            if item.get("text") == text:
                return str(item["order_id"])
        return None

    async def get_open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        if symbol is not None:
            return await self._open_orders_of(to_venue(symbol))
        orders: list[Order] = []
        groups = await self.signed("GET", "/spot/open_orders", params={"page": 1, "limit": _PAGE})
        for group in groups or ():
            items = group.get("orders") or []
            if group.get("total", 0) > len(items):
                # this pair has more open orders than one page holds
                orders.extend(await self._open_orders_of(group["currency_pair"]))
            else:
                orders.extend(codec.parse_order(item) for item in items)
        return orders

    async def _open_orders_of(self, pair: str) -> list[Order]:
        orders: list[Order] = []
        page = 1
        while True:
            params = {"currency_pair": pair, "status": "open", "page": page, "limit": _PAGE}
            batch = await self.signed("GET", "/spot/orders", params=params) or []
            orders.extend(codec.parse_order(item) for item in batch)
            if len(batch) < _PAGE:
                return orders
            page += 1

    async def get_my_trades(
        self, symbol: Symbol, since_ms: int | None = None, limit: int = 100
    ) -> list[Execution]:
        """Fills of `symbol`, oldest first; `since_ms` inclusive."""
        params: dict[str, Any] = {"currency_pair": to_venue(symbol), "limit": min(limit, 1000)}
        if since_ms is not None:
            params["from"] = since_ms // 1000
        reply = await self.signed("GET", "/spot/my_trades", params=params)
        return fills_since([codec.parse_execution(item, symbol) for item in reply or ()], since_ms)

    async def get_fills_since(self, symbol: Symbol, since_ms: int) -> list[Execution]:
        """Every fill of `symbol` at or after `since_ms`, oldest first.

        my_trades pages newest first (`page`, `limit`) within `from`: read pages until a short
        one. A fill landing meanwhile shifts older ones to the next page (seen twice, dropped
        here), never past it. Each page is one request through the rate limiter."""
        fills: dict[str, Execution] = {}
        page = 1
        while True:
            params = {
                "currency_pair": to_venue(symbol),
                "limit": _PAGE,
                "page": page,
                "from": since_ms // 1000,
            }
            batch = await self.signed("GET", "/spot/my_trades", params=params) or []
            for item in batch:
                fill = codec.parse_execution(item, symbol)
                fills.setdefault(fill.trade_id, fill)
            if len(batch) < _PAGE:
                return fills_since(list(fills.values()), since_ms)
            page += 1

    # ---- withdrawals ------------------------------------------------------------------------

    async def withdraw(self, request: WithdrawalRequest) -> WithdrawalResponse:
        """POST /withdrawals (no /wallet prefix). Venue rejections raise WithdrawalError."""
        if not request.amount > 0:
            raise WithdrawalError(f"amount must be positive, got {request.amount!r}", venue=VENUE)
        body: dict[str, Any] = {
            "currency": request.asset.upper(),
            "amount": format_decimal(request.amount),
            "address": request.address,
            "chain": request.network,
        }
        if request.memo:
            body["memo"] = request.memo
        if request.client_id:
            body["withdraw_order_id"] = request.client_id
        try:
            reply = await self.signed("POST", "/withdrawals", body=body, pool="withdraw")
        except (AuthenticationError, RateLimitError, NetworkError, OrderStatusUnknown, WithdrawalError):
            raise
        except ExchangeError as exc:
            raise WithdrawalError(
                exc.message, venue=VENUE, code=exc.code, http_status=exc.http_status
            ) from exc
        response = codec.parse_withdrawal(reply)
        # the reply may omit what we sent; fill it in from the request
        response.asset = response.asset or request.asset.upper()
        response.amount = response.amount or request.amount
        response.address = response.address or request.address
        response.network = response.network or request.network
        return response

    async def get_withdrawal_networks(self, asset: str) -> list[WithdrawalNetwork]:
        """The chains `asset` moves on (GET /wallet/currency_chains, public) with their fixed
        fees and the currency's minimum (GET /wallet/withdraw_status, signed)."""
        asset = asset.upper()
        reply = await self.public("/wallet/currency_chains", {"currency": asset})
        chains = [codec.parse_currency_chain(raw, asset) for raw in reply or ()]
        status = await self.signed("GET", "/wallet/withdraw_status", params={"currency": asset})
        minimum, fees = codec.parse_withdraw_status(status or [], asset)
        return [
            msgspec.structs.replace(n, min_amount=minimum, fee=fees.get(n.network, fees.get("", 0.0)))
            for n in chains
        ]

    async def get_deposit_addresses(self, asset: str, network: str | None = None) -> list[DepositAddress]:
        """The account's deposit address of `asset` on each chain (or just `network`)."""
        reply = await self.signed("GET", "/wallet/deposit_address", params={"currency": asset.upper()})
        addresses = codec.parse_deposit_addresses(reply or {})
        return [a for a in addresses if network is None or a.network == network]

    async def get_deposits(
        self, asset: str | None = None, since_ms: int | None = None
    ) -> list[DepositRecord]:
        """Deposit records (Gate's default window: the last 7 days), oldest first."""
        params = {
            "currency": asset.upper() if asset else None,
            "from": since_ms // 1000 if since_ms else None,
            "limit": 500,
        }
        reply = await self.signed("GET", "/wallet/deposits", params=params)
        deposits = [codec.parse_deposit(raw) for raw in reply or ()]
        deposits.sort(key=lambda d: d.timestamp)
        return deposits

    async def get_withdrawals(self, asset: str | None = None) -> list[WithdrawalResponse]:
        """Withdrawal history (Gate's default window: the last 7 days)."""
        params = {"currency": asset.upper() if asset else None}
        return [
            codec.parse_withdrawal(r)
            for r in await self.signed("GET", "/wallet/withdrawals", params=params) or ()
        ]

    async def get_withdrawal(
        self, withdrawal_id: str | None = None, asset: str | None = None, *, client_id: str | None = None
    ) -> WithdrawalResponse:
        """From /wallet/withdrawals: by Gate's id (`withdraw_id`), or by the client id the
        withdrawal was sent with (`withdraw_order_id`; Gate's `withdraw_id` never matches it)."""
        if not withdrawal_id and not client_id:
            raise WithdrawalError("give withdrawal_id or client_id", venue=VENUE)
        params = {"currency": asset.upper() if asset else None}
        if withdrawal_id:
            params["withdraw_id"] = withdrawal_id
        else:
            params["withdraw_order_id"] = client_id
        records = await self.signed("GET", "/wallet/withdrawals", params=params) or []
        for record in records:
            if (withdrawal_id and str(record.get("id")) == withdrawal_id) or (
                not withdrawal_id and record.get("withdraw_order_id") == client_id
            ):
                return codec.parse_withdrawal(record)
        raise WithdrawalError(
            f"withdrawal {withdrawal_id or client_id} not found",
            venue=VENUE,
            hint="history covers the last 7 days by default; check the id and asset",
        )
