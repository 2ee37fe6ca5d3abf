"""MEXC deposits on the wire: GET /api/v3/capital/deposit/address and /capital/deposit/hisrec
(MEXC spot v3 docs "Deposit Address (supporting network)", "Deposit History")."""

from __future__ import annotations

import re

from mexc_sim_helpers import KEY

HISREC_FIELDS = {
    "amount",
    "coin",
    "network",
    "status",
    "address",
    "addressTag",
    "txId",
    "insertTime",
    "unlockConfirm",
    "confirmTimes",
    "memo",
}


async def test_deposit_address_per_network(client, venue):
    status, body = await client.signed("GET", "/api/v3/capital/deposit/address", {"coin": "USDT"})
    assert status == 200
    by_net = {item["network"]: item for item in body}
    assert set(by_net) == {"TRC20", "ERC20"}
    assert set(by_net["TRC20"]) == {"coin", "network", "address", "memo"}
    assert re.fullmatch(r"T[1-9A-HJ-NP-Za-km-z]{33}", by_net["TRC20"]["address"])
    status, one = await client.signed(
        "GET", "/api/v3/capital/deposit/address", {"coin": "USDT", "network": "ERC20"}
    )
    assert one == [by_net["ERC20"]]
    status, bad = await client.signed(
        "GET", "/api/v3/capital/deposit/address", {"coin": "USDT", "network": "TRX"}
    )
    assert status == 400 and bad["code"] == 730002
    status, bad = await client.signed("GET", "/api/v3/capital/deposit/address", {})
    assert status == 400


async def test_deposit_history_status_moves_to_success(client, venue):
    address = venue.deposit_address(KEY, "USDT", "TRC20")
    d = venue.begin_deposit(KEY, "USDT", 25.5, "TRC20", address, "0xfeed")
    status, items = await client.signed("GET", "/api/v3/capital/deposit/hisrec", {"coin": "USDT"})
    (item,) = items
    assert set(item) == HISREC_FIELDS and item["status"] == 4 and item["amount"] == "25.5"
    venue.complete_deposit(KEY, d.deposit_id)
    status, items = await client.signed("GET", "/api/v3/capital/deposit/hisrec", {"status": 5})
    assert [i["txId"] for i in items] == ["0xfeed"]
    status, items = await client.signed(
        "GET", "/api/v3/capital/deposit/hisrec", {"startTime": item["insertTime"] + 60_000}
    )
    assert items == []
