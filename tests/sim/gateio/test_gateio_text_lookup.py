"""Gate finds an order by its client `text` only within a window (gateapi-python docs, get_order and
get_futures_order): spot while the order is open; futures while open and up to 60 s after it
finished. After that only the exchange id works."""

from __future__ import annotations

from gate_sim_helpers import BTC, KEY, MAKER

from cexarb.model import OrderType, Side, TimeInForce


def age(venue, order_id: str, ms: int) -> None:
    """Pretend the order finished `ms` earlier (the window is measured from its end)."""
    venue.account(KEY).orders[order_id].updated_at -= ms


async def test_spot_text_finds_an_open_order_only(spot_srv):
    client, venue = spot_srv.client, spot_srv.venue
    q = {"currency_pair": "BTC_USDT"}
    body = {"currency_pair": "BTC_USDT", "side": "buy", "amount": "0.01", "price": "50000", "text": "t-open1"}
    status, placed, _ = await client.call("POST", "/spot/orders", body=body)
    assert status == 201
    status, got, _ = await client.call("GET", "/spot/orders/t-open1", q)
    assert (status, got["id"]) == (200, placed["id"])
    status, _, _ = await client.call("DELETE", "/spot/orders/t-open1", q)
    assert status == 200
    # finished (canceled): the text no longer finds it, not even a moment later
    status, err, _ = await client.call("GET", "/spot/orders/t-open1", q)
    assert (status, err["label"]) == (404, "ORDER_NOT_FOUND")
    status, got, _ = await client.call("GET", f"/spot/orders/{placed['id']}", q)
    assert (status, got["status"], got["text"]) == (200, "cancelled", "t-open1")
    # an IOC that fills at once is never found by its text
    venue.place_order(MAKER, BTC, Side.SELL, OrderType.LIMIT, 0.01, 60000.0, TimeInForce.GTC)
    ioc = {**body, "price": "60000", "time_in_force": "ioc", "text": "t-ioc1"}
    status, filled, _ = await client.call("POST", "/spot/orders", body=ioc)
    assert (status, filled["status"]) == (201, "closed")
    status, err, _ = await client.call("GET", "/spot/orders/t-ioc1", q)
    assert (status, err["label"]) == (404, "ORDER_NOT_FOUND")
    # ... but the finished list and the fills carry the text
    status, finished, _ = await client.call("GET", "/spot/orders", {**q, "status": "finished"})
    assert "t-ioc1" in [o["text"] for o in finished]
    status, trades, _ = await client.call("GET", "/spot/my_trades", q)
    assert [t["order_id"] for t in trades if t["text"] == "t-ioc1"] == [filled["id"]]


async def test_futures_text_finds_an_order_until_60s_after_it_finished(fut_srv):
    client, venue = fut_srv.client, fut_srv.venue
    venue.place_order(MAKER, BTC, Side.SELL, OrderType.LIMIT, 0.01, 60000.0, TimeInForce.GTC)
    body = {"contract": "BTC_USDT", "size": 10, "price": "60000", "tif": "ioc", "text": "t-fut1"}
    status, filled, _ = await client.call("POST", "/futures/usdt/orders", body=body)
    assert (status, filled["status"]) == (201, "finished")
    status, got, _ = await client.call("GET", "/futures/usdt/orders/t-fut1")
    assert (status, got["id"]) == (200, filled["id"])  # within 60 s of its end
    age(venue, str(filled["id"]), 59_000)
    assert (await client.call("GET", "/futures/usdt/orders/t-fut1"))[0] == 200
    age(venue, str(filled["id"]), 2_000)  # now 61 s
    status, err, _ = await client.call("GET", "/futures/usdt/orders/t-fut1")
    assert (status, err["label"]) == (404, "ORDER_NOT_FOUND")
    status, got, _ = await client.call("GET", f"/futures/usdt/orders/{filled['id']}")
    assert (status, got["text"]) == (200, "t-fut1")
