"""Risk limits, the stale-data guard and the kill switch."""

from __future__ import annotations

import math

from cexarb.arb.config import ArbConfig
from cexarb.arb.risk import RiskManager

from .helpers import BTC, book, spot_info


def test_stale_data_guard_blocks_desynced_stale_and_empty_books():
    risk = RiskManager(ArbConfig(stale_ms=500.0))
    info = spot_info()
    assert risk.book_problem(book("v", info, [(1.0, 1.0)], [(2.0, 1.0)], age_ms=100.0)) is None
    assert risk.book_problem(book("v", info, [(1.0, 1.0)], [(2.0, 1.0)], synced=False)) == "book_desynced"
    assert risk.book_problem(book("v", info, [(1.0, 1.0)], [(2.0, 1.0)], age_ms=501.0)) == "book_stale"
    assert risk.book_problem(book("v", info, [], [(2.0, 1.0)])) == "book_empty"


def test_kill_switch_trips_at_the_loss_limit_and_blocks_entries():
    risk = RiskManager(ArbConfig(loss_limit=50.0))
    assert not risk.check_pnl(-49.99)
    assert risk.entry_problem(0, 0.0) is None
    assert risk.check_pnl(-50.0)
    assert risk.halted and "loss_limit" in risk.halt_reason
    assert not risk.check_pnl(-80.0)  # trips once
    assert risk.entry_problem(0, 0.0) == "kill_switch"


def test_open_order_and_unhedged_caps():
    risk = RiskManager(ArbConfig(max_open_orders=4, max_unhedged_notional=1_000.0))
    assert risk.entry_problem(2, 0.0) is None
    assert risk.entry_problem(3, 0.0) == "max_open_orders"
    assert risk.entry_problem(0, 1_000.0) == "unhedged_exposure"


def test_room_names_the_binding_limit():
    cfg = ArbConfig(
        max_order_notional=1_000.0,
        max_unhedged_notional=800.0,
        max_position_notional=5_000.0,
        max_position={"BTC/USDT": 3.0},
    )
    risk = RiskManager(cfg)
    room = risk.room(BTC, 100.0, 0.0, 0.0, 0.0)
    assert (room.binding, room.quantity) == ("max_position_buy_venue", 3.0)
    room = risk.room(BTC, 100.0, 0.0, 0.0, 600.0)
    assert room.binding == "max_unhedged_notional" and math.isclose(room.quantity, 2.0)
    # Bought 2.5 already on the buy venue: only 0.5 more fits under the 3.0 cap.
    room = risk.room(BTC, 100.0, 2.5, 0.0, 0.0)
    assert room.binding == "max_position_buy_venue" and math.isclose(room.quantity, 0.5)
    room = risk.room(BTC, 100.0, 0.0, -3.0, 0.0)
    assert room.quantity == 0.0 and room.binding == "max_position_sell_venue"
    # Closing is never held back by position limits.
    assert risk.room(BTC, 100.0, 2.5, -3.0, 0.0, reducing=True).quantity == 8.0
