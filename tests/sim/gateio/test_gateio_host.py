"""Gate's REST host serves spot, futures, wallet, account and currencies from one base URL
(https://api.gateio.ws/api/v4, gateapi-python README "host"); only the USDT futures WebSocket has
a host of its own (wss://fx-ws.gateio.ws/v4/ws/usdt)."""

from __future__ import annotations

import aiohttp
from gate_sim_helpers import BTC

from cexarb.model import Side


async def test_one_rest_host_serves_both_markets_wallet_and_account(gate_host):
    client, public = gate_host.client, gate_host.public
    for path in ("/spot/currency_pairs", "/spot/currencies", "/futures/usdt/contracts", "/spot/time"):
        status, body, _ = await public.call("GET", path, signed=False)
        assert status == 200 and body, path
    for path, query in (
        ("/spot/accounts", None),
        ("/futures/usdt/accounts", None),
        ("/account/detail", None),
        ("/wallet/withdrawals", None),
        ("/spot/orders", {"currency_pair": "BTC_USDT", "status": "open"}),
        ("/futures/usdt/orders", {"contract": "BTC_USDT", "status": "open"}),
    ):
        status, body, _ = await client.call("GET", path, query)
        assert status == 200, (path, body)
    # each market's orders reach its own venue through the one host
    status, spot_order, _ = await client.call(
        "POST",
        "/spot/orders",
        body={"currency_pair": "BTC_USDT", "side": "buy", "amount": "0.01", "price": "50000"},
    )
    assert status == 201, spot_order
    status, fut_order, _ = await client.call(
        "POST", "/futures/usdt/orders", body={"contract": "BTC_USDT", "size": 1, "price": "50000"}
    )
    assert status == 201, fut_order
    assert [o.order_id for o in gate_host.venue.open_orders("k1", BTC)] == [spot_order["id"]]
    assert [o.order_id for o in gate_host.futures_venue.open_orders("k1", BTC)] == [str(fut_order["id"])]
    assert gate_host.futures_venue.open_orders("k1", BTC)[0].side is Side.BUY
    status, body, _ = await public.call("GET", "/nothing/here", signed=False)
    assert (status, body["label"]) == (404, "NOT_FOUND")


async def test_futures_ws_has_its_own_host_and_spot_ws_sits_with_rest(gate_host):
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(gate_host.base.replace("http", "ws") + "/ws/v4/")
        await ws.send_json({"time": 1, "channel": "spot.ping"})
        assert (await ws.receive_json(timeout=5))["channel"] == "spot.pong"
        await ws.close()
        ws = await http.ws_connect(gate_host.futures_ws)
        await ws.send_json({"time": 1, "channel": "futures.ping"})
        assert (await ws.receive_json(timeout=5))["channel"] == "futures.pong"
        await ws.close()
        async with http.get(gate_host.base + "/v4/ws/usdt") as resp:
            assert resp.status == 404  # not on the REST host
