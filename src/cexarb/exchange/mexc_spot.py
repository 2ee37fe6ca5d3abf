"""MEXC spot composites: factory methods plus MEXC's quirks, nothing else."""

from __future__ import annotations

from cexarb.exchange.public import CompositePublicExchange
from cexarb.exchange.withdrawals import WithdrawingPrivateExchange
from cexarb.model import Symbol, SymbolInfo, WithdrawalNetwork
from cexarb.venues.contracts import PrivateWebsocketHandlers, PublicWebsocketHandlers
from cexarb.venues.mexc import MexcSpotPrivateRest, MexcSpotPrivateWs, MexcSpotPublicRest, MexcSpotPublicWs


class MexcSpotPublicExchange(CompositePublicExchange):
    def _create_public_rest(self) -> MexcSpotPublicRest:
        return MexcSpotPublicRest(self.config, session=self._session)

    def _create_public_ws_with_handlers(self, handlers: PublicWebsocketHandlers) -> MexcSpotPublicWs:
        return MexcSpotPublicWs(self.config, handlers, self.symbols_info, session=self._session)


class MexcSpotPrivateExchange(WithdrawingPrivateExchange, MexcSpotPublicExchange):
    def __init__(self, config, **kwargs) -> None:
        super().__init__(config, **kwargs)
        # MEXC needs a symbol on every order query, so "all open orders" means all of the
        # symbols handed to the connector: only the ones traded here, not the whole venue.
        self._traded: dict[Symbol, SymbolInfo] = {}

    def _create_private_rest(self) -> MexcSpotPrivateRest:
        self._traded.clear()
        self._traded.update({s: self.symbols_info[s] for s in self._symbols})
        return MexcSpotPrivateRest(self.config, self._traded, session=self._session)

    def _create_private_ws_with_handlers(self, handlers: PrivateWebsocketHandlers) -> MexcSpotPrivateWs:
        return MexcSpotPrivateWs(
            self.config, handlers, self._traded, self._private_rest, session=self._session
        )

    async def add_symbol(self, symbol: Symbol) -> None:
        """Stream `symbol` and add it to the symbols the private connector queries orders for."""
        await super().add_symbol(symbol)
        self._traded[symbol] = self.symbols_info[symbol]

    async def remove_symbol(self, symbol: Symbol) -> None:
        """Stop streaming `symbol`; its orders stay queried while it still has open ones."""
        await super().remove_symbol(symbol)
        if not self.open_orders.get(symbol):
            self._traded.pop(symbol, None)

    async def _withdrawal_networks(self, asset: str) -> list[WithdrawalNetwork] | None:
        networks = await self._require_private().get_asset_networks([asset])
        return [
            WithdrawalNetwork(
                asset=asset,
                network=n.network,
                min_amount=n.withdraw_min,
                fee=n.withdraw_fee,
                withdraw_enabled=n.withdraw_enabled,
            )
            for n in networks.get(asset, ())
        ]
