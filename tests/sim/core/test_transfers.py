"""Withdrawals between simulated venues arrive as deposits after the chain confirms; wrong
addresses and networks never arrive and are reported."""

from __future__ import annotations

import pytest

from cexarb.sim import SimConfig, Simulator
from cexarb.sim.engine import SimReject
from cexarb.sim.transfers import chain_of, make_address
from cexarb.sim.withdrawals import gateio_networks, mexc_networks
from tests.support import eventually


def test_addresses_fit_their_chains() -> None:
    for nets in (gateio_networks(), mexc_networks()):
        for per_asset in nets.values():
            for net in per_asset:
                address = make_address(chain_of(net.network), f"seed|{net.network}")
                assert net.address_ok(address), (net.network, address)


@pytest.fixture
async def sim():
    config = SimConfig(flow=False, admin=False, withdrawal_delay_s=0.1, deposit_confirm_s=0.2)
    async with Simulator(config) as simulator:
        yield simulator


async def test_withdrawal_to_another_venues_address_arrives_less_the_fee(sim) -> None:
    mexc, gate = sim.venue("mexc_spot"), sim.venue("gateio_spot")
    address = gate.deposit_address("k1", "USDT", "TRX")
    assert gate.deposit_address("k1", "usdt", "trx") == address  # stable
    before = gate.balances("k1")["USDT"].total
    sent = mexc.withdraw("k1", "USDT", 500.0, address, "TRC20")
    assert await eventually(lambda: any(not d.done for d in gate.deposits("k1")))  # seen, confirming
    assert gate.balances("k1")["USDT"].total == before
    assert await eventually(lambda: gate.deposits("k1") and gate.deposits("k1")[0].done)
    (deposit,) = gate.deposits("k1")
    assert deposit.amount == pytest.approx(500.0 - sent.fee) and deposit.network == "TRX"
    assert gate.balances("k1")["USDT"].total == pytest.approx(before + 500.0 - sent.fee)
    (transfer,) = sim.transfers.transfers
    assert transfer.status == "credited" and transfer.deposit_id == deposit.deposit_id
    assert sim.truth("gateio_spot", "k1").deposits == [deposit]
    for venue in (mexc, gate):  # each venue's books still balance
        totals = venue.asset_totals()
        assert totals["USDT"] == pytest.approx(venue.deposited["USDT"])


async def test_wrong_asset_or_unknown_address_never_arrives_and_is_reported(sim) -> None:
    mexc, gate = sim.venue("mexc_spot"), sim.venue("gateio_spot")
    eth_address = gate.deposit_address("k1", "ETH", "ETH")
    mexc.withdraw("k1", "USDT", 50.0, eth_address, "ERC20")  # right chain, wrong asset
    stranger = make_address("TRON", "nobody")
    mexc.withdraw("k1", "USDT", 50.0, stranger, "TRC20")
    lost = sim.transfers.lost
    assert [t.status for t in lost] == ["lost", "lost"]
    assert "USDT to the ETH deposit address" in lost[0].reason and "no simulated venue" in lost[1].reason
    # Gone from the source all the same, and nothing shows up on the other side.
    assert mexc.balances("k1")["USDT"].total == pytest.approx(100_000.0 - 100.0)
    assert await eventually(lambda: all(w.status.is_done for w in mexc.withdrawals("k1")))
    assert gate.deposits("k1") == []


async def test_deposit_address_needs_a_network_the_venue_takes(sim) -> None:
    with pytest.raises(SimReject):
        sim.venue("gateio_spot").deposit_address("k1", "USDT", "TRC20")  # MEXC's name, not Gate's
    assert sim.venue("gateio_futures").deposit_networks("USDT") == []
