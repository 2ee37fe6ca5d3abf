"""The fleet's risk ledger and kill switch against the real Redis (and the in-process twin)."""

from __future__ import annotations

import pytest

from cexarb.coord import Fill, FleetLimits, InProcessCoordinator, Reservation
from cexarb.coord.control import read_status, resume_fleet
from cexarb.coord.keys import FleetKeys
from tests.coord.helpers import crash, member
from tests.support import eventually

LIMITS = FleetLimits(max_unhedged_notional=100.0, max_exposure_notional=100.0, loss_limit=5.0)


def trade(rid: str, notional: float) -> Reservation:
    return Reservation(rid, notional, (("mexc_spot", "BTC", notional), ("gateio_spot", "BTC", -notional)))


@pytest.fixture
async def pair(redis_url, fleet):
    a = await member(redis_url, fleet, "a", LIMITS)
    b = await member(redis_url, fleet, "b", LIMITS)
    yield a, b
    await a.close()
    await b.close()


async def test_a_reservation_counts_for_every_member_until_it_settles(pair):
    a, b = pair
    assert await a.reserve(trade("a1", 60.0)) is None
    assert await b.reserve(trade("b1", 60.0)) == "fleet_unhedged"
    await a.settle("a1", [], unhedged=0.0)
    assert await b.reserve(trade("b1", 60.0)) is None
    status = await b.status()
    assert status.at_risk == pytest.approx(60.0)
    assert status.pending == {"mexc_spot:BTC": pytest.approx(60.0), "gateio_spot:BTC": pytest.approx(-60.0)}


async def test_an_unhedged_residual_holds_the_cap_until_it_is_flat(pair):
    a, b = pair
    assert await a.reserve(trade("a1", 50.0)) is None
    await a.settle("a1", [Fill("mexc_spot", "BTC", 0.5, 100.0)], unhedged=50.0)
    assert await b.reserve(trade("b1", 60.0)) == "fleet_unhedged"
    assert await b.reserve(trade("b2", 40.0)) is None
    await b.settle("b2", [], unhedged=0.0)
    await a.settle("a-hedge", [Fill("mexc_spot", "BTC", -0.5, 100.0)], unhedged=0.0)
    assert await b.reserve(trade("b3", 90.0)) is None


async def test_exposure_per_venue_and_asset_is_capped_and_reducing_is_allowed(pair):
    a, b = pair
    await a.settle("x", [Fill("mexc_spot", "BTC", 0.8, 100.0)], unhedged=0.0)
    more = Reservation("b1", 30.0, (("mexc_spot", "BTC", 30.0),))
    assert await b.reserve(more) == "fleet_exposure:mexc_spot:BTC"
    less = Reservation("b2", 30.0, (("mexc_spot", "BTC", -30.0),))
    assert await b.reserve(less) is None
    status = await b.status()
    assert status.exposure["mexc_spot:BTC"] == pytest.approx(80.0)


async def test_fleet_pnl_nets_an_asset_across_venues_and_the_loss_limit_halts_everyone(pair):
    a, b = pair
    await a.settle(
        "t1", [Fill("mexc_spot", "BTC", 1.0, 100.0, 0.1), Fill("gateio_spot", "BTC", -1.0, 101.0, 0.1)], 0.0
    )
    assert (await a.status()).pnl == pytest.approx(0.8)
    assert not b.halted
    # A loss of 6.8 on the next trade takes the fleet to -6.0, past the 5.0 limit.
    await b.settle(
        "t2", [Fill("mexc_spot", "BTC", 1.0, 104.0, 0.1), Fill("gateio_spot", "BTC", -1.0, 97.4, 0.1)], 0.0
    )
    await eventually(lambda: a.halted and b.halted, what="both members halted")
    assert "loss_limit" in a.halt_reason
    assert await a.reserve(trade("a9", 1.0)) == "kill_switch"


async def test_kill_switch_reaches_every_member_survives_a_restart_and_an_operator_resumes(
    redis_url, fleet, pair
):
    a, b = pair
    await a.halt("operator test")
    await eventually(lambda: b.halted, what="b halted")
    assert b.halt_reason == "operator test"
    late = await member(redis_url, fleet, "late", LIMITS)  # a member (re)starting later
    try:
        assert late.halted and late.halt_reason == "operator test"
        await resume_fleet(late.redis, FleetKeys(fleet))
        await eventually(lambda: not (a.halted or b.halted or late.halted), what="all resumed")
        assert await b.reserve(trade("b1", 10.0)) is None
    finally:
        await late.close()


async def test_a_dead_members_reservations_are_released_when_its_heartbeat_expires(redis_url, fleet):
    survivor = await member(redis_url, fleet, "survivor", LIMITS)
    doomed = await member(redis_url, fleet, "doomed", LIMITS)
    try:
        assert await doomed.reserve(trade("d1", 90.0)) is None
        assert await survivor.reserve(trade("s1", 20.0)) == "fleet_unhedged"
        await crash(doomed)
        await eventually(lambda: "doomed" in survivor.reaped, what="the dead member to be reaped")
        status = await survivor.status()
        assert status.at_risk == pytest.approx(0.0)
        assert [m.name for m in status.members] == ["survivor"]
        assert await survivor.reserve(trade("s1", 90.0)) is None
    finally:
        await survivor.close()


async def test_a_member_restarting_under_its_name_releases_its_previous_runs_reservations(redis_url, fleet):
    first = await member(redis_url, fleet, "m", LIMITS)
    assert await first.reserve(trade("r1", 70.0)) is None
    await crash(first)
    again = await member(redis_url, fleet, "m", LIMITS)  # before the old heartbeat expired
    try:
        status = await read_status(again.redis, FleetKeys(fleet))
        assert status.at_risk == pytest.approx(0.0)
        assert await again.reserve(trade("r2", 90.0)) is None
    finally:
        await again.close()


async def test_a_check_now_answers_as_reserve_books_nothing_and_book_now_books_it():
    c = InProcessCoordinator("solo", LIMITS)
    assert c.check_now(trade("1", 60.0)) == (True, None)
    assert c.ledger.at_risk == 0.0 and not c.ledger.reservations and not any(c.ledger.pending.values())
    c.book_now(trade("1", 60.0))
    assert c.ledger.at_risk == pytest.approx(60.0) and list(c.ledger.reservations) == ["1"]
    assert c.check_now(trade("2", 60.0)) == (True, "fleet_unhedged")
    assert await c.reserve(trade("2", 60.0)) == "fleet_unhedged"  # the same answer, awaited
    assert c.ledger.at_risk == pytest.approx(60.0) and list(c.ledger.reservations) == ["1"]
    await c.halt("stop")
    assert c.check_now(trade("3", 1.0)) == (True, "kill_switch")


async def test_in_process_coordinator_keeps_the_same_rules():
    c = InProcessCoordinator("solo", LIMITS)
    assert await c.reserve(trade("1", 60.0)) is None
    assert await c.reserve(trade("2", 60.0)) == "fleet_unhedged"
    await c.settle(
        "1", [Fill("mexc_spot", "BTC", 1.0, 104.0, 0.1), Fill("gateio_spot", "BTC", -1.0, 97.4, 0.1)], 0.0
    )
    assert c.halted and "loss_limit" in c.halt_reason
    assert await c.reserve(trade("3", 1.0)) == "kill_switch"
    await c.resume()
    assert await c.reserve(trade("3", 1.0)) is None
    assert [e.kind for e in c.events] == ["kill", "resume"]
