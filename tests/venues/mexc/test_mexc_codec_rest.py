"""REST codec against every MEXC spot REST sample of a kind the codec handles."""

from __future__ import annotations

import pytest
from mexc_samples import responses

from cexarb.model import OrderStatus, OrderType, Side, Symbol, TimeInForce, WithdrawalStatus
from cexarb.model.errors import ProtocolError
from cexarb.venues.mexc import codec
from cexarb.venues.mexc.symbols import seen_symbol

LTCBTC = Symbol("LTC", "BTC")


def test_exchange_info_doc_example_status_enabled_but_not_spot_tradable():
    (entry,) = responses("mexc_spot_rest_exchangeinfo.json", "/api/v3/exchangeInfo")[:1]
    info = codec.parse_symbol_info(entry)
    assert info.symbol == Symbol("TOMO3L", "USDT")
    assert info.venue_symbol == "TOMO3LUSDT"
    assert info.tick_size == 0.001 and info.quote_precision == 3
    assert info.step_size == 0.01 and info.base_precision == 2
    assert info.min_quantity == 0.0001  # baseSizePrecision is the minimum quantity
    assert info.min_notional == 5.0  # quoteAmountPrecision is the minimum notional
    assert info.maker_fee == 0.002 and info.taker_fee == 0.002
    assert info.active is False  # isSpotTradingAllowed false
    assert info.contract_size == 1.0 and not info.is_futures


def test_exchange_info_full_response():
    full = responses("mexc_spot_rest_exchangeinfo.json", "/api/v3/exchangeInfo")[1]
    (info,) = [codec.parse_symbol_info(e) for e in full["symbols"]]
    assert info.symbol == Symbol("BROCK", "USDT") and info.venue_symbol == "BROCKUSDT"
    assert info.tick_size == 0.00001 and info.step_size == 0.01
    assert info.min_quantity == 0.0 and info.min_notional == 1.0
    assert info.maker_fee == 0.0005 and info.taker_fee == 0.0005
    assert info.active is True
    # Learned from exchangeInfo: the venue symbol now resolves without guessing.
    assert seen_symbol("BROCKUSDT") == Symbol("BROCK", "USDT")


def test_symbol_split_comes_from_base_and_quote_assets_not_the_name():
    info = codec.parse_symbol_info(
        {
            "symbol": "ABCUSDCUSDT",
            "baseAsset": "ABCUSDC",
            "quoteAsset": "USDT",
            "baseAssetPrecision": 1,
            "quoteAssetPrecision": 4,
            "status": "1",
            "isSpotTradingAllowed": True,
        }
    )
    assert info.symbol == Symbol("ABCUSDC", "USDT")
    assert info.tick_size == 0.0001 and info.step_size == 0.1


def test_unknown_venue_symbol_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        seen_symbol("NOPEUSDT")


@pytest.mark.parametrize("account", responses("mexc_spot_rest_account.json", "/api/v3/account"))
def test_account_balances(account):
    balances = codec.parse_balances(account)
    assert set(balances) == {"NBNTEST", "MAIN"}
    assert balances["NBNTEST"].available == 1111078.0 and balances["NBNTEST"].locked == 33.0
    assert balances["MAIN"].available == 1020000.0 and balances["MAIN"].locked == 0.0
    assert balances["NBNTEST"].total == 1111111.0


def _create_responses():
    return [r for r in responses("mexc_spot_rest_orders.json", "/api/v3/order") if r and "transactTime" in r]


@pytest.mark.parametrize("raw", _create_responses())
def test_new_order_response(raw):
    order = codec.parse_order(raw, Symbol("MX", "USDT"))
    assert order.order_id == "06a480e69e604477bfb48dddd5f0b750"
    assert order.symbol == Symbol("MX", "USDT")
    assert order.side is Side.BUY and order.order_type is OrderType.LIMIT
    assert order.time_in_force is TimeInForce.GTC
    assert order.price == 0.1 and order.quantity == 50.0
    assert order.status is OrderStatus.NEW  # the create response has no status
    assert order.filled_quantity == 0.0 and order.remaining_quantity == 50.0
    assert order.created_at == 1666676533741 == order.updated_at
    assert order.client_order_id == ""


