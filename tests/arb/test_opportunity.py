"""Detection math: net edge after both taker fees, depth matching, sizing onto both grids."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from cexarb.arb.opportunity import (
    Kind,
    basis_close_candidate,
    basis_open_candidates,
    edge_bps,
    match_depth,
    net_edge,
    spot_spot_candidates,
)
from cexarb.arb.sizing import Rounded, common_lot, lot_terms, size_candidate, size_chunks
from cexarb.model import Side
from cexarb.model.rounding import is_on_grid, round_down

from .helpers import BTC, book, futures_info, spot_info

prices = st.floats(min_value=50.0, max_value=150.0)
qtys = st.floats(min_value=0.001, max_value=5.0)


def levels(descending: bool):
    return st.lists(st.tuples(prices, qtys), min_size=1, max_size=6).map(
        lambda lv: sorted({round(p, 1): q for p, q in lv}.items(), reverse=descending)
    )


def test_net_edge_subtracts_both_taker_fees():
    # buy 100 paying 0.2%, sell 101 paying 0.2%: 101*0.998 - 100*1.002 = 0.598
    assert math.isclose(net_edge(100.0, 0.002, 101.0, 0.002), 0.598)
    assert math.isclose(edge_bps(100.0, 0.002, 101.0, 0.002), 59.8)
    # A 0.3% gross spread does not pay 0.4% of fees.
    assert edge_bps(100.0, 0.002, 100.3, 0.002) < 0


@settings(max_examples=200, deadline=None)
@given(asks=levels(False), bids=levels(True), min_edge=st.floats(-50, 50), max_levels=st.integers(1, 6))
def test_match_depth_pairs_only_profitable_liquidity(asks, bids, min_edge, max_levels):
    chunks = match_depth(asks, 0.002, bids, 0.001, min_edge, max_levels)
    for ch in chunks:
        assert edge_bps(ch.buy_price, 0.002, ch.sell_price, 0.001) >= min_edge
        assert ch.quantity > 0
    # Walking best-first: buy prices never fall, sell prices never rise.
    assert [c.buy_price for c in chunks] == sorted(c.buy_price for c in chunks)
    assert [c.sell_price for c in chunks] == sorted((c.sell_price for c in chunks), reverse=True)
    total = sum(c.quantity for c in chunks)
    assert total <= sum(q for _, q in asks[:max_levels]) + 1e-9
    assert total <= sum(q for _, q in bids[:max_levels]) + 1e-9


@settings(max_examples=300, deadline=None)
@given(
    asks=levels(False),
    bids=levels(True),
    min_edge=st.floats(0, 30),
    cap=st.floats(0.0, 10.0),
    spot_step=st.sampled_from([0.0001, 0.001, 0.01]),
    contracts=st.sampled_from([0.0001, 0.01, 1.0]),
)
def test_sized_basis_trade_is_legal_on_both_venues_and_keeps_its_edge(
    asks, bids, min_edge, cap, spot_step, contracts
):
    spot = book("mexc_spot", spot_info(step=spot_step), [(p - 1, 1.0) for p, _ in asks], asks)
    perp = book("gateio_futures", futures_info(contract=contracts), bids, [(p + 1, 1.0) for p, _ in bids])
    for cand in basis_open_candidates(BTC, [spot, perp], min_edge, 6):
        opp = size_candidate(cand, cap)
        if isinstance(opp, str):
            assert opp in {"below_min_quantity", "thin_book", "below_min_notional", "incompatible_steps"}
            continue
        lot = common_lot(spot.info, perp.info)
        q = opp.quantity
        assert opp.buy.quantity == opp.sell.quantity == q
        assert 0 < q <= cap + 1e-9
        assert q <= sum(c.quantity for c in cand.chunks) + 1e-9
        assert is_on_grid(q, lot) and is_on_grid(q, spot_step) and is_on_grid(q, contracts)
        assert is_on_grid(opp.buy.price, 0.1) and is_on_grid(opp.sell.price, 0.1)
        assert (opp.buy.side, opp.sell.side) == (Side.BUY, Side.SELL)
        assert q * opp.buy.price >= spot.info.min_notional
        # Even if every unit filled at the worst limit price, the trade clears the threshold.
        assert edge_bps(opp.buy.price, 0.002, opp.sell.price, 0.0005) >= min_edge - 1e-6
        assert opp.expected_pnl >= q * opp.buy.price * min_edge / 1e4 - 1e-6


@settings(max_examples=300, deadline=None)
@given(
    asks=levels(False),
    bids=levels(True),
    cap=st.floats(0.0, 10.0),
    buy_step=st.sampled_from([0.0001, 0.001, 0.01]),
    sell_step=st.sampled_from([0.0001, 0.001, 0.01]),
)
def test_sizing_with_roundings_made_ahead_is_sizing(asks, bids, cap, buy_step, sell_step):
    """The prepared decision's sizing (size_chunks, the cap and the best ask rounded ahead)
    answers exactly what size_candidate answers on the same candidate."""
    buy = book("mexc_spot", spot_info(step=buy_step), [(p - 5, 1.0) for p, _ in asks], asks)
    sell = book("gateio_spot", spot_info(step=sell_step), bids, [(p + 5, 1.0) for p, _ in bids])
    for cand in spot_spot_candidates(BTC, [buy, sell], 0.0, 6):
        terms = lot_terms(cand.buy.info, cand.sell.info)
        assert terms is not None  # decimal steps nest
        ask = cand.buy.asks[0][0]
        rounded = Rounded(round_down(cap, terms.lot), ask, round_down(ask, cand.buy.info.tick_size))
        parts = (
            (cand.buy.venue, cand.buy.info, cand.buy.taker_fee),
            (cand.sell.venue, cand.sell.info, cand.sell.taker_fee),
        )
        answer = size_chunks(cand.kind, BTC, *parts, cand.edge_bps, cand.chunks, terms, cap, rounded)
        assert answer == size_candidate(cand, cap)


def test_spot_spot_finds_the_crossed_direction_only():
    info = spot_info()
    cheap = book("mexc_spot", info, [(59_990.0, 1.0)], [(60_000.0, 0.05), (60_200.0, 1.0)])
    rich = book("gateio_spot", info, [(60_400.0, 0.03), (60_300.0, 1.0)], [(60_410.0, 1.0)])
    cands = spot_spot_candidates(BTC, [cheap, rich], 1.0, 5)
    assert [(c.buy.venue, c.sell.venue) for c in cands] == [("mexc_spot", "gateio_spot")]
    opp = size_candidate(cands[0], 10.0)
    # Depth: 0.03 at 60400 then 0.02 more at 60300 against the 0.05 at 60000.
    assert opp.kind is Kind.SPOT_SPOT
    assert math.isclose(opp.quantity, 0.05)
    assert (opp.buy.price, opp.sell.price) == (60_000.0, 60_300.0)
    expected = 0.03 * net_edge(60_000.0, 0.002, 60_400.0, 0.002) + 0.02 * net_edge(
        60_000.0, 0.002, 60_300.0, 0.002
    )
    assert math.isclose(opp.expected_pnl, expected)


def test_sizing_caps_and_rounds_down_to_the_coarser_step():
    spot = book("mexc_spot", spot_info(step=0.001), [(99.0, 10.0)], [(100.0, 10.0)])
    perp = book("gateio_futures", futures_info(tick=0.01, contract=0.01), [(101.0, 10.0)], [(101.1, 10.0)])
    (cand,) = basis_open_candidates(BTC, [spot, perp], 1.0, 5)
    opp = size_candidate(cand, 0.0379)
    assert opp.quantity == 0.03
    assert size_candidate(cand, 0.009) == "below_min_quantity"


def test_below_min_notional_is_skipped():
    spot = book("mexc_spot", spot_info(step=0.0001), [(99.0, 1.0)], [(100.0, 1.0)])
    other = book("gateio_spot", spot_info(step=0.0001), [(102.0, 1.0)], [(103.0, 1.0)])
    (cand,) = spot_spot_candidates(BTC, [spot, other], 1.0, 5)
    assert size_candidate(cand, 0.005) == "below_min_notional"  # 0.5 USDT < 1 USDT


def test_basis_close_waits_for_the_basis_to_revert():
    spot_i, perp_i = spot_info(), futures_info()
    # Perp still 0.5% over spot: closing now would cost the basis plus fees.
    spot = book("mexc_spot", spot_i, [(100.0, 1.0)], [(100.1, 1.0)])
    perp = book("gateio_futures", perp_i, [(100.4, 1.0)], [(100.5, 1.0)])
    assert basis_close_candidate(BTC, spot, perp, -30.0, 5) is None
    # Converged: buying the perp at 100.1 and selling spot at 100.0 costs ~35 bps with fees.
    perp = book("gateio_futures", perp_i, [(100.0, 1.0)], [(100.1, 1.0)])
    cand = basis_close_candidate(BTC, spot, perp, -40.0, 5)
    assert cand is not None and cand.kind is Kind.BASIS_CLOSE
    opp = size_candidate(cand, 1.0)
    assert (opp.buy.venue, opp.buy.side, opp.buy.reduce_only) == ("gateio_futures", Side.BUY, True)
    assert (opp.sell.venue, opp.sell.reduce_only) == ("mexc_spot", False)
