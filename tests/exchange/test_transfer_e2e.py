"""A withdrawal from one venue to another's deposit address, through the real connectors: the
deposit shows on the destination's deposit history and in its streamed balance."""

from __future__ import annotations

import asyncio

import pytest

from cexarb.exchange.registry import create_exchange
from cexarb.model import Symbol, WithdrawalRequest
from cexarb.sim import SimConfig, Simulator
from tests.support import eventually

BTC = Symbol("BTC", "USDT")


@pytest.fixture
async def venues():
    config = SimConfig(flow=False, admin=False, withdrawal_delay_s=0.1, deposit_confirm_s=0.2)
    async with Simulator(config) as sim:
        client = sim.client_config("k1")
        opened = {
            "mexc_spot": create_exchange("mexc", "spot", client),
            "gateio_spot": create_exchange("gateio", "spot", client),
        }
        try:
            await asyncio.gather(*(ex.initialize([BTC]) for ex in opened.values()))
            yield sim, opened
        finally:
            for ex in opened.values():
                await ex.close()


async def test_networks_carry_fees_and_minimums(venues):
    _, ex = venues
    mexc = {n.network: n for n in await ex["mexc_spot"].get_withdrawal_networks("USDT")}
    gate = {n.network: n for n in await ex["gateio_spot"].get_withdrawal_networks("USDT")}
    assert (mexc["TRC20"].fee, mexc["TRC20"].min_amount, mexc["ERC20"].fee) == (1.0, 1.0, 3.0)
    assert (gate["TRX"].fee, gate["ETH"].fee) == (1.0, 3.0) and gate["TRX"].min_amount == 10.0
    addresses = {a.network: a.address for a in await ex["gateio_spot"].get_deposit_addresses("USDT")}
    assert set(addresses) == {"TRX", "ETH"}
    (only,) = await ex["mexc_spot"].get_deposit_addresses("USDT", "TRC20")
    assert only.network == "TRC20" and only.address.startswith("T")


@pytest.mark.parametrize(
    ("source", "dest", "asset", "amount", "out_net", "in_net"),
    [
        ("mexc_spot", "gateio_spot", "USDT", 250.0, "TRC20", "TRX"),
        ("gateio_spot", "mexc_spot", "BTC", 0.05, "BTC", "BTC"),
    ],
)
async def test_withdrawal_arrives_as_a_deposit(venues, source, dest, asset, amount, out_net, in_net):
    _, ex = venues
    (address,) = await ex[dest].get_deposit_addresses(asset, in_net)
    before = ex[dest].balances[asset].total
    sent = await ex[source].withdraw(WithdrawalRequest(asset, amount, address.address, out_net))
    fee = {n.network: n.fee for n in await ex[source].get_withdrawal_networks(asset)}[out_net]

    async def credited() -> bool:
        return any(d.credited for d in await ex[dest].get_deposits(asset))

    assert await eventually(credited)
    (deposit,) = await ex[dest].get_deposits(asset)
    assert deposit.amount == pytest.approx(amount - fee) and deposit.address == address.address
    assert deposit.network == in_net and deposit.tx_id

    async def streamed() -> bool:
        return ex[dest].balances[asset].total == pytest.approx(before + amount - fee)

    assert await eventually(streamed)
    assert sent.withdrawal_id
