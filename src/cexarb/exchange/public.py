"""CompositePublicExchange: symbol rules, synced order books and tickers of one venue.

A venue subclass implements only `_create_public_rest` and
`_create_public_ws_with_handlers`; the orchestration lives here: template
`initialize` (parallel where independent), handler injection, book sync and
resync, (un)subscription, and `close()` of every opened client exactly once.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any

import aiohttp

from cexarb.config import VenueConfig
from cexarb.exchange.book import BookSync, DiffResult, L2Book
from cexarb.exchange.handlers import Fanout, PublicListener
from cexarb.exchange.settings import CompositeSettings
from cexarb.exchange.streamstate import StreamState
from cexarb.model import BookDiff, BookTicker, ConnectionState, Market, OrderBook, Symbol, SymbolInfo, Trade
from cexarb.model.errors import ExchangeError, InitializationError
from cexarb.venues.contracts import PublicRest, PublicWebsocketHandlers, PublicWs, SymbolsInfo

log = logging.getLogger("cexarb.exchange")

_APPLIED = DiffResult.APPLIED
_GAP = DiffResult.GAP


def now_ms() -> int:
    return int(time.time() * 1000)


_LISTED_SHOWN = 5


def not_listed(missing: list[Symbol], listed: Iterable[Symbol], venue: str) -> ExchangeError:
    """ "DOGE/USDT is not listed on gateio_spot", with a few listed symbols to pick from (those
    sharing the base asset first, then the quote)."""
    listed = list(listed)
    first = missing[0]
    alike = sorted(listed, key=lambda s: (s.base != first.base, s.quote != first.quote, str(s)))
    shown = ", ".join(str(s) for s in alike[:_LISTED_SHOWN])
    more = f" and {len(listed) - _LISTED_SHOWN} more" if len(listed) > _LISTED_SHOWN else ""
    names = ", ".join(str(s) for s in missing)
    verb = "is" if len(missing) == 1 else "are"
    return ExchangeError(
        f"{names} {verb} not listed on {venue}",
        venue=venue,
        hint=f"use a listed symbol: {shown}{more}" if listed else "the venue lists no symbols",
    )


async def run_parallel(coros: list[Coroutine[Any, Any, Any]]) -> None:
    """Run all; the first failure cancels the rest and is raised as itself."""
    try:
        async with asyncio.TaskGroup() as group:
            for coro in coros:
                group.create_task(coro)
    except BaseExceptionGroup as errors:
        failure = _first_leaf(errors)
    else:
        return
    raise failure  # outside the handler: keeps the error's own cause and context


class CompositePublicExchange:
    market: Market = Market.SPOT

    def __init__(
        self,
        config: VenueConfig,
        *,
        settings: CompositeSettings | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.config = config
        self.venue = config.venue
        self.market = config.market
        self.name = f"{config.venue.value}_{config.market.value}"
        self.settings = settings or CompositeSettings()
        self._session = session
        self.symbols_info: dict[Symbol, SymbolInfo] = {}
        self.book_tickers: dict[Symbol, BookTicker] = {}
        self._symbols: list[Symbol] = []
        self._books: dict[Symbol, BookSync] = {}
        self._public_rest: PublicRest | None = None
        self._public_ws: PublicWs | None = None
        # Every client opened, in order, so close() closes each exactly once.
        self._clients: list[tuple[str, Any]] = []
        self._tasks: set[asyncio.Task] = set()
        self._resyncs: dict[Symbol, asyncio.Task] = {}
        self._initialized = False
        self._closed = False
        self._init_started_ms = 0
        self._public_stream = StreamState.NEW
        self._public_events = 0
        self._book_gaps = 0
        self._book_resyncs = 0
        self._last_book_resync_ms = 0
        self._errors: dict[str, int] = {}
        # Background tasks that ended with an exception they did not handle themselves.
        self._task_failures = 0
        self._on_book = Fanout("on_book")
        self._on_book_ticker = Fanout("on_book_ticker")
        self._on_trade = Fanout("on_trade")

    # -- factory methods: the only thing a venue must provide -------------------------

    def _create_public_rest(self) -> PublicRest:
        raise NotImplementedError(f"{type(self).__name__} must implement _create_public_rest")

    def _create_public_ws_with_handlers(self, handlers: PublicWebsocketHandlers) -> PublicWs:
        raise NotImplementedError(f"{type(self).__name__} must implement _create_public_ws_with_handlers")

    # -- public API ---------------------------------------------------------------------

    def add_listener(self, listener: object) -> None:
        """Route book, book-ticker and trade events to `listener`'s on_book / on_book_ticker / on_trade."""
        for fanout in (self._on_book, self._on_book_ticker, self._on_trade):
            fanout.add_from(listener, PublicListener)

    @property
    def symbols(self) -> list[Symbol]:
        """The symbols this composite streams, in the order they were added (a copy)."""
        return list(self._symbols)

    @property
    def clients(self) -> list[tuple[str, Any]]:
        """Every client opened and not closed yet, as (initialize step, client), in opening order (a copy)."""
        return list(self._clients)

    @property
    def public_rest(self) -> PublicRest | None:
        """The venue's public REST connector (None before initialize)."""
        return self._public_rest

    def get_order_book(self, symbol: Symbol) -> OrderBook | None:
        """The synced book, or None while it is not in sync (never a stale one)."""
        sync = self._books.get(symbol)
        if sync is None or not sync.synced:
            return None
        return sync.book.view()

    def get_book(self, symbol: Symbol) -> L2Book | None:
        """The live book object (best_bid / best_ask without building a view), if synced."""
        sync = self._books.get(symbol)
        return sync.book if sync is not None and sync.synced else None

    def rehearse_book(self, symbol: Symbol) -> bool:
        """Run `symbol`'s book-update frame path once, with no effect, so that its code and data
        are in the CPU's caches when a real update comes (a keep-warm step: a frame that lands
        after long quiet runs several times slower than one right after another).

        The venue's stream reads a frame of its own wire format holding ids the book already
        has, and hands it on as it hands every frame: the composite skips it as an old diff.
        The book, the listeners (not called) and every counter stay as they were. Returns
        False, doing nothing, when the book is not synced (a diff would be buffered) or the
        venue's stream has no rehearsal."""
        sync = self._books.get(symbol)
        rehearse = getattr(self._public_ws, "rehearse_book_frame", None)
        if sync is None or not sync.synced or rehearse is None:
            return False
        events = self._public_events
        try:
            rehearse(symbol, sync.book.update_id)
        finally:
            self._public_events = events  # not a venue event
        return True

    def is_book_synced(self, symbol: Symbol) -> bool:
        """True when `symbol`'s book is in sync with the venue's stream (get_order_book would return it)."""
        sync = self._books.get(symbol)
        return sync is not None and sync.synced

    def book_age_ms(self, symbol: Symbol) -> float:
        """Milliseconds since `symbol`'s book last changed; inf when it has never been loaded."""
        sync = self._books.get(symbol)
        if sync is None or not sync.book.updated_monotonic:
            return math.inf
        return (time.monotonic() - sync.book.updated_monotonic) * 1000.0

    async def initialize(self, symbols_info: SymbolsInfo | Iterable[Symbol]) -> None:
        """Load rules, books and streams for the symbols (a list, or the seed interface's
        SymbolsInfo mapping: its keys); on any failure close what was opened and raise
        InitializationError naming the step.

        The trading rules are always the venue's own, loaded here: a given SymbolsInfo names
        the symbols, its values are not trusted over the venue's answer."""
        if self._initialized:
            raise ExchangeError(f"{self.name} is already initialized", venue=self.name)
        symbols = list(symbols_info.keys() if isinstance(symbols_info, Mapping) else symbols_info)
        self._closed = False
        self._init_started_ms = now_ms()
        self._reset_state()
        try:
            await self._initialize(symbols)
        except BaseException as exc:
            await self._close_all()
            if isinstance(exc, Exception) and not isinstance(exc, InitializationError):
                raise InitializationError(
                    f"{self.name}: initialize failed: {exc}", step="initialize", venue=self.name
                ) from exc
            raise
        self._initialized = True

    async def add_symbol(self, symbol: Symbol) -> None:
        """Subscribe to `symbol` and sync its book; a no-op if streamed already, undone if it fails."""
        if symbol in self._books:
            return
        if symbol not in self.symbols_info:
            raise not_listed([symbol], self.symbols_info, self.name)
        self._books[symbol] = BookSync(symbol)
        self._symbols.append(symbol)
        try:
            await self._public_ws.subscribe([symbol])
            await self._sync_book(symbol)
        except BaseException:
            await self.remove_symbol(symbol)
            raise

    async def remove_symbol(self, symbol: Symbol) -> None:
        """Stop streaming `symbol`: drop its book and ticker, cancel a pending resync, unsubscribe."""
        if self._books.pop(symbol, None) is None:
            return
        self._symbols.remove(symbol)
        self.book_tickers.pop(symbol, None)
        task = self._resyncs.pop(symbol, None)
        if task is not None:
            task.cancel()
        await self._public_ws.unsubscribe([symbol])

    async def close(self) -> None:
        """Close streams, REST clients and background tasks; the connection status reads "closed"."""
        await self._close_all()

    # -- template initialize ------------------------------------------------------------

    def _reset_state(self) -> None:
        """Forget what a previous (failed or closed) run left."""
        self._symbols.clear()
        self._books.clear()
        self.book_tickers.clear()
        self._public_stream = StreamState.NEW

    async def _initialize(self, symbols: list[Symbol]) -> None:
        self._public_rest = await self._open_async("public_rest", self._create_public_rest)
        await self._step("symbols_info", self._load_symbols_info(symbols))
        for symbol in symbols:
            if symbol not in self._books:
                self._books[symbol] = BookSync(symbol)
                self._symbols.append(symbol)
        await self._run_parallel(self._init_parallel(symbols))

    def _init_parallel(self, symbols: list[Symbol]) -> list[Coroutine[Any, Any, None]]:
        """Independent init branches; the private side adds its own."""
        return [self._start_public(symbols)]

    async def _load_symbols_info(self, symbols: list[Symbol]) -> None:
        info = await self._public_rest.get_symbols_info()
        missing = [s for s in symbols if s not in info]
        if missing:
            raise not_listed(missing, info, self.name)
        self.symbols_info.update(info)

    async def _start_public(self, symbols: list[Symbol]) -> None:
        ws = self._public_ws = await self._open_async(
            "public_ws", lambda: self._create_public_ws_with_handlers(self._public_handlers())
        )
        await self._step("public_ws", ws.start())
        # Subscribe before the snapshots so that every diff after a snapshot is buffered.
        await self._step("public_ws", ws.subscribe(symbols))
        await self._run_parallel(
            [self._step("order_books", self._sync_book(s)) for s in symbols]
            + [self._step("book_tickers", self._load_ticker(s)) for s in symbols]
        )

    def _public_handlers(self) -> PublicWebsocketHandlers:
        return PublicWebsocketHandlers(
            book_diff=self._handle_book_diff,
            book_snapshot=self._handle_book_snapshot,
            book_ticker=self._handle_book_ticker,
            trade=self._handle_trade,
            connection=self._handle_public_connection,
            error=self._handle_error,
        )

    async def _load_ticker(self, symbol: Symbol) -> None:
        ticker = await self._public_rest.get_book_ticker(symbol)
        # The stream may already have delivered a newer one; a stream that went down meanwhile
        # makes this one stale already.
        if not self._public_stream.broken and symbol in self._books:
            self.book_tickers.setdefault(symbol, ticker)

    # -- book sync -------------------------------------------------------------------

    async def _sync_book(self, symbol: Symbol) -> None:
        settings = self.settings
        for attempt in range(settings.book_sync_attempts):
            rest = self._public_rest
            depth = settings.book_depth
            snapshot = await (rest.get_order_book(symbol, depth) if depth else rest.get_order_book(symbol))
            sync = self._books.get(symbol)
            if sync is None or sync.synced:  # removed, or an in-band snapshot synced it
                return
            if sync.on_snapshot(snapshot):
                self._on_book(symbol)
                return
            await asyncio.sleep(settings.book_retry_delay_s * (attempt + 1))
        raise ExchangeError(
            f"{symbol} book did not chain onto {settings.book_sync_attempts} snapshots",
            venue=self.name,
            hint="the diff stream runs ahead of the REST snapshots; it is retried in the background",
        )

    def _schedule_resync(self, symbol: Symbol) -> None:
        task = self._resyncs.get(symbol)
        if (task is None or task.done()) and not self._closed and not self._public_stream.broken:
            self._resyncs[symbol] = self._spawn(self._resync_book(symbol))

    async def _resync_book(self, symbol: Symbol) -> None:
        delay = self.settings.book_retry_delay_s
        while not self._closed and symbol in self._books and not self._public_stream.broken:
            try:
                await self._sync_book(symbol)
                if symbol not in self.book_tickers:
                    await self._load_ticker(symbol)  # dropped with the stream: serve one again
            except Exception as exc:  # any failure: count it, back off, try again
                self._count_error(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._book_resyncs += 1
            self._last_book_resync_ms = now_ms()
            return

    # -- stream handlers (hot path: no awaits, no logging, no copies) --------------------

    def _handle_book_diff(self, diff: BookDiff) -> None:
        self._public_events += 1
        symbol = diff.symbol
        sync = self._books.get(symbol)
        if sync is None:
            return
        result = sync.on_diff(diff)
        if result is _APPLIED:
            # Fanout.__call__ inlined: a diff that moves the book can be the one that crosses,
            # and a Python frame less before the listeners counts when it runs cold.
            fanout = self._on_book
            for callback in fanout.callbacks:
                try:
                    callback(symbol)
                except Exception as exc:
                    fanout._failed(callback, exc)
        elif result is _GAP:
            self._book_gaps += 1
            self._schedule_resync(symbol)

    def _handle_book_snapshot(self, snapshot: OrderBook) -> None:
        self._public_events += 1
        sync = self._books.get(snapshot.symbol)
        if sync is not None and sync.on_snapshot(snapshot):
            self._on_book(snapshot.symbol)

    def _handle_book_ticker(self, ticker: BookTicker) -> None:
        self._public_events += 1
        current = self.book_tickers.get(ticker.symbol)
        if current is not None and ticker.update_id and ticker.update_id < current.update_id:
            return
        self.book_tickers[ticker.symbol] = ticker
        fanout = self._on_book_ticker  # Fanout.__call__ inlined, as in _handle_book_diff
        for callback in fanout.callbacks:
            try:
                callback(ticker)
            except Exception as exc:
                fanout._failed(callback, exc)

    def _handle_trade(self, trade: Trade) -> None:
        self._public_events += 1
        self._on_trade(trade)

    def _handle_public_connection(self, state: ConnectionState) -> None:
        if state is ConnectionState.DISCONNECTED or state is ConnectionState.CLOSED:
            # Nothing arrives while down: stop serving every book and ticker until resynced (an
            # order must never be sized from a price the stream no longer updates).
            self._public_stream = (
                StreamState.DOWN if state is ConnectionState.DISCONNECTED else StreamState.LOST
            )
            for sync in self._books.values():
                sync.mark_stale()
            self.book_tickers.clear()
        elif state is ConnectionState.RECONNECTED or state is ConnectionState.CONNECTED:
            was_broken = self._public_stream.broken
            self._public_stream = StreamState.UP
            if was_broken:
                for symbol in self._books:
                    self._schedule_resync(symbol)

    def _handle_error(self, exc: Exception) -> None:
        self._count_error(exc)

    def _count_error(self, exc: BaseException) -> None:
        kind = type(exc).__name__
        seen = self._errors.get(kind, 0)
        self._errors[kind] = seen + 1
        if not seen:
            log.warning("%s: %s (logged once per kind)", self.name, exc)

    # -- plumbing ------------------------------------------------------------------------

    def _open(self, step: str, factory: Callable[[], Any]) -> Any:
        try:
            client = factory()
        except Exception as exc:
            raise InitializationError(
                f"{self.name}: cannot create {step}: {exc}", step=step, venue=self.name
            ) from exc
        self._clients.append((step, client))
        return client

    async def _open_async(self, step: str, factory: Callable[[], Any]) -> Any:
        """Like _open, for factories that must await first (e.g. learn an account id)."""
        client = self._open(step, factory)
        if inspect.isawaitable(client):
            self._clients.pop()
            client = await self._step(step, client)
            self._clients.append((step, client))
        return client

    async def _step(self, step: str, awaitable: Awaitable[Any]) -> Any:
        try:
            return await awaitable
        except InitializationError:
            raise
        except Exception as exc:
            raise InitializationError(
                f"{self.name}: initialize failed at {step}: {exc}", step=step, venue=self.name
            ) from exc

    _run_parallel = staticmethod(run_parallel)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        """Every background task ends here: a failure it did not handle is retrieved, counted
        and logged (never "Task exception was never retrieved")."""
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        self._task_failures += 1
        self._count_error(exc)
        log.error("%s: background task %s failed", self.name, task.get_coro().__qualname__, exc_info=exc)

    async def _close_all(self) -> None:
        self._closed = True
        self._initialized = False
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._resyncs.clear()
        clients, self._clients = self._clients, []
        for step, client in reversed(clients):
            try:
                await client.close()
            except Exception as exc:
                log.warning("%s: closing %s failed: %r", self.name, step, exc)
        for sync in self._books.values():
            sync.mark_stale()
        self.book_tickers.clear()  # nothing feeds them any more

    def _client_status(self) -> dict[str, str]:
        ws = self._public_ws
        closed = ws is None or self._closed
        return {"public_ws": "closed" if closed else _ws_status(ws, self._public_stream.broken)}

    def transport_stats(self) -> dict[str, Any]:
        """The live counter objects of this composite's clients, by channel: "ws" -> StreamStats,
        "rest" -> HttpClient (its `stats`, and `limiter` when rate limited). Metrics read these."""
        out: dict[str, dict[str, Any]] = {"ws": {}, "rest": {}}
        if self._public_ws is not None:
            out["ws"]["public"] = self._public_ws.stats
        if self._public_rest is not None:
            out["rest"]["public"] = self._public_rest.http
        return out

    def get_public_stats(self) -> dict[str, Any]:
        """Market-data counters: synced books, gaps and resyncs, errors, refused subscriptions."""
        return {
            "symbols": len(self._books),
            "books_synced": sum(1 for s in self._books.values() if s.synced),
            "public_events": self._public_events,
            "book_gaps": self._book_gaps,
            "book_resyncs": self._book_resyncs,
            "last_book_resync_ms": self._last_book_resync_ms,
            "errors": dict(self._errors),
            "background_failures": self._task_failures,
            "listener_errors": self._on_book.errors + self._on_book_ticker.errors + self._on_trade.errors,
            # Channels the venue refused and still refuses (retried with backoff meanwhile).
            "failed_subscriptions": _failed_subscriptions(self._public_ws),
        }


def _failed_subscriptions(ws: Any) -> dict[str, str]:
    try:
        return dict(ws.stats.failed_subscriptions) if ws is not None else {}
    except Exception:  # a stream without stats
        return {}


def _ws_status(ws: Any, down: bool) -> str:
    if down:
        return "down"
    try:
        return "up" if ws.is_connected else "down"
    except Exception:
        return "unknown"


def _first_leaf(group: BaseExceptionGroup) -> BaseException:
    """The first real error in a (nested) group, preferring a typed init error."""
    leaves: list[BaseException] = []
    stack: list[BaseException] = [group]
    while stack:
        exc = stack.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            stack[:0] = list(exc.exceptions)
        else:
            leaves.append(exc)
    for exc in leaves:
        if isinstance(exc, InitializationError):
            return exc
    for exc in leaves:
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return leaves[0]
