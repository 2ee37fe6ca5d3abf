"""Gate.io spot composites: factory methods plus Gate's quirks, nothing else."""

from __future__ import annotations

from cexarb.exchange.public import CompositePublicExchange
from cexarb.exchange.withdrawals import WithdrawingPrivateExchange
from cexarb.model import Order, OrderRequest, OrderType, Side, Symbol, TimeInForce
from cexarb.model.errors import InvalidOrder
from cexarb.model.rounding import round_up
from cexarb.venues.contracts import PrivateWebsocketHandlers, PublicWebsocketHandlers
from cexarb.venues.gateio import (
    GateioSpotPrivateRest,
    GateioSpotPrivateWs,
    GateioSpotPublicRest,
    GateioSpotPublicWs,
)


class GateioSpotPublicExchange(CompositePublicExchange):
    def _create_public_rest(self) -> GateioSpotPublicRest:
        return GateioSpotPublicRest(self.config, session=self._session)

    def _create_public_ws_with_handlers(self, handlers: PublicWebsocketHandlers) -> GateioSpotPublicWs:
        return GateioSpotPublicWs(self.config, handlers, self.symbols_info, session=self._session)


class GateioSpotPrivateExchange(WithdrawingPrivateExchange, GateioSpotPublicExchange):
    def _create_private_rest(self) -> GateioSpotPrivateRest:
        return GateioSpotPrivateRest(self.config, self.symbols_info, session=self._session)

    def _create_private_ws_with_handlers(self, handlers: PrivateWebsocketHandlers) -> GateioSpotPrivateWs:
        return GateioSpotPrivateWs(
            self.config, handlers, self.symbols_info, clock=self._private_rest.clock, session=self._session
        )

    async def place_market_order(
        self, symbol: Symbol, side: Side, quantity: float, *, client_order_id: str | None = None
    ) -> Order:
        """Gate sizes a market BUY in quote: send quantity x the price the book says it costs."""
        if side is Side.SELL:
            return await super().place_market_order(symbol, side, quantity, client_order_id=client_order_id)
        rest = self._require_private()
        price = self._expected_buy_price(symbol, quantity)
        cid = client_order_id or rest.new_client_order_id()
        return await self._place(
            rest, OrderRequest(symbol, side, OrderType.MARKET, quantity, price, TimeInForce.IOC, cid)
        )

    def _expected_buy_price(self, symbol: Symbol, quantity: float) -> float:
        """Average price of walking the synced asks for `quantity` (else the ticker's ask).

        Both are served only while the public stream keeps them current: never a stale price."""
        book = self.get_book(symbol)
        # A quantity that is not > 0 is the request's to refuse (InvalidOrder); the walk divides by it.
        if book is not None and quantity > 0:
            left, cost = quantity, 0.0
            for price, size in book.asks.top(None):
                take = min(left, size)
                cost += take * price
                left -= take
                if left <= 0:
                    return round_up(cost / quantity, self.symbols_info[symbol].tick_size)
        ticker = self.book_tickers.get(symbol)
        if ticker is None or ticker.ask_price is None:
            raise InvalidOrder(
                f"no ask for {symbol} to size a Gate market buy (book not synced, no live ticker)",
                venue=self.name,
                hint="wait until the public stream is back and the book synced, or place a limit order",
            )
        return ticker.ask_price
