"""The reflex's decision, prepared before the crossing comes.

The engine's full decision (`ArbEngine._decide`: a view of every venue's book, every
candidate pair, the guard, the risk limits, sizing) costs ~14 us on a warm CPU and several
times that after a quiet spell, when its code and data have left the caches; the reflex
pays it between the frame that crosses and the first order written. Most of it does not
depend on the crossing: the size cap (risk room and both legs' balances) depends on the
buy venue's best ask and on account state only, and the crossing usually comes from the
other side (a bid lifted above a resting ask).

`ArmedDecisions` keeps, per symbol and ordered pair of spot venues, the size cap the
engine's own `size_cap` gave for a trade at the buy venue's best ask, with every input it
read. When a book change crosses, `decide` takes the one pair that crosses (nothing else
may: two candidates need the full decision's ranking), the live guard and entry checks,
the pair's top two levels (the trade must be one chunk deep, so the top levels decide it
all) and that cap if its inputs are unchanged, and sizes the trade as the engine's own
`sized` sizes a spot-spot candidate (`size_chunks`, on the candidate's parts without building
it, with the pair's lot terms and the roundings of the cap and the best ask made when the cap
was: every one of them a function of the cap's inputs). Its answer is the Opportunity the
full decision would choose, or None: then the full decision runs, as before
(tests/arb/test_armed.py compares the two on random books and account states, the state
changed between arming and deciding).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

from cexarb.arb.opportunity import Candidate, Chunk, Kind, VenueBook, edge_bps, match_depth
from cexarb.arb.sizing import LotTerms, Opportunity, Rounded, lot_terms, size_chunks
from cexarb.arb.strategies import strategy_for
from cexarb.model import Symbol, SymbolInfo
from cexarb.model.rounding import round_down

if TYPE_CHECKING:
    from cexarb.arb.engine import ArbEngine
    from cexarb.arb.views import TradingVenue
    from cexarb.exchange.book import L2Book


class _Venue(NamedTuple):
    name: str
    venue: TradingVenue


class _Setup(NamedTuple):
    """A symbol's venues as the full decision sees them (the engine's venue order)."""

    spots: tuple[_Venue, ...]
    perps: tuple[_Venue, ...]
    # Ordered (buy, sell) indexes into `spots` that a configured strategy trades.
    pairs: tuple[tuple[int, int], ...]
    # (spot, perp) indexes whose basis opening a configured strategy trades.
    basis: tuple[tuple[int, int], ...]


class _Cap(NamedTuple):
    """A pair's prepared size cap: what `size_cap` read (`_inputs`), its answer, the pair's
    `LotTerms` and the sizing's roundings of the cap and the best ask (all from those
    inputs: the infos, the ask; None: the grids do not nest)."""

    inputs: tuple
    binding: str
    cap: float
    terms: LotTerms | None
    rounded: Rounded | None


class _Top:
    """Levels best first, as a live ladder gives them (`top`)."""

    __slots__ = ("_levels",)

    def __init__(self, levels: list[tuple[float, float]]) -> None:
        self._levels = levels

    def top(self, depth: int) -> list[tuple[float, float]]:
        return self._levels[:depth]


class _Lifted:
    """A live book with one bid above all of its own: the rehearsal's crossing."""

    __slots__ = ("asks", "best_ask", "best_bid", "bids")

    def __init__(self, book: L2Book, bid: tuple[float, float]) -> None:
        self.asks, self.best_ask = book.asks, book.best_ask
        self.best_bid, self.bids = bid, _Top([bid, *book.bids.top(1)])


