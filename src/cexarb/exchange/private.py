"""CompositePrivateExchange: balances, orders and their lifecycle on one venue.

A venue subclass implements the two private factory methods (plus the public
ones); everything else is here: template initialize, handler injection, order
tracking through `OrderTracker`, 3-tier `get_active_order`, REST lookups shared
per order (`SingleFlight`, never a lock held across a sleep). Collaborators built with
explicit constructors do the rest: the repair of state after a stream drop
(`recovery.StateRepairer`), lost places (`lostplace.LostPlaceResolver`), fill
deduplication (`fills.FillLedger`) and the account's fee rates (`fees.AccountFeeRates`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Coroutine, Mapping
from typing import Any, NamedTuple

import msgspec

from cexarb.exchange.emitter import Emitter
from cexarb.exchange.fees import AccountFeeRates
from cexarb.exchange.fills import FillLedger
from cexarb.exchange.handlers import Fanout, PrivateListener
from cexarb.exchange.lostplace import LostPlaceResolver
from cexarb.exchange.orders import UNTRACKED, OrderTracker
from cexarb.exchange.public import CompositePublicExchange, _ws_status, now_ms
from cexarb.exchange.recovery import StateRepairer, TouchWatch, lookup_order
from cexarb.exchange.singleflight import SingleFlight
from cexarb.exchange.stats import (
    ConnectionFlags,
    ExecutedCacheStats,
    RepeatLookups,
    TierCounts,
    TradingStats,
    TradingStatsReport,
)
from cexarb.exchange.streamstate import StreamState
from cexarb.model import (
    AccountFees,
    AssetBalance,
    ConnectionState,
    Execution,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
)
from cexarb.model.errors import (
    AuthenticationError,
    ExchangeError,
    NetworkError,
    OrderNotFound,
    OrderStatusUnknown,
)
from cexarb.venues.contracts import PrivateRest, PrivateWebsocketHandlers, PrivateWs

log = logging.getLogger("cexarb.exchange")
# Untracked orders being confirmed with the venue at once (each costs one REST query).
_MAX_UNCONFIRMED = 100
# Read per order placed: a module global is ~65 ns cheaper than an enum class attribute.
_LIMIT, _MARKET, _IOC, _PENDING_NEW = (
    OrderType.LIMIT,
    OrderType.MARKET,
    TimeInForce.IOC,
    OrderStatus.PENDING_NEW,
)


class CompositePrivateExchange(CompositePublicExchange):
    def __init__(self, config, **kwargs) -> None:
        super().__init__(config, **kwargs)
        settings = self.settings
        self.balances: dict[str, AssetBalance] = {}
        self._tracker = OrderTracker(settings.executed_cache_size, settings.executed_evict_fraction)
        self.open_orders: dict[Symbol, dict[str, Order]] = self._tracker.open
        self._private_rest: PrivateRest | None = None
        self._private_ws: PrivateWs | None = None
        # REST lookups in flight, by what they ask: concurrent askers share one request.
        self._lookups = SingleFlight()
        # Client ids whose place request is in flight: their outcome is that call's job.
        self._placing: set[str] = set()
        # Stream updates about untracked orders, held (newest) while REST confirms the order.
        self._unconfirmed: dict[tuple[Symbol, str], Order] = {}
        self._stats = TradingStats()
        self._repeat_lookups = RepeatLookups()
        self._on_order = Fanout("on_order")
        self._on_execution = Fanout("on_execution")
        self._on_balance = Fanout("on_balance")
        self._on_connection = Fanout("on_connection")
        self._balance_watch = TouchWatch()
        self._fills = FillLedger(settings.seen_trades, settings.fills_lookback_ms)
        self._emitter = Emitter(
            self.name, self._apply_order, self._on_execution, self._spawn, self._count_error, self._is_closed
        )
        # Built once the REST client exists (initialize with credentials).
        self._repair: StateRepairer | None = None
        self._resolver: LostPlaceResolver | None = None
        self._fees = AccountFeeRates(self.name, self.symbols_info, self.balances)

    # -- factory methods --------------------------------------------------------------

    def _create_private_rest(self) -> PrivateRest:
        raise NotImplementedError(f"{type(self).__name__} must implement _create_private_rest")

    def _create_private_ws_with_handlers(self, handlers: PrivateWebsocketHandlers) -> PrivateWs:
        """May return an awaitable when the venue must learn something first."""
        raise NotImplementedError(f"{type(self).__name__} must implement _create_private_ws_with_handlers")

    # -- state --------------------------------------------------------------------------

    @property
    def executed_orders(self) -> dict[Symbol, dict[str, Order]]:
        """Finished orders per symbol (a copy; the cache itself stays bounded)."""
        return self._tracker.executed_copy()

    @property
    def pending_orders(self) -> dict[str, Order]:
        """Sent, not yet acknowledged, by client order id (a copy)."""
        return dict(self._tracker.pending)

    @property
    def private_rest(self) -> PrivateRest | None:
        """The venue's private REST connector (None before initialize and without credentials)."""
        return self._private_rest

    def order_by_client_id(self, symbol: Symbol, client_order_id: str) -> Order | None:
        """The acknowledged order (open or finished) placed with `client_order_id`; None when
        not tracked. A scan: for tests and rare recovery paths, not the hot path."""
        return self._tracker.find_by_client_id(symbol, client_order_id)

    def add_private_listener(self, listener: object) -> None:
        """Route order, execution, balance, connection (futures: position, funding) events to its on_*."""
        for fanout in self._private_fanouts():
            fanout.add_from(listener, PrivateListener)

    def _private_fanouts(self) -> list[Fanout]:
        return [self._on_order, self._on_execution, self._on_balance, self._on_connection]

    # -- fees ---------------------------------------------------------------------------

    @property
    def account_fees(self) -> dict[Symbol, AccountFees]:
        """The account's own rates per symbol; a symbol missing here pays the public default."""
        return self._fees.rates

    def maker_fee(self, symbol: Symbol) -> float:
        """The maker rate this account pays on `symbol` now (negative: a rebate)."""
        return self._fees.maker_fee(symbol)

    def taker_fee(self, symbol: Symbol) -> float:
        """The taker rate this account pays on `symbol` now: its tier's, at the discount-token
        rate while deduction is on and the account holds the token, else the public default."""
        return self._fees.taker_fee(symbol)

    def fee_value(self, fill: Execution) -> float | None:
        """The fee of `fill` in quote, as the venue charged it (None: in an asset not priced here)."""
        return self._fees.fee_value(fill)

    async def reload_account_fees(self, symbols: list[Symbol] | None = None) -> dict[Symbol, AccountFees]:
        """Load the account's rates for `symbols` (default: the symbols initialized); a venue
        that refuses leaves the previous rates, or the public default, in place."""
        return await self._fees.reload(
            self._private_rest, list(self._symbols) if symbols is None else symbols
        )

    async def _refresh_fees(self, every_s: float) -> None:
        # A tier moves with the account's volume, and deduction can be switched on the site.
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.reload_account_fees()
            except Exception as exc:  # not only venue errors: keep refreshing, say so
                self._fees.load_errors += 1
                self._count_error(exc)

    def fee_stats(self) -> Mapping[str, int]:
        """Fee-load counters: loads, failed loads and how many symbols have this account's own rates."""
        return msgspec.structs.asdict(self._fees.stats())

    # -- template initialize ----------------------------------------------------------

    def _reset_state(self) -> None:
        super()._reset_state()
        self.balances.clear()
        self._tracker.clear()
        self._placing.clear()
        self._unconfirmed.clear()
        self._fills.reset()
        self._repair = None
        self._resolver = None

    def _init_parallel(self, symbols: list[Symbol]) -> list[Coroutine[Any, Any, None]]:
        return [*super()._init_parallel(symbols), self._start_private()]

    async def _start_private(self) -> None:
        if not self.config.has_credentials():
            # Market data only: nothing private to load or stream; trading calls raise
            # AuthenticationError, and the stats say has_credentials False.
            log.info("%s: no API key and secret configured; private state is not loaded", self.name)
            return
        rest = self._private_rest = await self._open_async("private_rest", self._create_private_rest)
        # Fills from when initialize began are news, earlier ones are not (venue time).
        self._fills.mark_floor(_clock_of(rest), max(0, now_ms() - self._init_started_ms))
        repair = self._repair = StateRepairer(
            self._tracker,
            rest,
            self.settings,
            self._emitter,
            stats=self._stats,
            fills=self._fills,
            lookups=self._lookups,
            placing=self._placing,
            reload_balances=self.reload_balances,
            reloads=self._reloads,
            symbols=lambda: self._symbols,
            restart_stream=self._restart_private_ws,
        )
        self._resolver = LostPlaceResolver(
            self._tracker,
            rest,
            self.settings,
            self._emitter,
            stats=self._stats,
            settle_pending=repair.settle_pending,
        )
        ws = self._private_ws = await self._open_async(
            "private_ws", lambda: self._create_private_ws_with_handlers(self._private_handlers())
        )
        # Subscribe before loading: an update landing after a load's answer then reaches the
        # stream (merged by the tracker, or winning over the older REST answer for balances and
        # positions). Loading first left a window in which a fill reached neither.
        if ws is not None:
            await self._step("private_ws", ws.start())
        await self._run_parallel(
            [
                self._step("balances", self.reload_balances()),
                self._step("open_orders", self._load_open_orders()),
                *self._initial_loads(),
            ]
        )
        repair.started(streaming=ws is not None)
        self._spawn(self._refresh_fees(self.settings.fee_refresh_s))

    def _initial_loads(self) -> list[Coroutine[Any, Any, Any]]:
        """More private state to load in parallel at init (futures: positions)."""
        return [self._step("account_fees", self.reload_account_fees())]

    def _reloads(self) -> list[Coroutine[Any, Any, Any]]:
        """More private state a sweep reloads (futures: positions)."""
        return []

    def _private_handlers(self) -> PrivateWebsocketHandlers:
        return PrivateWebsocketHandlers(
            order=self._handle_order,
            execution=self._handle_execution,
            balance=self._handle_balance,
            connection=self._handle_private_connection,
            error=self._handle_error,
        )

    async def _load_open_orders(self) -> None:
        for order in await self._private_rest.get_open_orders():
            self._apply_order(order)

    async def reload_balances(self) -> dict[str, AssetBalance]:
        """Balances from REST; an asset the stream updated meanwhile keeps the stream's value."""
        rest = self._private_rest
        if rest is None:
            raise self._no_credentials()
        touched = self._balance_watch.begin()
        try:
            fresh = await rest.get_balances()
        finally:
            self._balance_watch.end(touched)
        balances = self.balances
        for asset in [a for a in balances if a not in fresh and a not in touched]:
            del balances[asset]
        for asset, balance in fresh.items():
            if asset in touched:
                continue
            old = balances.get(asset)
            if old is None or old.available != balance.available or old.locked != balance.locked:
                balances[asset] = balance
                self._on_balance(balance)
        return balances

    # -- stream handlers (hot path) ------------------------------------------------------

    def _handle_order(self, order: Order) -> None:
        self._stats.events += 1
        # One lookup: an order id nothing tracks is confirmed with the venue first.
        merged = self._tracker.apply(order, adopt=False)
        if merged is UNTRACKED:
            self._confirm_unknown(order)
        elif merged is not None:
            self._on_order(merged)

    def _confirm_unknown(self, order: Order) -> None:
        """An update about an order we do not track (placed elsewhere, from before a restart,
        or a bogus frame): adopt it only once the venue confirms it exists."""
        stats = self._stats
        stats.unknown_order_updates += 1
        key = (order.symbol, order.order_id)
        first = key not in self._unconfirmed
        if first and len(self._unconfirmed) >= _MAX_UNCONFIRMED:
            return  # a flood of bogus ids must not flood REST; real open orders reach the next sweep
        self._unconfirmed[key] = order
        if first:
            if stats.unknown_order_updates == 1:
                log.warning("%s: update for untracked order %s %s; checking it with the venue (logged once)", self.name, order.symbol, order.order_id)  # fmt: skip
            self._spawn(self._confirm_order(key))

    async def _confirm_order(self, key: tuple[Symbol, str]) -> None:
        symbol, order_id = key
        try:
            order = await self._lookup_order(symbol, order_id)
        except OrderNotFound:
            self._stats.unknown_orders_refuted += 1
            return
        except Exception as exc:
            # Given up visibly: a real open order shows up in the next sweep.
            self._stats.unknown_orders_unconfirmed += 1
            self._count_error(exc)
            return
        finally:
            held = self._unconfirmed.pop(key, None)  # the slot is released whatever happened
        self._apply_order(order)
        if held is not None:
            self._apply_order(held)  # the merge keeps whichever of the two is newer

    def _lookup_order(self, symbol: Symbol, order_id: str):
        """The venue's answer for one order id; concurrent askers share one request."""
        return lookup_order(self._lookups, self._private_rest, symbol, order_id)

    def _handle_execution(self, execution: Execution) -> None:
        self._stats.events += 1
        if self._fills.record(execution):
            self._on_execution(execution)

    def _handle_balance(self, balance: AssetBalance) -> None:
        self._stats.events += 1
        self.balances[balance.asset] = balance
        if self._balance_watch.active:
            self._balance_watch.touch(balance.asset)
        self._on_balance(balance)

    def _handle_private_connection(self, state: ConnectionState) -> None:
        repair = self._repair
        if repair is not None:
            repair.on_stream_state(state)
        self._on_connection(state)

    @property
    def private_stream(self) -> StreamState:
        """The private stream's state (NEW before initialize and without credentials)."""
        repair = self._repair
        return repair.state if repair is not None else StreamState.NEW

    @property
    def private_state_fresh(self) -> bool:
        """True while the private stream is up and the last sweep (if any) succeeded."""
        repair = self._repair
        return repair is not None and repair.fresh

    async def resync_private_state(self) -> None:
        """One REST sweep of everything private; raises if REST fails (state is then partial)."""
        self._require_private()
        await self._repair.resync()

    async def _restart_private_ws(self) -> None:
        """Recreate a private stream that closed on its own; a failure is counted (the poll
        that called this tries again)."""
        old = self._private_ws
        try:
            ws = self._create_private_ws_with_handlers(self._private_handlers())
            if inspect.isawaitable(ws):
                ws = await ws
        except Exception as exc:
            self._count_error(exc)
            return
        try:
            await ws.start()
        except Exception as exc:
            self._count_error(exc)
            await _close_quietly(ws)
            return
        self._clients = [(step, c) for step, c in self._clients if c is not old] + [("private_ws", ws)]
        self._private_ws = ws
        await _close_quietly(old)
        self._stats.private_stream_restarts += 1
        self._repair.on_stream_state(ConnectionState.RECONNECTED)
        self._on_connection(ConnectionState.RECONNECTED)

    def _is_closed(self) -> bool:
        return self._closed

    def _apply_order(self, order: Order) -> Order | None:
        merged = self._tracker.apply(order)
        if merged is not None:
            self._on_order(merged)
        return merged

    # -- order lifecycle ------------------------------------------------------------------

    async def place_limit_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
    ) -> Order:
        """Place a limit order once (pending until acknowledged); returns the venue's acknowledgement."""
        rest = self._require_private()
        cid = client_order_id or rest.new_client_order_id()
        return await self._place(
            rest, OrderRequest(symbol, side, _LIMIT, quantity, price, time_in_force, cid)
        )

    def place_limit_order_now(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
    ) -> Awaitable[Order] | None:
        """place_limit_order, written before returning when the connector can (place_order_now),
        and tracked as pending before this returns, exactly as place_limit_order tracks it;
        awaiting gives what place_limit_order gives (a lost reply resolved by the same
        resolver, etc.); await it, or make it a task, or it stays pending. None: nothing was
        sent and nothing is tracked; call place_limit_order. Bad input raises at once."""
        written = self.write_limit_order_now(
            symbol, side, quantity, price, time_in_force=time_in_force, client_order_id=client_order_id
        )
        return None if written is None else self.book_written(written)

    def write_limit_order_now(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
    ) -> WrittenOrder | None:
        """place_limit_order_now's first half: the order's request written now when the
        connector can, and nothing else. The order is live at the venue from here: give it to
        `book_written` before anything is awaited (no reply or stream event can be read before
        then, so the order is tracked before anything about it arrives). Two orders written
        back to back, then booked, leave with nothing between them. None: nothing was sent.
        Bad input raises at once."""
        rest = self._private_rest
        if rest is None or not self._initialized:  # _require_private's test, inline: it raises
            rest = self._require_private()
        cid = client_order_id or rest.new_client_order_id()
        return self._write_now(rest, OrderRequest(symbol, side, _LIMIT, quantity, price, time_in_force, cid))

    def book_written(self, written: WrittenOrder) -> Coroutine[Any, Any, Order]:
        """place_limit_order_now's second half, for an order `write_limit_order_now` wrote: it
        is tracked as pending from here; awaiting gives what place_limit_order_now's awaitable
        gives."""
        request, rest, sent = written
        self._add_pending(request)
        return self._settle(request, rest.follow_order(request, sent))

    def limit_order_bytes(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> bytes:
        """The bytes place_limit_order would write for this order now (a fresh client id, signed
        now): nothing sent, nothing tracked. For rehearsing the order path, and for tests."""
        rest = self._private_rest
        if rest is None or not self._initialized:  # as place_limit_order_now
            rest = self._require_private()
        cid = rest.new_client_order_id()
        return rest.order_bytes(OrderRequest(symbol, side, _LIMIT, quantity, price, time_in_force, cid))

    def rehearse_limit_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> bool:
        """write_limit_order_now's code run as an order's write runs it, down to the socket's
        write, with the connector rehearsing (PrivateRest.rehearsing: a dry connection, nothing
        sent, counted or admitted against the rate limit) and nothing booked or tracked. For
        keeping the order lane warm between orders. True when it reached the write (False:
        the lane would not write now). Bad input raises, as write_limit_order_now does."""
        rest = self._private_rest
        if rest is None or not self._initialized:  # as write_limit_order_now
            rest = self._require_private()
        with rest.rehearsing():
            written = self.write_limit_order_now(symbol, side, quantity, price, time_in_force=time_in_force)
        return written is not None

    async def place_market_order(
        self, symbol: Symbol, side: Side, quantity: float, *, client_order_id: str | None = None
    ) -> Order:
        """Place a market order (IOC) once; returns the venue's ack (a timeout: OrderStatusUnknown)."""
        rest = self._require_private()
        cid = client_order_id or rest.new_client_order_id()
        return await self._place(rest, OrderRequest(symbol, side, _MARKET, quantity, None, _IOC, cid))

    def _place(self, rest: PrivateRest, request: OrderRequest) -> Coroutine[Any, Any, Order]:
        """Send `request` (its client id set) once through `rest`, tracked as pending meanwhile:
        awaiting the result gives the acknowledged order."""
        # Not a coroutine itself: the order path keeps one frame (`_settle`) at this layer.
        self._add_pending(request)
        return self._settle(request, rest.place_order(request))

    def _write_now(self, rest: PrivateRest, request: OrderRequest) -> WrittenOrder | None:
        """`request` (its client id set) written now by `rest` (write_order_now), to be booked
        (book_written); None: nothing was sent."""
        sent = rest.write_order_now(request)
        return None if sent is None else WrittenOrder(request, rest, sent)

    def _add_pending(self, request: OrderRequest) -> None:
        """Track `request` as pending (by its client id) and as placing: before it is sent
        (`_place`), or right after its write with nothing awaited between (`book_written`)."""
        cid = request.client_order_id
        quantity = request.quantity
        self._tracker.pending[cid] = Order(  # OrderTracker.add_pending, inline (the order lane)
            request.symbol,
            "",
            cid,
            request.side,
            request.order_type,
            request.price or 0.0,
            quantity,
            _PENDING_NEW,
            request.time_in_force,
            remaining_quantity=quantity,
            created_at=now_ms(),
            reduce_only=request.reduce_only,
        )
        self._placing.add(cid)

    async def _settle(self, request: OrderRequest, reply: Awaitable[Order]) -> Order:
        """The outcome of a place in flight (`reply`, the connector's answer to come), tracked:
        a lost reply goes to the resolver, a refusal drops the pending order."""
        cid = request.client_order_id
        try:
            order = await reply
        except (OrderStatusUnknown, NetworkError) as exc:
            return await self._resolver.resolve(request.symbol, cid, exc)
        except BaseException:
            self._tracker.drop_pending(cid)
            raise
        finally:
            self._placing.discard(cid)
        self._stats.orders_placed += 1
        if not order.client_order_id:
            order.client_order_id = cid
        return self._track_reply(order)

    def _track_reply(self, reply: Order) -> Order:
        """Merge a REST answer and return the tracked (possibly newer) order."""
        self._apply_order(reply)
        return self._tracker.find(reply.symbol, reply.order_id) or reply

    async def cancel_order(self, symbol: Symbol, order_id: str) -> Order:
        """Cancel by venue order id (or by client id while the order is still pending)."""
        rest = self._require_private()
        done = self._tracker.get_executed(symbol, order_id)
        if done is not None:
            return done
        try:
            if order_id in self._tracker.pending:
                reply = await rest.cancel_order(symbol, client_order_id=order_id)
            else:
                reply = await rest.cancel_order(symbol, order_id=order_id)
        except OrderNotFound:
            # Finished before the cancel landed: learn how.
            return await self._query_order(symbol, order_id)
        self._stats.orders_canceled += 1
        return self._track_reply(reply)

    async def cancel_all_orders(self, symbol: Symbol | None = None) -> list[Order]:
        """Cancel every open order (of `symbol`, or of all symbols); returns the canceled orders, tracked."""
        replies = await self._require_private().cancel_all_orders(symbol)
        self._stats.orders_canceled += len(replies)
        return [self._track_reply(reply) for reply in replies]

    async def _query_order(self, symbol: Symbol, order_id: str) -> Order:
        return self._track_reply(await self._lookup_order(symbol, order_id))

    async def get_active_order(self, symbol: Symbol, order_id: str) -> Order | None:
        """Open set, then the executed cache, then REST (cached only when finished); None when
        no tier knows the order (the venue says it does not exist).

        `order_id` may also be the client id of an order whose place is still in flight. A
        REST failure other than "not found" raises its typed error: None would wrongly say
        the order does not exist."""
        order, tier = self._cached_order(symbol, order_id)
        if order is None:
            order = await self._get_order_from_rest(symbol, order_id)
            tier = "rest" if order is not None else "none"
        self._stats.last_tier = tier
        self._repeat_lookups.note((symbol, order_id), tier)
        return order

    def _cached_order(self, symbol: Symbol, order_id: str) -> tuple[Order | None, str]:
        stats = self._stats
        opened = self.open_orders.get(symbol)
        if opened is not None:
            order = opened.get(order_id)
            if order is not None:
                stats.tier_open += 1
                return order, "open"
        tracker = self._tracker
        order = tracker.get_executed(symbol, order_id)
        if order is not None:
            stats.tier_executed += 1
            return order, "executed"
        order = tracker.pending.get(order_id)  # not acknowledged yet: known by its client id
        if order is not None:
            stats.tier_open += 1
            return order, "open"
        return None, ""

    async def _get_order_from_rest(self, symbol: Symbol, order_id: str) -> Order | None:
        self._require_private()
        order = self._tracker.find(symbol, order_id)  # another task may have loaded it
        if order is None:
            try:
                order = await self._lookup_order(symbol, order_id)
            except OrderNotFound:
                self._stats.tier_none += 1
                return None
            if order.status.is_done:
                order = self._track_reply(order)
        self._stats.tier_rest += 1
        return order

    def _require_private(self) -> PrivateRest:
        rest = self._private_rest
        if not self._initialized:
            raise ExchangeError(
                f"{self.name} is not initialized", venue=self.name, hint="await initialize(symbols) first"
            )
        if rest is None:
            raise self._no_credentials()
        return rest

    def _no_credentials(self) -> AuthenticationError:
        return AuthenticationError(
            f"{self.name} has no API key and secret: market data only",
            venue=self.name,
            hint="configure api_key/api_secret for this venue to trade",
        )

    async def _close_all(self) -> None:
        await super()._close_all()
        self._lookups.cancel()
        # Nothing keeps balances, orders or positions current any more: say so.
        if self._repair is not None:
            self._repair.close()

    # -- stats -------------------------------------------------------------------------

    def _client_status(self) -> dict[str, str]:
        status = super()._client_status()
        ws = self._private_ws
        if self._closed or not self._initialized:
            status["private_ws"] = status["private_rest"] = "closed"
        else:
            # "absent": REST-only (no stream made) or market data only (no credentials).
            repair = self._repair
            down = self.private_stream is not StreamState.UP
            status["private_ws"] = "absent" if ws is None else _ws_status(ws, down)
            rest_status = repair.rest_status if repair is not None else "unknown"
            status["private_rest"] = "absent" if self._private_rest is None else rest_status
        return status

    def transport_stats(self) -> dict[str, Any]:
        """The public channels' live counters plus the private stream's ("ws") and REST client's ("rest")."""
        out = super().transport_stats()
        if self._private_ws is not None:
            out["ws"]["private"] = self._private_ws.stats
        if self._private_rest is not None:
            out["rest"]["private"] = self._private_rest.http
        return out

    def _state(self) -> str:
        return "closed" if self._closed else "running" if self._initialized else "new"

    def trading_stats(self) -> TradingStatsReport:
        """The trading stats as a typed struct (get_trading_stats is its dict)."""
        tracker = self._tracker
        stats = self._stats
        lookups = stats.tier_executed + stats.tier_rest + stats.tier_none
        hit_rate = stats.tier_executed / lookups if lookups else 0.0
        repeats = self._repeat_lookups
        connections = self._client_status()
        return TradingStatsReport(
            total_balances=len(self.balances),
            open_orders_count=tracker.open_count(),
            executed_orders_count=tracker.executed_count(),
            has_credentials=self.config.has_credentials(),
            connection_status=ConnectionFlags(
                private_rest=connections["private_rest"] == "ok", private_ws=connections["private_ws"] == "up"
            ),
            venue=self.name,
            state=self._state(),
            balances=len(self.balances),
            open_orders=tracker.open_count(),
            pending_orders=len(tracker.pending),
            executed_orders=tracker.executed_count(),
            executed_symbols=[str(s) for s in tracker.executed_symbols()],
            executed_cache_hit_rate=hit_rate,
            executed_evicted=tracker.evicted,
            executed_cache=ExecutedCacheStats(
                size=tracker.executed_count(),
                capacity_per_symbol=self.settings.executed_cache_size,
                hits=stats.tier_executed,
                misses=stats.tier_rest + stats.tier_none,
                hit_rate=hit_rate,
                repeat_lookups=repeats.lookups,
                repeat_hits=repeats.hits,
                repeat_hit_rate=repeats.hit_rate,
                evicted=tracker.evicted,
            ),
            active_order_tiers=TierCounts(
                open=stats.tier_open, executed=stats.tier_executed, rest=stats.tier_rest, none=stats.tier_none
            ),
            last_active_order_tier=stats.last_tier,
            events_processed=stats.events + self._public_events,
            order_updates=tracker.updates,
            order_updates_ignored=tracker.ignored,
            open_to_executed=tracker.transitions,
            connections=connections,
            background_failures=self._task_failures,
            recovery=stats.recovery(),
            fees=self._fees.stats(),
            public=self.get_public_stats(),
            listener_errors=sum(f.errors for f in self._private_fanouts()),
        )

    def get_trading_stats(self) -> dict[str, Any]:
        """The seed's trading stats (balances, order counts, connection status) and richer counters."""
        return self.trading_stats().as_dict()


class WrittenOrder(NamedTuple):
    """An order written by `write_limit_order_now`, not booked yet: its request, the connector
    that wrote it and what the connector gave back (for its follow_order)."""

    request: OrderRequest
    rest: PrivateRest
    sent: Any


def _clock_of(rest: Any) -> Any:
    """The connector's clock (venue time = local + measured offset), if it exposes one."""
    return getattr(rest, "clock", None) or getattr(getattr(rest, "http", None), "clock", None)


async def _close_quietly(client: Any) -> None:
    if client is None:
        return
    try:
        await client.close()
    except Exception as exc:
        log.warning("closing %r failed: %r", type(client).__name__, exc)
