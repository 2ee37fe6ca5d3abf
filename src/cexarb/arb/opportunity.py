"""Opportunity detection math: pure functions over book snapshots, no I/O.

An arbitrage buys on one venue and sells the same base asset on another. Its
edge per base unit, net of both legs' taker fees (the rates this account pays on each
venue, not the public default), is

    sell_price * (1 - sell_fee) - buy_price * (1 + buy_fee)

(a fee charged in base on a buy costs the same as one charged in quote, to
first order). `match_depth` walks both books best-first and pairs liquidity
while that edge stays above a threshold, which yields the quantity and the two
IOC limit prices for a trade of any size up to what the books show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

import msgspec

from cexarb.model import Symbol, SymbolInfo

Level = tuple[float, float]


class Kind(StrEnum):
    # Buy spot where cheap, sell spot where rich (inventory on both venues).
    SPOT_SPOT = "spot_spot"
    # Long spot on one venue, short the perpetual on another.
    BASIS_OPEN = "basis_open"
    # Sell that spot and buy the perpetual back once the basis has reverted.
    BASIS_CLOSE = "basis_close"


class VenueBook(msgspec.Struct, frozen=True):
    """What the engine knows about one symbol on one venue at decision time."""

    venue: str
    info: SymbolInfo
    bids: Sequence[Level]
    asks: Sequence[Level]
    age_ms: float
    synced: bool
    # The taker rate this account pays here (its tier, discount token); None: the public default.
    account_taker_fee: float | None = None

    @property
    def is_futures(self) -> bool:
        return self.info.is_futures

    @property
    def taker_fee(self) -> float:
        fee = self.account_taker_fee
        return self.info.taker_fee if fee is None else fee


class Chunk(msgspec.Struct, frozen=True):
    """A slice of paired liquidity: `quantity` bought at `buy_price`, sold at `sell_price`."""

    quantity: float
    buy_price: float
    sell_price: float


def net_edge(buy_price: float, buy_fee: float, sell_price: float, sell_fee: float) -> float:
    """Quote earned per base unit bought at buy_price and sold at sell_price, after taker fees."""
    return sell_price * (1.0 - sell_fee) - buy_price * (1.0 + buy_fee)


def edge_bps(buy_price: float, buy_fee: float, sell_price: float, sell_fee: float) -> float:
    if buy_price <= 0:
        return float("-inf")
    return net_edge(buy_price, buy_fee, sell_price, sell_fee) / buy_price * 1e4


def match_depth(
    asks: Sequence[Level],
    buy_fee: float,
    bids: Sequence[Level],
    sell_fee: float,
    min_edge_bps: float,
    max_levels: int,
) -> list[Chunk]:
    """Pair the buy venue's asks with the sell venue's bids, best first, while each pair's
    net edge is at least `min_edge_bps` of the buy price. Levels past `max_levels` are ignored."""
    chunks: list[Chunk] = []
    i = j = 0
    ask_left = asks[0][1] if asks else 0.0
    bid_left = bids[0][1] if bids else 0.0
    ask_levels, bid_levels = min(len(asks), max_levels), min(len(bids), max_levels)
    # edge_bps's arithmetic, its fee factors computed once (the same floats, the same result).
    buy_cost, sell_keep = 1.0 + buy_fee, 1.0 - sell_fee
    while i < ask_levels and j < bid_levels:
        ask_price, bid_price = asks[i][0], bids[j][0]
        if ask_price <= 0 or (bid_price * sell_keep - ask_price * buy_cost) / ask_price * 1e4 < min_edge_bps:
            break
        take = min(ask_left, bid_left)
        if take > 0:
            chunks.append(Chunk(take, ask_price, bid_price))
        ask_left -= take
        bid_left -= take
        if ask_left <= 0:
            i += 1
            ask_left = asks[i][1] if i < len(asks) else 0.0
        if bid_left <= 0:
            j += 1
            bid_left = bids[j][1] if j < len(bids) else 0.0
    return chunks


class Candidate(msgspec.Struct, frozen=True):
    """A pair of venues whose tops cross by at least the threshold (before sizing)."""

    kind: Kind
    symbol: Symbol
    buy: VenueBook
    sell: VenueBook
    edge_bps: float
    chunks: tuple[Chunk, ...]


def top_edge_bps(buy: VenueBook, sell: VenueBook) -> float:
    """Net edge of buying at `buy`'s best ask and selling at `sell`'s best bid."""
    if not buy.asks or not sell.bids:
        return float("-inf")
    return edge_bps(buy.asks[0][0], buy.taker_fee, sell.bids[0][0], sell.taker_fee)


def spot_spot_candidates(symbol: Symbol, books: Sequence[VenueBook], min_edge_bps: float, max_levels: int):
    """Every ordered pair of spot venues whose books cross by at least min_edge_bps net."""
    spots = [b for b in books if not b.is_futures]
    return _crossings(Kind.SPOT_SPOT, symbol, spots, spots, min_edge_bps, max_levels)


def basis_open_candidates(
    symbol: Symbol,
    books: Sequence[VenueBook],
    open_bps: float,
    max_levels: int,
    funding_bps: Mapping[str, float] | None = None,
):
    """Buy spot on one venue, sell the perpetual on another, when the net basis plus the funding
    the short expects until its close (`funding_bps` by perp venue) is rich enough."""
    spots = [b for b in books if not b.is_futures]
    perps = [b for b in books if b.is_futures]
    return _crossings(Kind.BASIS_OPEN, symbol, spots, perps, open_bps, max_levels, funding_bps)


def _crossings(
    kind: Kind,
    symbol: Symbol,
    buys: Sequence[VenueBook],
    sells: Sequence[VenueBook],
    min_edge_bps: float,
    max_levels: int,
    bonus_bps: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """Buy on each of `buys`, sell on each of `sells` (another venue), where the books cross by
    at least min_edge_bps net of taker fees (plus `bonus_bps` of the sell venue: expected funding)."""
    out: list[Candidate] = []
    for buy in buys:
        for sell in sells:
            if buy.venue == sell.venue:
                continue
            bonus = bonus_bps.get(sell.venue, 0.0) if bonus_bps else 0.0
            edge = top_edge_bps(buy, sell) + bonus
            if edge < min_edge_bps:
                continue
            chunks = match_depth(
                buy.asks, buy.taker_fee, sell.bids, sell.taker_fee, min_edge_bps - bonus, max_levels
            )
            if chunks:
                out.append(Candidate(kind, symbol, buy, sell, edge, tuple(chunks)))
    return out


def basis_close_candidate(
    symbol: Symbol, spot: VenueBook, perp: VenueBook, min_edge_bps: float, max_levels: int
) -> Candidate | None:
    """Sell the spot and buy the perpetual back when that trade's net edge reaches
    `min_edge_bps` (negative: the engine sets it from the entry edge, so that the round
    trip still earns what the config asks once the basis has reverted)."""
    edge = top_edge_bps(perp, spot)
    if edge < min_edge_bps:
        return None
    chunks = match_depth(perp.asks, perp.taker_fee, spot.bids, spot.taker_fee, min_edge_bps, max_levels)
    if not chunks:
        return None
    return Candidate(Kind.BASIS_CLOSE, symbol, perp, spot, edge, tuple(chunks))