def _cancel_responses():
    return [
        r
        for r in responses("mexc_spot_rest_orders.json", "/api/v3/order")
        if r and r.get("status") == "CANCELED"
    ]


@pytest.mark.parametrize("raw", _cancel_responses())
def test_cancel_response_uses_orig_client_order_id(raw):
    order = codec.parse_order(raw, LTCBTC)
    assert order.order_id == "4"  # numeric in the doc example, always a string here
    assert order.client_order_id == "myOrder1"  # not the cancel request's clientOrderId
    assert order.status is OrderStatus.CANCELED
    assert order.price == 2.0 and order.quantity == 1.0 and order.filled_quantity == 0.0
    assert order.average_price == 0.0


def _query_responses():
    return [
        r for r in responses("mexc_spot_rest_orders.json", "/api/v3/order") if r and r.get("status") == "NEW"
    ]


@pytest.mark.parametrize("raw", _query_responses())
def test_query_order_including_qty_typo(raw):
    order = codec.parse_order(raw, LTCBTC)
    assert order.order_id == "1" and order.client_order_id == "myOrder1"
    assert order.status is OrderStatus.NEW
    assert order.quantity == 1.0  # "origQty" or the doc typo "Qty"
    assert order.price == 0.1 and order.remaining_quantity == 1.0
    assert order.created_at == 1499827319559 and order.updated_at == 1499827319559


def test_query_response_list_covers_typo_variant():
    assert any("Qty" in r for r in _query_responses())
    assert len(_query_responses()) == 2


@pytest.mark.parametrize("path", ["/api/v3/openOrders", "/api/v3/allOrders"])
def test_order_lists(path):
    lists = [r for r in responses("mexc_spot_rest_orders.json", path) if isinstance(r, list)]
    assert lists
    for items in lists:
        orders = [
            codec.parse_order(item, LTCBTC if item["symbol"] == "LTCBTC" else Symbol("BTC", "USDT"))
            for item in items
        ]
        for order, item in zip(orders, items, strict=True):
            assert order.order_id == str(item["orderId"])
            assert order.quantity == float(item["origQty"])


def test_cancel_all_response():
    items = [
        r
        for r in responses("mexc_spot_rest_orders.json", "/api/v3/openOrders")
        if r and r[0]["status"] == "CANCELED"
    ][0]
    orders = [codec.parse_order(i, Symbol("BTC", "USDT")) for i in items]
    assert [o.order_id for o in orders] == ["11", "13"]
    assert [o.client_order_id for o in orders] == ["E6APeyTJvkMvLMYMqu1KQ4", "A3EF2HCwxgZPFMrfwbgrhv"]
    assert orders[0].price == 0.089853 and orders[0].quantity == 0.178622
    assert all(o.status is OrderStatus.CANCELED for o in orders)


def test_order_without_symbol_argument_resolves_through_exchange_info():
    codec.parse_symbol_info(
        {
            "symbol": "LTCBTC",
            "baseAsset": "LTC",
            "quoteAsset": "BTC",
            "baseAssetPrecision": 2,
            "quoteAssetPrecision": 6,
            "status": "1",
            "isSpotTradingAllowed": True,
        }
    )
    order = codec.parse_order(_query_responses()[0])
    assert order.symbol == LTCBTC


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("NEW", OrderStatus.NEW),
        ("PARTIALLY_FILLED", OrderStatus.PARTIALLY_FILLED),
        ("FILLED", OrderStatus.FILLED),
        ("CANCELED", OrderStatus.CANCELED),
        ("PARTIALLY_CANCELED", OrderStatus.PARTIALLY_CANCELED),
    ],
)
def test_all_five_statuses(status, expected):
    raw = dict(
        _query_responses()[0], status=status, origQty="2", executedQty="0.5", cummulativeQuoteQty="0.06"
    )
    order = codec.parse_order(raw, LTCBTC)
    assert order.status is expected
    assert order.filled_quantity == 0.5 and order.remaining_quantity == 1.5
    assert order.average_price == pytest.approx(0.12)


