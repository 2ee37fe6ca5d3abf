"""Builders shared by the arb tests."""

from __future__ import annotations

from cexarb.arb.opportunity import VenueBook
from cexarb.model import Symbol, SymbolInfo

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")


def spot_info(
    symbol: Symbol = BTC, tick: float = 0.1, step: float = 0.0001, fee: float = 0.002
) -> SymbolInfo:
    return SymbolInfo(
        symbol,
        f"{symbol.base}_{symbol.quote}",
        tick,
        step,
        min_quantity=step,
        min_notional=1.0,
        taker_fee=fee,
    )


def futures_info(
    symbol: Symbol = BTC, tick: float = 0.1, contract: float = 0.0001, fee: float = 0.0005
) -> SymbolInfo:
    return SymbolInfo(
        symbol,
        f"{symbol.base}_{symbol.quote}",
        tick,
        contract,
        min_quantity=contract,
        taker_fee=fee,
        contract_size=contract,
        is_futures=True,
    )


def book(venue: str, info: SymbolInfo, bids, asks, age_ms: float = 10.0, synced: bool = True) -> VenueBook:
    return VenueBook(venue, info, list(bids), list(asks), age_ms, synced)
