"""Gate wallet deposits on the wire: GET /wallet/deposit_address and /wallet/deposits
(gateapi-python docs DepositAddress, MultiChainAddressItem, LedgerRecord)."""

from __future__ import annotations

import re

from gate_sim_helpers import KEY

LEDGER_FIELDS = {"id", "txid", "timestamp", "amount", "currency", "address", "memo", "status", "chain"}


async def test_deposit_address_lists_every_chain(spot_srv):
    status, body, _ = await spot_srv.client.call("GET", "/wallet/deposit_address", {"currency": "usdt"})
    assert status == 200 and body["currency"] == "USDT"
    chains = {c["chain"]: c for c in body["multichain_addresses"]}
    assert set(chains) == {"TRX", "ETH"}
    assert re.fullmatch(r"T[1-9A-HJ-NP-Za-km-z]{33}", chains["TRX"]["address"])
    assert re.fullmatch(r"0x[0-9a-f]{40}", chains["ETH"]["address"])
    assert body["address"] == chains["TRX"]["address"]
    assert set(chains["TRX"]) == {"chain", "address", "payment_id", "payment_name", "obtain_failed"}
    _, again, _ = await spot_srv.client.call("GET", "/wallet/deposit_address", {"currency": "USDT"})
    assert again == body
    _, other, _ = await spot_srv.other.call("GET", "/wallet/deposit_address", {"currency": "USDT"})
    assert other["address"] != body["address"]  # per account
    status, err, _ = await spot_srv.client.call("GET", "/wallet/deposit_address")
    assert status == 400 and err["label"] == "MISSING_REQUIRED_PARAM"
    status, err, _ = await spot_srv.client.call("GET", "/wallet/deposit_address", {"currency": "DOGE"})
    assert status == 400 and err["label"] == "INVALID_CURRENCY"


async def test_deposits_go_from_pending_to_done(spot_srv):
    venue = spot_srv.venue
    address = venue.deposit_address(KEY, "USDT", "TRX")
    d = venue.begin_deposit(KEY, "USDT", 99.0, "TRX", address, "0xabc")
    _, pending, _ = await spot_srv.client.call("GET", "/wallet/deposits", {"currency": "USDT"})
    (item,) = pending
    assert set(item) >= LEDGER_FIELDS and item["status"] == "PEND" and item["amount"] == "99"
    assert item["chain"] == "TRX" and item["txid"] == "0xabc" and item["id"] == d.deposit_id
    before = venue.balances(KEY)["USDT"].available
    venue.complete_deposit(KEY, d.deposit_id)
    _, done, _ = await spot_srv.client.call("GET", "/wallet/deposits")
    assert done[0]["status"] == "DONE" and venue.balances(KEY)["USDT"].available == before + 99.0
    _, later, _ = await spot_srv.client.call("GET", "/wallet/deposits", {"from": int(item["timestamp"]) + 60})
    assert later == []
    _, none, _ = await spot_srv.other.call("GET", "/wallet/deposits")
    assert none == []


async def test_a_credited_deposit_is_pushed_as_a_deposit(spot_srv):
    import time

    from gate_sim_helpers import SECRET, sign_ws

    venue = spot_srv.venue
    ws = await spot_srv.session.ws_connect(f"{spot_srv.base}/ws/v4/")
    t = int(time.time())
    await ws.send_json(
        {
            "time": t,
            "channel": "spot.balances",
            "event": "subscribe",
            "auth": {
                "method": "api_key",
                "KEY": KEY,
                "SIGN": sign_ws(SECRET, "spot.balances", "subscribe", t),
            },
        }
    )
    assert (await ws.receive_json(timeout=2))["error"] is None
    d = venue.begin_deposit(KEY, "USDT", 7.0, "TRX", venue.deposit_address(KEY, "USDT", "TRX"), "0xe")
    venue.complete_deposit(KEY, d.deposit_id)
    push = await ws.receive_json(timeout=2)
    (item,) = push["result"]
    assert (item["currency"], item["change_type"]) == ("USDT", "deposit")
    assert float(item["total"]) == venue.balances(KEY)["USDT"].total
    await ws.close()