class ArmedDecisions:
    """Size caps prepared per (symbol, buy venue, sell venue), and the reflex's quick decision."""

    def __init__(self, engine: ArbEngine) -> None:
        self._engine = engine
        self._setups: dict[Symbol, _Setup] = {}
        # (symbol, buy index, sell index) -> the cap prepared for the pair.
        self._caps: dict[tuple[Symbol, int, int], _Cap] = {}

    def attach(self) -> None:
        """Learn each symbol's venues (after the engine's venues know their markets)."""
        engine, cfg = self._engine, self._engine.config
        self._setups.clear()
        self._caps.clear()
        for symbol in cfg.symbols:
            spots, perps = [], []
            for name, venue in engine.venues.items():
                info = venue.symbols_info.get(symbol)
                if info is not None:
                    (perps if info.is_futures else spots).append(_Venue(name, venue))
            if not cfg.enable_spot_spot or len(spots) < 2:
                continue
            pairs = tuple(
                (i, j)
                for i, buy in enumerate(spots)
                for j, sell in enumerate(spots)
                if i != j and strategy_for(cfg.strategies, Kind.SPOT_SPOT, buy.name, sell.name)
            )
            basis = ()
            if cfg.enable_basis:
                basis = tuple(
                    (i, k)
                    for i, spot in enumerate(spots)
                    for k, perp in enumerate(perps)
                    if strategy_for(cfg.strategies, Kind.BASIS_OPEN, spot.name, perp.name)
                )
            self._setups[symbol] = _Setup(tuple(spots), tuple(perps), pairs, basis)

    # -- prepared while nothing crosses ----------------------------------------------------
    def arm(self, symbol: Symbol) -> None:
        """Prepare `symbol`'s size caps for the current best asks and account state (kept as
        they are when nothing they read has changed)."""
        setup = self._setups.get(symbol)
        if setup is None:
            return
        for i, j in setup.pairs:
            buy, sell = setup.spots[i], setup.spots[j]
            book = buy.venue.get_book(symbol)
            ask = book.best_ask if book is not None else None
            key = (symbol, i, j)
            listed = symbol in buy.venue.symbols_info and symbol in sell.venue.symbols_info
            if ask is None or ask[0] <= 0 or not listed:
                self._caps.pop(key, None)
                continue
            fee = buy.venue.taker_fee(symbol)
            buy_info, sell_info = buy.venue.symbols_info[symbol], sell.venue.symbols_info[symbol]
            inputs = self._inputs(symbol, buy, sell, buy_info, sell_info, ask[0], fee)
            known = self._caps.get(key)
            if known is None or known.inputs != inputs:
                binding, cap = self._engine.size_cap(self._probe(symbol, buy, sell, ask, fee))
                terms = lot_terms(buy_info, sell_info)
                rounded = None
                if terms is not None:
                    capped = round_down(cap, terms.lot)
                    rounded = Rounded(capped, ask[0], round_down(ask[0], buy_info.tick_size))
                self._caps[key] = _Cap(inputs, binding, cap, terms, rounded)

    def _probe(
        self, symbol: Symbol, buy: _Venue, sell: _Venue, ask: tuple[float, float], fee: float
    ) -> Candidate:
        """A crossing as deep as any at `ask`: size_cap reads from it only the best ask, the
        worst chunk's prices (the ask; a positive sell price) and both books' terms."""
        price = ask[0]
        buy_book = VenueBook(buy.name, buy.venue.symbols_info[symbol], [], [ask], 0.0, True, fee)
        sell_info = sell.venue.symbols_info[symbol]
        sell_book = VenueBook(
            sell.name, sell_info, [(price * 2, math.inf)], [], 0.0, True, sell.venue.taker_fee(symbol)
        )
        return Candidate(
            Kind.SPOT_SPOT, symbol, buy_book, sell_book, 0.0, (Chunk(math.inf, price, price * 2),)
        )

    def _inputs(
        self,
        symbol: Symbol,
        buy: _Venue,
        sell: _Venue,
        buy_info: SymbolInfo,
        sell_info: SymbolInfo,
        ask_price: float,
        buy_fee: float,
    ) -> tuple:
        """Everything size_cap reads for a spot-spot trade besides the config: the price, the
        buy venue's fee and free quote, both infos, the sell venue's free base, both
        positions, exposure (the infos are the venues' own, read by the caller)."""
        engine = self._engine
        quote = buy.venue.balances.get(buy_info.symbol.quote)
        base = sell.venue.balances.get(sell_info.symbol.base)
        return (
            ask_price,
            buy_fee,
            buy_info,
            sell_info,
            quote.available if quote else 0.0,
            base.available if base else 0.0,
            engine.pnl.position(buy.name, symbol),
            engine.pnl.position(sell.name, symbol),
            engine.executor.exposure_notional,
        )

    # -- the crossing ----------------------------------------------------------------------
    def decide(self, symbol: Symbol, lifted: dict[int, _Lifted] | None = None) -> Opportunity | None:
        """The trade the full decision would start on `symbol` now, when it can be told from
        the prepared cap; None: it cannot (the full decision must run), or no trade.
        `lifted`: spot venues' books (by index) to decide on instead of the live ones."""
        setup = self._setups.get(symbol)
        engine = self._engine
        if setup is None or engine.has_basis_position(symbol):
            return None
        # Each book's best levels read once (the books cannot change during this call).
        books, bests, fees, infos = [], [], [], []
        for index, spot in enumerate(setup.spots):
            venue = spot.venue
            book = venue.get_book(symbol) if lifted is None or index not in lifted else lifted[index]
            info = venue.symbols_info.get(symbol)
            if book is None or info is None:
                # A desynced venue (the full decision shows it from its ticker), or one that no
                # longer lists the symbol (the full decision leaves it out).
                return None
            books.append(book)
            bests.append((book.best_bid, book.best_ask))
            fees.append(venue.taker_fee(symbol))
            infos.append(info)
        cfg = engine.config
        min_edge = cfg.min_edge_bps
        found = None
        for i, j in setup.pairs:
            ask, bid = bests[i][1], bests[j][0]
            if ask is None or bid is None:
                continue
            edge = edge_bps(ask[0], fees[i], bid[0], fees[j])
            if edge >= min_edge:
                if found is not None:
                    return None  # two candidates: the full decision ranks them
                found = (i, j, edge)
        if found is None or (setup.basis and self._basis_candidate(symbol, setup, books, fees)):
            return None
        i, j, edge = found
        buy, sell = setup.spots[i], setup.spots[j]
        # The guard's checks (RiskManager.book_problem) on the pair's books.
        if None in bests[i] or None in bests[j]:
            return None
        stale_ms = cfg.stale_ms
        if buy.venue.book_age_ms(symbol) > stale_ms or sell.venue.book_age_ms(symbol) > stale_ms:
            return None
        if engine.entry_refusal(symbol) is not None:
            return None
        asks, bids = books[i].asks.top(2), books[j].bids.top(2)
        for _, qty in (*asks, *bids):
            if qty <= 0:
                return None
        chunks = match_depth(asks, fees[i], bids, fees[j], min_edge, cfg.depth_levels)
        if len(chunks) != 1:
            return None  # one chunk from the top two levels is one chunk from the whole books
        known = self._caps.get((symbol, i, j))
        buy_info, sell_info = infos[i], infos[j]
        if known is None or known.inputs != self._inputs(
            symbol, buy, sell, buy_info, sell_info, asks[0][0], fees[i]
        ):
            return None
        if known.terms is None:
            return None  # incompatible steps: the full decision says so
        # engine.sized on a spot-spot Candidate of these parts, without building it.
        sized = size_chunks(
            Kind.SPOT_SPOT,
            symbol,
            (buy.name, buy_info, fees[i]),
            (sell.name, sell_info, fees[j]),
            edge,
            chunks,
            known.terms,
            known.cap,
            known.rounded,
        )
        return None if isinstance(sized, str) else sized

    def rehearse(self, symbol: Symbol, flip: bool) -> Opportunity | None:
        """`decide` on the live books with the first venue pair's sell venue bid lifted 1 %
        above its buy venue's ask (`flip`: the other way round): the reflex's code run as a
        crossing would run it, nothing changed. None: no prepared trade for that crossing."""
        setup = self._setups.get(symbol)
        if setup is None or not setup.pairs:
            return None
        i, j = setup.pairs[0]
        if flip:
            i, j = j, i
        buy, sell = setup.spots[i].venue.get_book(symbol), setup.spots[j].venue.get_book(symbol)
        ask = buy.best_ask if buy is not None else None
        if ask is None or sell is None:
            return None
        return self.decide(symbol, {j: _Lifted(sell, (ask[0] * 1.01, ask[1]))})

    def _basis_candidate(self, symbol: Symbol, setup: _Setup, books: list, fees: list[float]) -> bool:
        """Would the full decision also see a basis opening (or cannot tell)?"""
        if not setup.basis:
            return False
        engine = self._engine
        for i, k in setup.basis:
            perp = setup.perps[k]
            book = perp.venue.get_book(symbol)
            if book is None:
                return True
            ask, bid = books[i].best_ask, book.best_bid
            if ask is None or bid is None:
                continue
            funding = engine.expected_funding_bps(perp.name, symbol)
            if (
                edge_bps(ask[0], fees[i], bid[0], perp.venue.taker_fee(symbol)) + funding
                >= engine.config.basis_open_bps
            ):
                return True
        return False
