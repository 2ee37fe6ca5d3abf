"""MEXC venue symbols ("BTCUSDT") <-> `Symbol`, only ever from exchangeInfo's baseAsset/quoteAsset.

"BTCUSDT" cannot be split without the venue's rules, so every mapping comes
from a loaded `SymbolInfo`. `MexcSymbols` wraps the (possibly growing) dict a
composite hands to a connector; the module-level registry remembers every
symbol `codec.parse_symbol_info` has seen, for callers that have no dict.
"""

from __future__ import annotations

from collections.abc import Mapping

from cexarb.model import Symbol, SymbolInfo
from cexarb.model.errors import InvalidOrder, ProtocolError

_SEEN: dict[str, Symbol] = {}


def remember(info: SymbolInfo) -> None:
    _SEEN[info.venue_symbol] = info.symbol


def seen_symbol(venue_symbol: str) -> Symbol:
    """The Symbol of a venue symbol loaded by any exchangeInfo parse in this process."""
    try:
        return _SEEN[venue_symbol]
    except KeyError:
        raise ProtocolError(
            f"unknown MEXC symbol {venue_symbol!r}: load exchangeInfo (get_symbols_info) first",
            venue="mexc",
        ) from None


def venue_symbol_of(symbol: Symbol) -> str | None:
    for name, known in _SEEN.items():
        if known == symbol:
            return name
    return None


class MexcSymbols:
    """Both directions over a `dict[Symbol, SymbolInfo]` that its owner may extend later."""

    __slots__ = ("_infos", "_by_venue")

    def __init__(self, infos: Mapping[Symbol, SymbolInfo]) -> None:
        self._infos = infos
        self._by_venue: dict[str, Symbol] = {}

    @property
    def infos(self) -> Mapping[Symbol, SymbolInfo]:
        return self._infos

    def info(self, symbol: Symbol) -> SymbolInfo | None:
        return self._infos.get(symbol)

    def to_venue(self, symbol: Symbol) -> str:
        info = self._infos.get(symbol)
        if info is not None:
            return info.venue_symbol
        name = venue_symbol_of(symbol)
        if name is None:
            raise InvalidOrder(
                f"{symbol} is not a known MEXC symbol",
                venue="mexc",
                hint="load symbol info first (get_symbols_info) and use a listed symbol",
            )
        return name

    def from_venue(self, venue_symbol: str) -> Symbol:
        symbol = self._by_venue.get(venue_symbol)
        if symbol is not None:
            return symbol
        # The owner's dict may have grown since the last rebuild.
        self._by_venue = {info.venue_symbol: sym for sym, info in self._infos.items()}
        symbol = self._by_venue.get(venue_symbol)
        if symbol is not None:
            return symbol
        symbol = seen_symbol(venue_symbol)
        self._by_venue[venue_symbol] = symbol
        return symbol
