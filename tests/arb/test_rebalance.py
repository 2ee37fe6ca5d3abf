"""The rebalancer: its decisions (property-tested), and the loop that sends, tracks and books
transfers, against in-test wallets."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cexarb.arb.config import ArbConfig
from cexarb.arb.pnl import PnlBook
from cexarb.arb.rebalance import Rebalancer, Route, plan_transfer
from cexarb.arb.reconcile import VenueTruth, reconcile
from cexarb.arb.risk import RiskManager
from cexarb.model import (
    AssetBalance,
    DepositAddress,
    DepositRecord,
    WithdrawalNetwork,
    WithdrawalResponse,
    WithdrawalStatus,
)
from cexarb.model.errors import WithdrawalError
from cexarb.model.rounding import round_down

VENUES = ("a", "b", "c")


def route(source, dest, network="N1", fee=1.0, min_amount=0.0):
    return Route(source, dest, network, fee, min_amount, f"addr-{dest}-{network}", network)


@st.composite
def scenarios(draw):
    target = draw(st.floats(10, 10_000))
    low = target * draw(st.floats(0.1, 1.0))
    holdings = {v: draw(st.floats(0, 3 * target)) for v in VENUES}
    incoming = {v: draw(st.sampled_from([0.0, 0.0, draw(st.floats(0, target))])) for v in VENUES}
    routes = [
        route(s, d, f"N{i}", draw(st.floats(0, target / 5)), draw(st.floats(0, target)))
        for s, d in itertools.permutations(VENUES, 2)
        for i in range(draw(st.integers(0, 2)))
    ]
    return target, low, holdings, incoming, routes


@given(scenarios())
def test_plans_obey_every_rule(case) -> None:
    target, low, holdings, incoming, routes = case
    plan = plan_transfer("USDT", holdings, incoming, target, low, routes)
    effective = {v: holdings[v] + incoming[v] for v in VENUES}
    if plan is None:
        # Nothing to do, or no donor/route can do it.
        return
    r = plan.route
    assert r.source != r.dest and r in routes
    assert effective[r.dest] < low  # only a venue below its low mark (in-flight counted) receives
    assert holdings[r.source] - plan.amount >= target - 1e-9  # a donor never goes below target
    assert plan.amount >= r.min_amount and plan.amount > r.fee  # minimum met, fee covered
    assert effective[r.dest] + plan.arrives <= target + 1e-6  # no overshoot: up to the target

    def sent(x: Route) -> float:  # what the rebalancer would withdraw on x (8 decimals, down)
        return round_down(min(target - effective[r.dest] + x.fee, holdings[r.source] - target), 1e-8)

    usable = [
        x
        for x in routes
        if x.source == r.source and x.dest == r.dest and sent(x) >= x.min_amount and sent(x) > x.fee
    ]
    assert r.fee == min(x.fee for x in usable)  # the cheapest usable network


@given(scenarios())
def test_nobody_low_means_no_transfer(case) -> None:
    target, low, holdings, _, routes = case
    lifted = {v: max(h, low) for v, h in holdings.items()}
    assert plan_transfer("USDT", lifted, {}, target, low, routes) is None


def test_in_flight_counts_for_the_destination() -> None:
    routes = [route("a", "b")]
    holdings = {"a": 200.0, "b": 40.0}
    assert plan_transfer("USDT", holdings, {}, 100.0, 80.0, routes).amount == 60.0 + 1.0  # plus the fee
    assert plan_transfer("USDT", holdings, {"b": 50.0}, 100.0, 80.0, routes) is None


def test_network_choice_by_fee_and_minimum() -> None:
    cheap_but_high_min = route("a", "b", "TRX", fee=1.0, min_amount=100.0)
    dear = route("a", "b", "ETH", fee=3.0, min_amount=10.0)
    cheapest = route("a", "b", "SOL", fee=0.5, min_amount=0.0)
    holdings = {"a": 200.0, "b": 60.0}
    plan = plan_transfer("USDT", holdings, {}, 100.0, 80.0, [cheap_but_high_min, dear])
    assert plan.route is dear and plan.amount == 43.0  # 40 short, plus the 3 fee
    assert plan_transfer("USDT", holdings, {}, 100.0, 80.0, [dear, cheapest]).route is cheapest
    # Only what is over the donor's target moves, even if that leaves the needy venue short.
    small = plan_transfer("USDT", {"a": 110.0, "b": 0.0}, {}, 100.0, 80.0, [dear])
    assert small.amount == 10.0


class Wallet:
    """An in-test spot wallet: withdrawals debit at once, deposits are added by the test."""

    _ids = itertools.count(1)

    def __init__(self, name: str, balances: dict[str, float], fee: float = 1.0) -> None:
        self.name = name
        self.balances = {a: AssetBalance(a, q) for a, q in balances.items()}
        self.fee = fee
        self.deposits: list[DepositRecord] = []
        self.sent: list[WithdrawalResponse] = []
        self.refuse = False

    async def get_withdrawal_networks(self, asset):
        return [WithdrawalNetwork(asset, "TRC20", min_amount=1.0, fee=self.fee)]

    async def get_deposit_addresses(self, asset, network=None):
        return [DepositAddress(asset, "TRX", f"T-{self.name}-{asset}")]

    async def get_deposits(self, asset=None, since_ms=None):
        return [d for d in self.deposits if asset is None or d.asset == asset]

    async def withdraw(self, request):
        if self.refuse:
            raise WithdrawalError("refused", venue=self.name)
        bal = self.balances[request.asset]
        bal.available -= request.amount
        response = WithdrawalResponse(
            str(next(self._ids)),
            request.asset,
            request.amount,
            request.address,
            request.network,
            WithdrawalStatus.PENDING,
            fee=self.fee,
        )
        self.sent.append(response)
        return response

    def credit(self, w: WithdrawalResponse, *, credited=True) -> None:
        self.deposits.append(
            DepositRecord(f"d{w.withdrawal_id}", w.asset, w.amount - w.fee, "TRX", w.address, "0x", credited)
        )
        if credited:
            self.balances[w.asset].available += w.amount - w.fee


def make(targets=None, **cfg):
    mexc = Wallet("mexc_spot", {"USDT": 70_000.0, "BTC": 2.0})
    gate = Wallet("gateio_spot", {"USDT": 140_000.0, "BTC": 2.0})
    config = ArbConfig(rebalance_targets=targets or {"USDT": 100_000.0}, rebalance_low_fraction=0.9, **cfg)
    pnl = PnlBook()
    for w in (mexc, gate):
        pnl.add_venue(w.name, {a: b.total for a, b in w.balances.items()})
    risk = RiskManager(config)
    return Rebalancer({"mexc_spot": mexc, "gateio_spot": gate}, config, pnl, risk), mexc, gate, pnl, risk


async def test_sends_tracks_then_books_the_arrival() -> None:
    rb, mexc, gate, pnl, _ = make()
    await rb.step()
    (sent,) = gate.sent
    assert sent.amount == 30_001.0 and sent.address == "T-mexc_spot-USDT" and sent.network == "TRC20"
    assert rb.incoming("USDT") == {"mexc_spot": 30_000.0}
    await rb.step()  # under way: no second transfer of the asset
    assert len(gate.sent) == 1
    mexc.credit(sent, credited=False)  # seen, not confirmed yet
    await rb.step()
    assert rb.in_flight and not rb.stats.completed
    mexc.deposits.clear()
    mexc.credit(sent)
    await rb.step()
    assert not rb.in_flight and [t.dest for t in rb.stats.completed] == ["mexc_spot"]
    assert pnl.inventory("mexc_spot")["USDT"] == mexc.balances["USDT"].total == 100_000.0
    assert pnl.inventory("gateio_spot")["USDT"] == gate.balances["USDT"].total == 109_999.0
    snap = pnl.snapshot({})
    assert snap.transfer_fees == 1.0 and snap.total == -1.0  # the fee is the only cost
    truth = {
        "mexc_spot": VenueTruth(
            {"USDT": 70_000.0, "BTC": 2.0},
            {"USDT": 100_000.0, "BTC": 2.0},
            {},
            [],
            transfers={"USDT": 30_000.0},
        ),
        "gateio_spot": VenueTruth(
            {"USDT": 140_000.0, "BTC": 2.0},
            {"USDT": 109_999.0, "BTC": 2.0},
            {},
            [],
            transfers={"USDT": -30_001.0},
            transfer_fees={"USDT": 1.0},
        ),
    }
    rows = reconcile(pnl, {}, truth)
    assert all(r.agrees for r in rows), [r for r in rows if not r.agrees]
    assert any(r.item == "transfers USDT" for r in rows)


async def test_never_while_the_kill_switch_is_on() -> None:
    rb, _, gate, _, risk = make()
    risk.halt("test")
    await rb.step()
    assert gate.sent == [] and rb.stats.skipped_halted == 1


async def test_a_refused_withdrawal_is_counted_not_tracked() -> None:
    rb, _, gate, pnl, _ = make()
    gate.refuse = True
    await rb.step()
    assert rb.in_flight == [] and rb.stats.failures == 1
    assert pnl.transfers("gateio_spot") == {}


async def test_a_transfer_that_never_arrives_is_reported_and_stays_in_flight(caplog) -> None:
    rb, _, gate, _, _ = make(rebalance_timeout_s=60.0)
    await rb.step()
    (transfer,) = rb.in_flight
    transfer.started_ms -= 61_000  # sent a minute ago, nothing credited since
    with caplog.at_level("ERROR", logger="cexarb.arb.rebalance"):
        await rb.step()
    assert transfer.status == "overdue" and "rebalance_overdue" in caplog.text
    assert rb.incoming("USDT") == {"mexc_spot": 30_000.0}  # still counted in inventory
    assert len(gate.sent) == 1  # and nothing sent again while it is out


def test_config_reads_targets() -> None:
    from cexarb.arb.config import arb_config_from_mapping
    from cexarb.model.errors import ConfigError

    cfg = arb_config_from_mapping(
        {"rebalance_targets": {"btc": 2, "USDT": 1e5}, "rebalance_low_fraction": 0.5}
    )
    assert cfg.rebalance_targets == {"BTC": 2.0, "USDT": 100_000.0} and cfg.rebalance_low_fraction == 0.5
    for bad in ({"rebalance_targets": {"BTC": -1}}, {"rebalance_low_fraction": 1.5}):
        with pytest.raises(ConfigError):
            arb_config_from_mapping(bad)
