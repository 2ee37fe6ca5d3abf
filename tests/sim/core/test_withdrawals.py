from __future__ import annotations

import time

import pytest

from cexarb.model import WithdrawalStatus
from cexarb.sim.engine import RejectReason, SimMarket, SimReject
from cexarb.sim.events import BalanceEvent
from cexarb.sim.venue import SimVenue
from cexarb.sim.withdrawals import gateio_networks

from .conftest import spot_markets

TRON = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"
EVM = "0x" + "ab" * 20


@pytest.fixture
def venue() -> SimVenue:
    v = SimVenue("gateio_spot", spot_markets(), networks=gateio_networks(), withdrawal_delay_s=0.05)
    v.add_account("a", "s", 1, {"USDT": 1000.0, "BTC": 1.0})
    return v


def test_withdrawal_debits_and_moves_to_done(venue: SimVenue) -> None:
    events = []
    venue.subscribe(events.append)
    w = venue.withdraw("a", "USDT", 100.0, TRON, "TRX")
    assert w.status is WithdrawalStatus.PENDING and w.fee == 1.0 and w.withdrawal_id
    assert venue.balances("a")["USDT"].available == 900.0
    assert venue.withdrawn["USDT"] == 100.0
    assert any(isinstance(e, BalanceEvent) and e.balance.available == 900.0 for e in events)
    deadline = time.monotonic() + 5
    status = w.status
    while time.monotonic() < deadline and status is not WithdrawalStatus.DONE:
        time.sleep(0.01)
        status = venue.withdrawals("a")[0].status
    assert status is WithdrawalStatus.DONE
    assert venue.withdrawals("a", "usdt")[0].tx_id
    assert venue.withdrawals("a", "BTC") == []


@pytest.mark.parametrize(
    ("asset", "amount", "address", "network", "reason"),
    [
        ("XRP", 10.0, TRON, "TRX", RejectReason.WITHDRAW_INVALID_ASSET),
        ("USDT", 10.0, TRON, "SOL", RejectReason.WITHDRAW_INVALID_NETWORK),
        ("USDT", 10.0, "not-an-address", "TRX", RejectReason.WITHDRAW_INVALID_ADDRESS),
        ("USDT", 10.0, TRON, "ETH", RejectReason.WITHDRAW_INVALID_ADDRESS),
        ("USDT", 5.0, EVM, "ETH", RejectReason.WITHDRAW_BELOW_MINIMUM),
        ("USDT", 5000.0, TRON, "TRX", RejectReason.INSUFFICIENT_BALANCE),
    ],
)
def test_withdrawal_validation(venue: SimVenue, asset, amount, address, network, reason) -> None:
    with pytest.raises(SimReject) as exc:
        venue.withdraw("a", asset, amount, address, network)
    assert exc.value.reason is reason
    assert venue.balances("a")["USDT"].available == 1000.0


def test_cancel_pending_withdrawal_refunds(venue: SimVenue) -> None:
    venue.wallet.desk.delay_s = 60.0
    w = venue.withdraw("a", "BTC", 0.01, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "btc")
    assert w.network == "BTC"
    canceled = venue.cancel_withdrawal("a", w.withdrawal_id)
    assert canceled.status is WithdrawalStatus.CANCELED
    assert venue.balances("a")["BTC"].available == 1.0
    assert venue.withdrawn["BTC"] == 0.0


def test_network_config_and_futures_has_none() -> None:
    v = SimVenue("x", spot_markets(), networks=gateio_networks())
    assert [n.network for n in v.network_config("usdt")] == ["TRX", "ETH"]
    f = SimVenue("f", [SimMarket(spot_markets()[0].symbol, 0.1, 1.0, 1.0, 0.0)], is_futures=True)
    f.add_account("a", "s", 1, {"USDT": 10.0})
    assert f.network_config("USDT") == []
    with pytest.raises(SimReject) as exc:
        f.withdraw("a", "USDT", 5.0, TRON, "TRX")
    assert exc.value.reason is RejectReason.WITHDRAW_INVALID_ASSET
