"""The composite's collaborators on their own: no composite, no stream, no event loop beyond
the test's. The REST client is the in-memory fake; the composite's side is plain callables."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from cexarb.exchange.emitter import Emitter
from cexarb.exchange.fees import AccountFeeRates
from cexarb.exchange.fills import FillLedger
from cexarb.exchange.lostplace import LostPlaceResolver
from cexarb.exchange.orders import OrderTracker
from cexarb.exchange.recovery import StateRepairer
from cexarb.exchange.singleflight import SingleFlight
from cexarb.exchange.stats import FeeCounters, TradingStats
from cexarb.exchange.streamstate import StreamState
from cexarb.exchange.withdrawals import Withdrawals
from cexarb.model import (
    AccountFees,
    AssetBalance,
    ConnectionState,
    Execution,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    WithdrawalRequest,
)
from cexarb.model.errors import NetworkError, OrderStatusUnknown, WithdrawalError
from tests.exchange.fakes import BTC, FAST, Boom, FakePrivateRest, FakeVenue, resting
from tests.support import eventually

TRX_ADDRESS = "T" + "A" * 33


class Host:
    """The composite's side of an Emitter, recording what it was asked to do."""

    def __init__(self, tracker: OrderTracker) -> None:
        self.tracker = tracker
        self.orders: list[Order] = []
        self.fills: list[Execution] = []
        self.errors: list[BaseException] = []
        self.tasks: list[asyncio.Task] = []
        self.is_closed = False

    def apply(self, order: Order) -> Order | None:
        merged = self.tracker.apply(order)
        if merged is not None:
            self.orders.append(merged)
        return merged

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.append(task)
        return task

    def emitter(self) -> Emitter:
        return Emitter(
            "fake", self.apply, self.fills.append, self.spawn, self.errors.append, lambda: self.is_closed
        )

    async def stop(self) -> None:
        self.is_closed = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def pending(cid: str, quantity: float = 1.0) -> Order:
    return Order(BTC, "", cid, Side.BUY, OrderType.LIMIT, 100.0, quantity, OrderStatus.PENDING_NEW,
                 TimeInForce.GTC, remaining_quantity=quantity)  # fmt: skip


def fill(trade_id: str, timestamp: int) -> Execution:
    return Execution(BTC, trade_id, "1", "c1", Side.BUY, 100.0, 1.0, 0.0, "USDT", True, timestamp)


@pytest.fixture
async def host():
    host = Host(OrderTracker())
    yield host
    await host.stop()


# -- FillLedger ------------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: int, offset: float = 0.0) -> None:
        self.now, self.offset_ms = now, offset

    def now_ms(self) -> int:
        return self.now


def test_fill_ledger_drops_a_fill_seen_before_and_forgets_the_oldest_beyond_its_capacity():
    ledger = FillLedger(capacity=2, lookback_ms=0)
    assert ledger.record(fill("t1", 10)) and not ledger.record(fill("t1", 10))
    assert ledger.record(fill("t2", 11)) and ledger.record(fill("t3", 12))
    assert ledger.record(fill("t1", 10))  # pushed out by t3: counted again


def test_fill_ledger_asks_from_the_floor_then_from_before_the_last_fill_while_the_gap_stays_open():
    clock = Clock(now=100_000)
    ledger = FillLedger(capacity=10, lookback_ms=2_000)
    ledger.mark_floor(clock, since_init_ms=1_000)
    floor = 100_000 - 1_000 - 100  # 100 ms margin: the clock offset is measured, not exact
    assert ledger.since(BTC) == floor and ledger.gap_open
    ledger.record(fill("t1", 150_000))
    assert ledger.since(BTC) == floor  # the gap from initialize is still open
    ledger.close_gap()
    assert ledger.since(BTC) == 150_000 - 2_000
    clock.now = 160_000
    ledger.open_gap()
    assert ledger.since(BTC) == 148_000  # the last fill reaches further back than the break
    clock.offset_ms = -500.0  # the venue clock was measured to go back: reach back as far
    assert ledger.since(BTC) == 148_000 - 500


# -- StateRepairer ----------------------------------------------------------------------------------


def repairer(host: Host, venue: FakeVenue, stats: TradingStats, **kwargs) -> StateRepairer:
    rest = FakePrivateRest(venue)
    balances: list[dict] = []

    async def reload_balances():
        balances.append(await rest.get_balances())

    repair = StateRepairer(
        host.tracker,
        rest,
        FAST,
        host.emitter(),
        stats=stats,
        fills=FillLedger(100, 0),
        lookups=SingleFlight(),
        placing=set(),
        reload_balances=reload_balances,
        symbols=lambda: [BTC],
        **kwargs,
    )
    repair.balance_loads = balances  # type: ignore[attr-defined]
    return repair


