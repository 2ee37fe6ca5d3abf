"""Turn a candidate into two orderable legs: quantity on both venues' grids, IOC limit
prices on tick, symbol minimums met, capped by balances and risk room. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import NamedTuple

import msgspec

from cexarb.arb.opportunity import Candidate, Chunk, Kind, VenueBook, net_edge
from cexarb.model import AssetBalance, Side, Symbol, SymbolInfo
from cexarb.model.rounding import is_on_grid, round_down, round_up

# A chunk's quantity: summed without a generator's frame (sizing runs in the reflex).
_QUANTITY = attrgetter("quantity")
_INF = float("inf")


def base_step(info: SymbolInfo) -> float:
    """The quantity increment in base units (a futures order is a whole number of contracts)."""
    if info.is_futures:
        return max(info.step_size, info.contract_size)
    return info.step_size


def min_base_quantity(info: SymbolInfo) -> float:
    return max(info.min_quantity, base_step(info) if info.is_futures else 0.0)


def common_lot(a: SymbolInfo, b: SymbolInfo) -> float | None:
    """The coarser of the two steps when it is a multiple of the finer one (so one quantity
    is legal on both venues); None when the grids do not nest."""
    fine, coarse = sorted((base_step(a), base_step(b)))
    return coarse if is_on_grid(coarse, fine) else None


class Leg(msgspec.Struct, frozen=True):
    venue: str
    symbol: Symbol
    side: Side
    price: float
    quantity: float
    info: SymbolInfo
    reduce_only: bool = False

    @property
    def notional(self) -> float:
        return self.price * self.quantity


class Opportunity(msgspec.Struct, frozen=True):
    kind: Kind
    symbol: Symbol
    buy: Leg
    sell: Leg
    # Net edge at the top of both books, and the quote the sized trade should earn after fees.
    edge_bps: float
    expected_pnl: float
    # The best ask (buy venue) and best bid (sell venue) the decision saw: slippage is measured from these.
    buy_seen: float = 0.0
    sell_seen: float = 0.0

    @property
    def quantity(self) -> float:
        return self.buy.quantity

    @property
    def pair(self) -> str:
        return f"{self.buy.venue}>{self.sell.venue}"


def balance_cap(
    book: VenueBook, side: Side, price: float, balances: Mapping[str, AssetBalance], leverage: float
) -> float:
    """Most base units this account can trade on this leg with what is available now."""
    info = book.info
    quote = balances.get(info.symbol.quote)
    quote_free = quote.available if quote else 0.0
    if price <= 0:
        return 0.0
    if info.is_futures:
        # Margin for a new position; a reduce-only close needs none but is capped by the position.
        return quote_free * leverage / (price * (1.0 + max(book.taker_fee, 0.0)))
    if side is Side.BUY:
        return quote_free / (price * (1.0 + max(book.taker_fee, 0.0)))
    base = balances.get(info.symbol.base)
    return base.available if base else 0.0


class LotTerms(NamedTuple):
    """What sizing needs of the two legs' symbol rules: the quantity grid legal on both
    (`common_lot`) and the smallest quantity both venues take. Depends on the infos alone,
    so a caller that sizes one pair of venues again and again may compute it once."""

    lot: float
    minimum: float


def lot_terms(buy_info: SymbolInfo, sell_info: SymbolInfo) -> LotTerms | None:
    """The pair's `LotTerms`; None when the grids do not nest (no quantity is legal on both)."""
    lot = common_lot(buy_info, sell_info)
    if lot is None:
        return None
    return LotTerms(lot, max(min_base_quantity(buy_info), min_base_quantity(sell_info), lot))


def size_candidate(candidate: Candidate, max_quantity: float) -> Opportunity | str:
    """The largest trade the paired depth allows up to `max_quantity`, or why there is none."""
    buy, sell = candidate.buy, candidate.sell
    terms = lot_terms(buy.info, sell.info)
    if terms is None:
        return "incompatible_steps"
    return size_chunks(
        candidate.kind,
        candidate.symbol,
        (buy.venue, buy.info, buy.taker_fee),
        (sell.venue, sell.info, sell.taker_fee),
        candidate.edge_bps,
        candidate.chunks,
        terms,
        max_quantity,
    )


class Rounded(NamedTuple):
    """Two roundings sizing makes, made ahead by a caller that sizes one pair again and
    again (the reflex's prepared decision): `max_quantity` down to the lot (`capped`, the
    quantity when the cap binds) and the buy venue's best ask `ask` down to its tick
    (`buy_price`, the buy limit when the trade takes that level alone)."""

    capped: float
    ask: float
    buy_price: float


def size_chunks(
    kind: Kind,
    symbol: Symbol,
    buy: tuple[str, SymbolInfo, float],
    sell: tuple[str, SymbolInfo, float],
    edge_bps: float,
    chunks: Sequence[Chunk],
    terms: LotTerms,
    max_quantity: float,
    rounded: Rounded | None = None,
) -> Opportunity | str:
    """`size_candidate` on a candidate's parts (`buy`, `sell`: venue, info, taker fee), its
    `LotTerms` at hand: the reflex's prepared decision sizes without building a Candidate.
    `rounded`: roundings of this `max_quantity` and of the buy venue's best ask, made ahead
    (the same function of the same floats: the same answer, without the rounding's cost)."""
    buy_venue, buy_info, buy_fee = buy
    sell_venue, sell_info, sell_fee = sell
    lot, minimum = terms
    # One chunk (the reflex's trade) is its own depth: summed, 0 + its quantity is that float.
    depth = chunks[0].quantity if len(chunks) == 1 else sum(map(_QUANTITY, chunks))
    if rounded is not None and max_quantity <= depth:
        quantity = rounded.capped  # round_down(max_quantity, lot): min(depth, max_quantity)'s value
    else:
        quantity = round_down(min(depth, max_quantity), lot)
    if quantity < minimum - lot * 1e-9:
        return "below_min_quantity" if depth >= minimum else "thin_book"

    left = quantity
    buy_limit, sell_limit, pnl = 0.0, _INF, 0.0
    for ch in chunks:
        if left <= 0:
            break
        take = min(left, ch.quantity)
        buy_limit = max(buy_limit, ch.buy_price)
        sell_limit = min(sell_limit, ch.sell_price)
        pnl += take * net_edge(ch.buy_price, buy_fee, ch.sell_price, sell_fee)
        left -= take

    # On the tick, passive side (round_price): a buy never pays more, a sell never asks less.
    if rounded is not None and buy_limit == rounded.ask:
        buy_price = rounded.buy_price
    else:
        buy_price = round_down(buy_limit, buy_info.tick_size)
    sell_price = round_up(sell_limit, sell_info.tick_size)
    if quantity * buy_price < buy_info.min_notional or quantity * sell_price < sell_info.min_notional:
        return "below_min_notional"
    top = chunks[0]
    return Opportunity(
        kind,
        symbol,
        Leg(buy_venue, symbol, Side.BUY, buy_price, quantity, buy_info, kind is Kind.BASIS_CLOSE),
        Leg(sell_venue, symbol, Side.SELL, sell_price, quantity, sell_info),
        edge_bps,
        pnl,
        top.buy_price,
        top.sell_price,
    )