@pytest.mark.parametrize(
    ("venue_type", "order_type", "tif"),
    [
        ("LIMIT", OrderType.LIMIT, TimeInForce.GTC),
        ("MARKET", OrderType.MARKET, TimeInForce.IOC),
        ("LIMIT_MAKER", OrderType.LIMIT_MAKER, TimeInForce.POST_ONLY),
        ("IMMEDIATE_OR_CANCEL", OrderType.LIMIT, TimeInForce.IOC),
        ("FILL_OR_KILL", OrderType.LIMIT, TimeInForce.FOK),
    ],
)
def test_order_types_round_trip(venue_type, order_type, tif):
    raw = dict(_query_responses()[0], type=venue_type, timeInForce=None)
    order = codec.parse_order(raw, LTCBTC)
    assert (order.order_type, order.time_in_force) == (order_type, tif)
    assert codec.order_type_param(order_type, tif) == venue_type


def test_post_only_tif_on_a_limit_order_is_limit_maker():
    assert codec.order_type_param(OrderType.LIMIT, TimeInForce.POST_ONLY) == "LIMIT_MAKER"


def test_malformed_order_is_protocol_error():
    with pytest.raises(ProtocolError):
        codec.parse_order({"orderId": "1", "side": "SIDEWAYS", "origQty": "1"}, LTCBTC)
    with pytest.raises(ProtocolError):
        codec.parse_order({"side": "BUY"}, LTCBTC)


@pytest.mark.parametrize("items", responses("mexc_spot_rest_mytrades.json", "/api/v3/myTrades"))
def test_my_trades(items):
    (ex,) = [codec.parse_execution(i, Symbol("BNB", "BTC")) for i in items]
    assert ex.trade_id == "fad2af9e942049b6adbda1a271f990c6"
    assert ex.order_id == "bb41e5663e124046bd9497a3f5692f39"
    assert ex.client_order_id == ""  # null
    assert ex.side is Side.BUY  # isBuyer
    assert ex.price == 4.000001 and ex.quantity == 12.0
    assert ex.fee == 10.1 and ex.fee_asset == "BNB"
    assert ex.is_maker is False and ex.timestamp == 1499865549590


@pytest.mark.parametrize("raw", responses("mexc_spot_rest_marketdata.json", "/api/v3/depth"))
def test_depth(raw):
    book = codec.parse_order_book(raw, Symbol("BTC", "USDT"))
    assert book.update_id == 1112416
    assert book.bids == [(15.0, 49999.0)] and book.asks == [(14.0, 1.0)]
    assert book.symbol == Symbol("BTC", "USDT") and book.timestamp == 0


def test_book_tickers():
    for raw in responses("mexc_spot_rest_marketdata.json", "/api/v3/ticker/bookTicker"):
        items = raw if isinstance(raw, list) else [raw]
        for item in items:
            t = codec.parse_book_ticker(item, Symbol("AE", "USDT"))
            assert (t.bid_price, t.bid_quantity, t.ask_price, t.ask_quantity) == (
                0.11001,
                115.59,
                0.11127,
                215.48,
            )


@pytest.mark.parametrize("raw", responses("mexc_spot_rest_marketdata.json", "/api/v3/time"))
def test_server_time(raw):
    assert codec.parse_server_time(raw) == 1645539742000
    assert codec.parse_server_time({"serverTime": "1645539742000"}) == 1645539742000


@pytest.mark.parametrize("items", responses("mexc_spot_rest_wallet.json", "/api/v3/capital/withdraw/history"))
def test_withdraw_history(items):
    (w,) = [codec.parse_withdrawal(i) for i in items]
    assert w.withdrawal_id == "bb17a2d452684f00a523c015d512a341"
    assert w.asset == "EOS" and w.network == "EOS" and w.address == "zzqqqqqqqqqq"
    assert w.amount == 10.0 and w.fee == 0.0
    assert w.status is WithdrawalStatus.PENDING  # 3 = WAIT
    assert w.tx_id.startswith("0x0ced593b")
    assert w.timestamp == 1665300874000


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (1, WithdrawalStatus.PENDING),
        (4, WithdrawalStatus.PROCESSING),
        (7, WithdrawalStatus.DONE),
        (8, WithdrawalStatus.FAILED),
        (9, WithdrawalStatus.CANCELED),
        (10, WithdrawalStatus.PROCESSING),
    ],
)
def test_withdraw_status_mapping(status, expected):
    raw = responses("mexc_spot_rest_wallet.json", "/api/v3/capital/withdraw/history")[0][0]
    assert codec.parse_withdrawal(dict(raw, status=status)).status is expected


