"""Gate's account fee endpoints in Gate's shapes: /spot/fee, /wallet/fee, /futures/usdt/fee
(gateapi-python docs SpotFee.md, TradeFee.md, FuturesFee.md), signed, per account."""

from __future__ import annotations

from gate_sim_helpers import KEY

from cexarb.sim.fees import FeeTier

SPOT_FIELDS = {
    "user_id",
    "taker_fee",
    "maker_fee",
    "gt_discount",
    "gt_taker_fee",
    "gt_maker_fee",
    "loan_fee",
    "point_type",
    "debit_fee",
}


async def test_spot_and_wallet_fee_default_then_a_gt_tier(spot_srv):
    status, body, _ = await spot_srv.client.call("GET", "/spot/fee", {"currency_pair": "BTC_USDT"})
    assert status == 200 and set(body) == SPOT_FIELDS | {"currency_pair"}
    assert (body["maker_fee"], body["taker_fee"], body["gt_discount"]) == ("0.001", "0.002", False)
    assert body["gt_taker_fee"] == "0" and body["debit_fee"] == 3

    account = spot_srv.venue.account(KEY)
    account.maker_fee, account.taker_fee = 0.0008, 0.0009
    account.fee_tier = FeeTier(0.0008, 0.0009, token="GT", token_discount=0.25, token_price=20.0)
    account.fee_tiers = {"gateio_futures": FeeTier(maker=-0.0001, taker=0.0003)}
    status, body, _ = await spot_srv.client.call("GET", "/wallet/fee", {"currency_pair": "BTC_USDT"})
    assert status == 200 and "currency_pair" not in body
    assert (body["maker_fee"], body["taker_fee"], body["gt_discount"], body["debit_fee"]) == (
        "0.0008",
        "0.0009",
        True,
        1,
    )
    assert (body["gt_maker_fee"], body["gt_taker_fee"]) == ("0.0006", "0.000675")
    assert (body["futures_maker_fee"], body["futures_taker_fee"]) == ("-0.0001", "0.0003")
    assert body["delivery_taker_fee"] == "0.0003"
    # Another account still pays the default.
    _, other, _ = await spot_srv.other.call("GET", "/spot/fee")
    assert other["taker_fee"] == "0.002" and "currency_pair" not in other


async def test_fee_endpoints_are_signed_and_check_the_pair(spot_srv, fut_srv):
    status, body, _ = await spot_srv.public.call("GET", "/wallet/fee", signed=False)
    assert status == 401
    status, body, _ = await spot_srv.client.call("GET", "/spot/fee", {"currency_pair": "NOPE_USDT"})
    assert status == 400
    status, body, _ = await fut_srv.public.call("GET", "/futures/usdt/fee", signed=False)
    assert status == 401


async def test_futures_fee_is_a_map_by_contract(fut_srv):
    fut_srv.venue.account(KEY).maker_fee = -0.00005
    status, body, _ = await fut_srv.client.call("GET", "/futures/usdt/fee", {"contract": "BTC_USDT"})
    assert status == 200 and body == {"BTC_USDT": {"taker_fee": "0.0005", "maker_fee": "-0.00005"}}
    _, every, _ = await fut_srv.client.call("GET", "/futures/usdt/fee")
    assert set(every) == {"BTC_USDT", "ETH_USDT"}