async def test_repairer_follows_the_stream_through_a_drop_and_a_reconnect(host):
    stats = TradingStats()
    repair = repairer(host, FakeVenue(), stats)
    assert repair.state is StreamState.NEW and not repair.fresh
    repair.on_stream_state(ConnectionState.CONNECTED)
    repair.started(streaming=True)
    assert repair.state is StreamState.UP and repair.fresh
    repair.on_stream_state(ConnectionState.DISCONNECTED)
    assert repair.state is StreamState.DOWN and not repair.fresh and stats.private_disconnects == 1
    repair.on_stream_state(ConnectionState.DISCONNECTED)  # already down: not counted twice
    assert stats.private_disconnects == 1
    repair.on_stream_state(ConnectionState.CONNECTED)  # after a drop a connect is a reconnect
    assert repair.state is StreamState.UP and stats.private_reconnects == 1
    repair.close()
    assert repair.state is StreamState.DOWN and repair.rest_status == "closed" and not repair.fresh


async def test_repairer_sweep_settles_what_the_stream_missed(host):
    venue = FakeVenue()
    stats = TradingStats()
    repair = repairer(host, venue, stats)
    order = resting(venue, "1")
    host.tracker.apply(order)
    venue.fill(order.order_id, 1.0)  # no stream here: only a sweep can tell
    host.tracker.add_pending(pending("lost"))  # never reached the venue
    await repair.resync()
    assert host.tracker.get_executed(BTC, order.order_id).status is OrderStatus.FILLED
    assert "lost" not in host.tracker.pending
    assert [f.trade_id for f in host.fills] == [venue.trades[0].trade_id]
    assert stats.vanished_queried == 1 and stats.fills_recovered == 1 and stats.sweeps == 1
    assert len(repair.balance_loads) == 1 and repair.rest_status == "ok"
    # The same fill from a second sweep is not news.
    await repair.resync()
    assert len(host.fills) == 1
    # A sweep that fails marks REST failing and is retried until it answers.
    venue.fail["open_orders"] = Boom("rest down")
    repair.on_stream_state(ConnectionState.CONNECTED)
    repair.schedule_sweep()
    assert await eventually(lambda: stats.sweep_failures == 1 and stats.sweeps >= 4)
    assert repair.rest_status == "ok" and isinstance(host.errors[0], Boom)


async def test_repairer_recreates_a_stream_that_closed_on_its_own(host):
    restarts = []
    repair = None

    async def restart():
        restarts.append(1)
        repair.on_stream_state(ConnectionState.RECONNECTED)

    repair = repairer(host, FakeVenue(), TradingStats(), restart_stream=restart)
    repair.on_stream_state(ConnectionState.CONNECTED)
    repair.on_stream_state(ConnectionState.CLOSED)
    assert repair.state is StreamState.LOST
    assert await eventually(lambda: repair.state is StreamState.UP)
    assert restarts == [1]


# -- LostPlaceResolver ------------------------------------------------------------------------------


def resolver(host: Host, venue: FakeVenue, stats: TradingStats, settled: list[Order]) -> LostPlaceResolver:
    async def settle(order: Order) -> None:
        settled.append(order)

    return LostPlaceResolver(host.tracker, FakePrivateRest(venue), FAST, host.emitter(), stats=stats, settle_pending=settle)  # fmt: skip


async def test_resolver_finds_a_lost_place_by_its_client_id(host):
    venue = FakeVenue()
    stats = TradingStats()
    placed = resting(venue, "9")  # the venue has it; the reply saying so was lost
    host.tracker.add_pending(pending(placed.client_order_id))
    order = await resolver(host, venue, stats, []).resolve(
        BTC, placed.client_order_id, OrderStatusUnknown("timeout", venue="fake")
    )
    assert order.order_id == placed.order_id and host.tracker.get_open(BTC, placed.order_id) is not None
    assert placed.client_order_id not in host.tracker.pending
    assert stats.places_unknown == 1 and stats.places_resolved == 1


async def test_resolver_says_a_place_the_venue_answered_and_does_not_know_was_not_placed(host):
    stats = TradingStats()
    host.tracker.add_pending(pending("c1"))
    with pytest.raises(NetworkError, match="was not placed") as raised:
        await resolver(host, FakeVenue(), stats, []).resolve(BTC, "c1", NetworkError("502", venue="fake"))
    assert "safe to place the order again" in raised.value.hint
    assert "c1" not in host.tracker.pending and stats.places_resolved == 0