@pytest.mark.parametrize("raw", responses("mexc_spot_rest_wallet.json", "/api/v3/capital/config/getall"))
def test_capital_config(raw):
    networks = codec.parse_asset_networks(raw)
    eos = networks["EOS"][0]
    assert eos.network == "EOS" and eos.withdraw_enabled is False and eos.deposit_enabled is True
    assert eos.withdraw_fee == 0.0001 and eos.withdraw_min == 0.001 and eos.withdraw_max == 10000.0
    assert eos.withdraw_multiple in (0.0, 0.000001)  # null in the doc, "0.000001" in the fixture
    # The published example lists a second network under EOS (its own coin says BTC).
    second = networks["EOS"][1]
    assert second.asset == "EOS" and second.network == "BTC"
    assert second.withdraw_enabled is True and second.withdraw_fee == 0.00001
    assert second.withdraw_min == 0.0001 and second.withdraw_max == 100.0
    assert second.name == "BTC-BSC"


# ---- deposits (MEXC spot v3 docs: "Deposit Address", "Deposit History" samples) ----


def test_deposit_address_and_history() -> None:
    address = codec.parse_deposit_address(
        {"coin": "USDT", "network": "TRC20", "address": "TXobiKkdciupZrhdvZyTSSLjE8CmZAufS", "memo": None}
    )
    assert (address.asset, address.network, address.memo) == ("USDT", "TRC20", "")
    item = {
        "amount": "50000",
        "coin": "EOS",
        "network": "EOS",
        "status": 5,
        "address": "0x20b7cf77db93d6ef1ab979c49142ec168427fdee",
        "txId": "01391d1c",
        "insertTime": 1659513342000,
        "unlockConfirm": "10",
        "confirmTimes": "241",
        "memo": "xxyy1122",
    }
    deposit = codec.parse_deposit(item)
    assert deposit.credited and deposit.deposit_id == "01391d1c" and deposit.amount == 50000.0
    assert deposit.timestamp == 1659513342000
    assert not codec.parse_deposit({**item, "status": 4}).credited
    with pytest.raises(ProtocolError):
        codec.parse_deposit_address({"coin": "USDT"})


def test_create_reply_with_only_the_ack_fields_builds_the_order_from_the_request():
    """MEXC may answer a create with only symbol, orderId, orderListId, transactTime: the
    order is what was sent, with the venue's id; a placed order is never an error."""
    from cexarb.model import Order, OrderStatus, OrderType, Side, Symbol, TimeInForce
    from cexarb.model.errors import ProtocolError
    from cexarb.venues.mexc.codec import parse_new_order

    btc = Symbol("BTC", "USDT")
    sent = Order(
        btc,
        "",
        "cid-1",
        Side.SELL,
        OrderType.LIMIT,
        61000.0,
        0.02,
        OrderStatus.NEW,
        TimeInForce.IOC,
        remaining_quantity=0.02,
    )
    ack = {"symbol": "BTCUSDT", "orderId": "C02__7", "orderListId": -1, "transactTime": 1700000000123}
    order = parse_new_order(ack, sent)
    assert (order.order_id, order.side, order.price, order.quantity, order.time_in_force) == (
        "C02__7",
        Side.SELL,
        61000.0,
        0.02,
        TimeInForce.IOC,
    )
    assert order.client_order_id == "cid-1" and order.created_at == 1700000000123
    full = {**ack, "price": "61000", "origQty": "0.02", "type": "IMMEDIATE_OR_CANCEL", "side": "SELL"}
    assert parse_new_order(full, sent).order_id == "C02__7"
    with pytest.raises(ProtocolError):
        parse_new_order({"symbol": "BTCUSDT"}, sent)
