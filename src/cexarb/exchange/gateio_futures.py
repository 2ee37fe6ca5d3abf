"""Gate.io USDT-perpetual composites: factory methods only (contracts are the connector's job)."""

from __future__ import annotations

from cexarb.exchange.futures import CompositePrivateFuturesExchange, CompositePublicFuturesExchange
from cexarb.venues.contracts import PrivateWebsocketHandlers, PublicWebsocketHandlers
from cexarb.venues.gateio import (
    GateioFuturesPrivateRest,
    GateioFuturesPrivateWs,
    GateioFuturesPublicRest,
    GateioFuturesPublicWs,
)


class GateioFuturesPublicExchange(CompositePublicFuturesExchange):
    def _create_public_rest(self) -> GateioFuturesPublicRest:
        return GateioFuturesPublicRest(self.config, session=self._session)

    def _create_public_ws_with_handlers(self, handlers: PublicWebsocketHandlers) -> GateioFuturesPublicWs:
        return GateioFuturesPublicWs(self.config, handlers, self.symbols_info, session=self._session)


class GateioFuturesPrivateExchange(CompositePrivateFuturesExchange, GateioFuturesPublicExchange):
    """No withdrawals here: Gate withdraws from the spot wallet (GateioSpotPrivateExchange)."""

    def _create_private_rest(self) -> GateioFuturesPrivateRest:
        return GateioFuturesPrivateRest(self.config, self.symbols_info, session=self._session)

    def _create_private_ws_with_handlers(self, handlers: PrivateWebsocketHandlers) -> GateioFuturesPrivateWs:
        # Without a configured user id the stream reads it from the futures account (rest=).
        return GateioFuturesPrivateWs(
            self.config,
            handlers,
            self.symbols_info,
            self.config.user_id,
            rest=self._private_rest,
            session=self._session,
        )
