"""Futures composites: positions, leverage and reduce-only orders live here only.

Quantities at this API are in base units; the connector converts to contracts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any

import msgspec

from cexarb.exchange.funding import FundingBook
from cexarb.exchange.handlers import Fanout
from cexarb.exchange.private import CompositePrivateExchange, WrittenOrder
from cexarb.exchange.public import CompositePublicExchange, now_ms
from cexarb.exchange.recovery import TouchWatch
from cexarb.exchange.stats import FuturesTradingStatsReport
from cexarb.exchange.streamstate import StreamState
from cexarb.model import (
    FundingInfo,
    FundingPayment,
    Market,
    Order,
    OrderRequest,
    OrderType,
    Position,
    Side,
    Symbol,
    TimeInForce,
)
from cexarb.model.errors import ExchangeError
from cexarb.venues.contracts import FundingRest, FuturesRest, MarginModeRest, PrivateWebsocketHandlers

log = logging.getLogger("cexarb.exchange")
# Read per order placed: a module global is ~65 ns cheaper than an enum class attribute.
_LIMIT, _MARKET, _IOC = OrderType.LIMIT, OrderType.MARKET, TimeInForce.IOC


class CompositePublicFuturesExchange(CompositePublicExchange):
    market = Market.FUTURES

    def contract_size(self, symbol: Symbol) -> float:
        """Base units per contract."""
        return self.symbols_info[symbol].contract_size


class CompositePrivateFuturesExchange(CompositePrivateExchange):
    market = Market.FUTURES

    def __init__(self, config, **kwargs) -> None:
        super().__init__(config, **kwargs)
        self.positions: dict[Symbol, Position] = {}
        self._position_watch = TouchWatch()
        self._on_position = Fanout("on_position")
        # Perpetual funding: rates and the payments since initialize (when the connector has them).
        self.funding = FundingBook()
        self._on_funding = Fanout("on_funding")

    def contract_size(self, symbol: Symbol) -> float:
        """Base units per contract of `symbol` (quantities stay in base units; connectors convert)."""
        return self.symbols_info[symbol].contract_size

    def trading_stats(self) -> FuturesTradingStatsReport:
        """The private stats plus position metrics (futures only, as the seed plan moves them)."""
        return FuturesTradingStatsReport(
            **msgspec.structs.asdict(super().trading_stats()),
            active_positions=sum(1 for p in self.positions.values() if p.size),
            positions={str(s): p.size for s, p in self.positions.items() if p.size},
        )

    def _private_fanouts(self) -> list[Fanout]:
        return [*super()._private_fanouts(), self._on_position, self._on_funding]

    def _reset_state(self) -> None:
        super()._reset_state()
        self.positions.clear()
        self.funding.clear()

    def _private_handlers(self) -> PrivateWebsocketHandlers:
        handlers = super()._private_handlers()
        handlers.position = self._handle_position
        return handlers

    def _initial_loads(self) -> list[Coroutine[Any, Any, Any]]:
        loads = [*super()._initial_loads(), self._step("positions", self.reload_positions())]
        if isinstance(self._private_rest, FundingRest):
            loads.append(self._step("funding", self._start_funding()))
        return loads

    def _reloads(self) -> list[Coroutine[Any, Any, Any]]:
        return [*super()._reloads(), self.reload_positions()]

    def _handle_position(self, position: Position) -> None:
        self._stats.events += 1
        self.positions[position.symbol] = position
        if self._position_watch.active:
            self._position_watch.touch(position.symbol)
        self._on_position(position)

    def _futures_rest(self) -> FuturesRest:
        rest = self._private_rest
        if not isinstance(rest, FuturesRest):
            raise ExchangeError(f"{self.name}: the private connector has no positions API", venue=self.name)
        return rest

    async def reload_positions(self) -> dict[Symbol, Position]:
        """Positions from REST; a symbol the stream updated meanwhile keeps the stream's value."""
        rest = self._futures_rest()
        touched = self._position_watch.begin()
        try:
            fresh = await rest.get_positions()
        finally:
            self._position_watch.end(touched)
        positions = self.positions
        for symbol in [s for s in positions if s not in fresh and s not in touched]:
            del positions[symbol]
        for symbol, position in fresh.items():
            if symbol not in touched and positions.get(symbol) != position:
                positions[symbol] = position
                self._on_position(position)
        return positions

    # -- funding ----------------------------------------------------------------------------

    def funding_info(self, symbol: Symbol) -> FundingInfo | None:
        """The symbol's current funding rate and next settlement (None: not known)."""
        return self.funding.rates.get(symbol)

    @property
    def funding_received(self) -> float:
        """Funding received since the composite started (sum of the positive payments)."""
        return self.funding.received

    @property
    def funding_paid(self) -> float:
        """Funding paid since the composite started (as a positive number)."""
        return self.funding.paid

    async def _start_funding(self) -> None:
        self.funding.since_ms = now_ms()
        await self.reload_funding()
        self._spawn(self._poll_funding())

    async def reload_funding(self) -> list[FundingPayment]:
        """Read rates and funding payments now; returns (and tells listeners of) new payments."""
        rest = self._private_rest
        if not isinstance(rest, FundingRest):
            raise ExchangeError(f"{self.name}: the connector has no funding API", venue=self.name)
        self.funding.rates = await rest.get_funding()
        new = self.funding.add(await rest.get_funding_payments(self.funding.since_ms))
        for payment in new:
            self._on_funding(payment)
        return new

    async def _poll_funding(self) -> None:
        while True:
            await asyncio.sleep(self.settings.funding_poll_s)
            try:
                await self.reload_funding()
            except ExchangeError as exc:  # the next poll retries; the account book keeps them
                self._count_error(exc)
                log.warning("%s: funding poll failed: %s", self.name, exc)

    async def set_leverage(self, symbol: Symbol, leverage: float) -> float:
        """Returns the leverage the venue applied."""
        self._require_private()
        return await self._futures_rest().set_leverage(symbol, leverage)

    async def set_margin_mode(self, symbol: Symbol, *, cross: bool, leverage: float) -> float:
        """Isolated or cross margin for `symbol`; returns the leverage the venue applied."""
        rest = self._require_private()
        if not isinstance(rest, MarginModeRest):
            raise ExchangeError(
                f"{self.name}: the connector cannot switch margin mode",
                venue=self.name,
                hint="isolated leverage is available through set_leverage",
            )
        return await rest.set_margin_mode(symbol, cross, leverage)

    async def place_limit_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
        reduce_only: bool = False,
    ) -> Order:
        """Place a limit order once (`reduce_only`: only shrinks the position); returns the venue's ack."""
        rest = self._require_private()
        cid = client_order_id or rest.new_client_order_id()
        return await self._place(
            rest, OrderRequest(symbol, side, _LIMIT, quantity, price, time_in_force, cid, reduce_only)
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
        reduce_only: bool = False,
    ) -> Awaitable[Order] | None:
        """place_limit_order (`reduce_only` too), written before returning when the connector
        can; tracked and awaited as the spot composite's place_limit_order_now. None: nothing
        was sent and nothing is tracked; call place_limit_order."""
        written = self.write_limit_order_now(
            symbol,
            side,
            quantity,
            price,
            time_in_force=time_in_force,
            client_order_id=client_order_id,
            reduce_only=reduce_only,
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
        reduce_only: bool = False,
    ) -> WrittenOrder | None:
        """The spot composite's write_limit_order_now, `reduce_only` too: book what it gives
        (book_written) before anything is awaited."""
        rest = self._require_private()
        cid = client_order_id or rest.new_client_order_id()
        return self._write_now(
            rest, OrderRequest(symbol, side, _LIMIT, quantity, price, time_in_force, cid, reduce_only)
        )

    def limit_order_bytes(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
    ) -> bytes:
        """The bytes place_limit_order would write for this order now (a fresh client id,
        signed now): nothing sent, nothing tracked."""
        rest = self._require_private()
        cid = rest.new_client_order_id()
        return rest.order_bytes(
            OrderRequest(symbol, side, _LIMIT, quantity, price, time_in_force, cid, reduce_only)
        )

    def rehearse_limit_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        price: float,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
    ) -> bool:
        """The spot composite's rehearse_limit_order, `reduce_only` too."""
        rest = self._require_private()
        with rest.rehearsing():
            written = self.write_limit_order_now(
                symbol, side, quantity, price, time_in_force=time_in_force, reduce_only=reduce_only
            )
        return written is not None

    async def place_market_order(
        self,
        symbol: Symbol,
        side: Side,
        quantity: float,
        *,
        client_order_id: str | None = None,
        reduce_only: bool = False,
    ) -> Order:
        """Place a market order (IOC) once (`reduce_only`: only shrinks the position); returns the ack."""
        rest = self._require_private()
        cid = client_order_id or rest.new_client_order_id()
        return await self._place(
            rest, OrderRequest(symbol, side, _MARKET, quantity, None, _IOC, cid, reduce_only)
        )

    async def close_position(self, symbol: Symbol) -> Order | None:
        """Flatten with a reduce-only market order; None when already flat."""
        self._require_private()
        if self.private_stream is not StreamState.UP:
            await self.reload_positions()  # never act on a position the stream may have missed
        position = self.positions.get(symbol)
        if position is None or not position.size:
            return None
        side = Side.SELL if position.size > 0 else Side.BUY
        return await self.place_market_order(symbol, side, abs(position.size), reduce_only=True)
