"""Market-data structs: symbols, their trading rules, books, tickers, public trades."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from cexarb.model.enums import Side


class Symbol(msgspec.Struct, frozen=True, gc=False, order=True):
    base: str
    quote: str

    def __str__(self) -> str:
        return f"{self.base}/{self.quote}"

    @classmethod
    def parse(cls, text: str) -> Symbol:
        """Parse 'BTC/USDT', 'BTC_USDT' or 'BTC-USDT' (not 'BTCUSDT': that needs the venue's rules)."""
        for sep in ("/", "_", "-"):
            if sep in text:
                base, _, quote = text.partition(sep)
                if base and quote:
                    return cls(base.upper(), quote.upper())
        raise ValueError(f"cannot parse symbol {text!r}: write it as BASE/QUOTE, e.g. BTC/USDT")


class SymbolInfo(msgspec.Struct, frozen=True, gc=False):
    symbol: Symbol
    venue_symbol: str
    tick_size: float
    step_size: float
    min_quantity: float = 0.0
    min_notional: float = 0.0
    base_precision: int = 8
    quote_precision: int = 8
    maker_fee: float = 0.002
    taker_fee: float = 0.002
    # Base units per contract (Gate's quanto_multiplier); 1.0 for spot.
    contract_size: float = 1.0
    is_futures: bool = False
    active: bool = True


class OrderBook(msgspec.Struct, gc=False):
    """A snapshot: bids best-first (descending), asks best-first (ascending), as (price, qty).

    Either side may be empty (a thin, new, halted or just-swept market): `best_bid` /
    `best_ask` are then None. Never read `bids[0]` without checking the side has a level.
    """

    symbol: Symbol
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    # The venue's sequence id of this snapshot (Gate 'id', MEXC 'lastUpdateId'/version).
    update_id: int = 0
    timestamp: int = 0

    @property
    def best_bid(self) -> tuple[float, float] | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> tuple[float, float] | None:
        return self.asks[0] if self.asks else None


class BookDiff(msgspec.Struct, gc=False):
    """An incremental book update covering venue sequence ids [first_id, last_id].

    Quantities are absolute (0 removes the level), as on both Gate and MEXC. The levels are
    a list of (price, qty) pairs, or, for Gate spot frames the compiled reader took, a
    read-only sequence equal to that list (`_gatewire.Levels`, which the compiled ladder
    applies without building a tuple per level).
    """

    symbol: Symbol
    first_id: int
    last_id: int
    bids: Sequence[tuple[float, float]]
    asks: Sequence[tuple[float, float]]
    timestamp: int = 0


class BookTicker(msgspec.Struct, gc=False):
    """The best bid and ask of one symbol.

    A side with no order on it has price None and quantity 0.0 (Gate sends "" for it, MEXC
    an empty or zero price): "no quote" can never be mistaken for a price of 0. Venues do
    show one-sided books (thin, new, halted or just-swept markets) and the client forwards
    such updates as they come, so a consumer pricing off a ticker must check the side it
    needs (`bid_price is not None`) or use `mid`, which is None unless both sides quote.
    """

    symbol: Symbol
    bid_price: float | None
    bid_quantity: float
    ask_price: float | None
    ask_quantity: float
    timestamp: int = 0
    update_id: int = 0

    @property
    def mid(self) -> float | None:
        """Midpoint of best bid and ask; None while either side is empty."""
        bid, ask = self.bid_price, self.ask_price
        if bid is None or ask is None:
            return None
        return (bid + ask) / 2.0


class Trade(msgspec.Struct, gc=False):
    symbol: Symbol
    price: float
    quantity: float
    side: Side
    timestamp: int
    trade_id: str = ""