async def test_resolver_keeps_a_timed_out_place_pending_and_settles_it_later(host):
    settled: list[Order] = []
    host.tracker.add_pending(pending("c1"))

    async def settle(order: Order) -> None:
        settled.append(order)

    settings = replace(FAST, lost_place_settle_s=0.0)
    lost = LostPlaceResolver(host.tracker, FakePrivateRest(FakeVenue()), settings, host.emitter(), stats=TradingStats(), settle_pending=settle)  # fmt: skip
    with pytest.raises(OrderStatusUnknown, match="does not know the client id yet"):
        await lost.resolve(BTC, "c1", OrderStatusUnknown("timeout", venue="fake"))
    assert "c1" in host.tracker.pending  # the request may still land: it stays pending
    assert await eventually(lambda: [o.client_order_id for o in settled] == ["c1"])


# -- AccountFeeRates ---------------------------------------------------------------------------------


async def test_fee_rates_use_the_public_default_then_the_account_tier_and_the_token_rate_while_held():
    venue = FakeVenue()
    balances: dict[str, AssetBalance] = {}
    fees = AccountFeeRates("fake", venue.info, balances)
    assert fees.taker_fee(BTC) == venue.info[BTC].taker_fee
    venue.account_fees[BTC] = (-0.0001, 0.0004)
    await fees.reload(FakePrivateRest(venue), [BTC])
    assert fees.maker_fee(BTC) == -0.0001 and fees.taker_fee(BTC) == 0.0004
    fees.rates[BTC] = AccountFees(BTC, 0.001, 0.002, token="GT", token_maker=0.0005, token_taker=0.0015)
    assert fees.taker_fee(BTC) == 0.002  # no GT held
    balances["GT"] = AssetBalance("GT", 1.0)
    assert fees.taker_fee(BTC) == 0.0015
    gt_fill = Execution(BTC, "t", "1", "c", Side.BUY, 100.0, 2.0, 0.3, "GT", False, 1)
    assert fees.fee_value(gt_fill) == pytest.approx(100.0 * 2.0 * 0.0015)
    assert fees.stats() == FeeCounters(fee_loads=1, fee_load_errors=0, symbols_with_account_fees=1)


async def test_fee_rates_keep_the_previous_rates_when_the_venue_refuses():
    venue = FakeVenue()
    fees = AccountFeeRates("fake", venue.info, {})
    venue.account_fees[BTC] = (0.0, 0.0001)
    await fees.reload(FakePrivateRest(venue), [BTC])
    venue.fail["account_fees"] = NetworkError("fee endpoint down", venue="fake")
    assert (await fees.reload(FakePrivateRest(venue), [BTC]))[BTC].taker == 0.0001
    assert fees.load_errors == 1 and fees.taker_fee(BTC) == 0.0001


# -- Withdrawals -------------------------------------------------------------------------------------


def withdrawals(venue: FakeVenue, balances: dict, *, up: bool, reloads: list) -> Withdrawals:
    rest = FakePrivateRest(venue)

    async def reload_balances():
        reloads.append(1)
        balances.update(await rest.get_balances())

    return Withdrawals("fake", lambda: rest, balances, networks=rest.get_withdrawal_networks,
                       stream_up=lambda: up, reload_balances=reload_balances)  # fmt: skip


async def test_withdrawals_refuse_before_sending_and_reload_the_balance_without_a_stream():
    venue = FakeVenue()
    venue.balances["USDT"] = AssetBalance("USDT", 50.0)
    reloads: list = []
    balances: dict = {}
    live = withdrawals(venue, balances, up=True, reloads=reloads)
    with pytest.raises(WithdrawalError, match="exceeds the available balance"):
        await live.withdraw(WithdrawalRequest("USDT", 10.0, TRX_ADDRESS, "TRX"))  # the local balance: none
    assert reloads == [] and "withdraw" not in venue.calls
    polled = withdrawals(venue, balances, up=False, reloads=reloads)
    response = await polled.withdraw(WithdrawalRequest("USDT", 10.0, TRX_ADDRESS, "TRX"))
    assert reloads == [1] and venue.withdrawals[response.withdrawal_id].amount == 10.0
    with pytest.raises(WithdrawalError, match="below the network minimum"):
        await polled.withdraw(WithdrawalRequest("USDT", 1.0, TRX_ADDRESS, "TRX"))
