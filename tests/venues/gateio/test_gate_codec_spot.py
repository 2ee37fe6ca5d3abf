"""Every Gate spot sample the codec handles, parsed with field-level assertions."""

import pytest
from gate_samples import load_samples, sample

from cexarb.model import (
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
)
from cexarb.model.errors import ProtocolError
from cexarb.venues.gateio import codec

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")


def test_currency_pairs_every_sample():
    entries = load_samples("gate_spot_rest_currency_pairs")
    assert len(entries) == 3
    for entry in entries:
        resp = entry["response"]
        for pair in resp if isinstance(resp, list) else [resp]:
            info = codec.parse_symbol_info(pair)
            assert info.symbol == ETH
            assert info.venue_symbol == "ETH_USDT"
            assert info.tick_size == pytest.approx(1e-6)
            assert info.step_size == pytest.approx(1e-3)
            assert info.min_quantity == 0.001
            assert info.min_notional == 1.0
            assert info.base_precision == 3 and info.quote_precision == 6
            assert info.taker_fee == pytest.approx(0.002) and info.maker_fee == pytest.approx(0.002)
            assert info.active and not info.is_futures and info.contract_size == 1.0


def test_untradable_pair_is_inactive_and_null_minimums_are_zero():
    info = codec.parse_symbol_info(
        {
            "id": "FOO_USDT",
            "precision": 2,
            "amount_precision": 0,
            "trade_status": "sellable",
            "min_base_amount": None,
        }
    )
    assert not info.active
    assert info.min_quantity == 0.0 and info.step_size == 1.0 and info.tick_size == pytest.approx(0.01)


def test_balances():
    balances = codec.parse_balances(sample("gate_spot_rest_accounts", "GetBalances"))
    assert list(balances) == ["ETH"]
    assert balances["ETH"].available == 968.8 and balances["ETH"].locked == 0.0


def test_order_book_with_id():
    book = codec.parse_order_book(sample("gate_spot_rest_marketdata", "GetOrderBook"), BTC)
    assert book.update_id == 123456
    assert book.timestamp == 1623898993123
    assert book.asks == [(1.52, 1.151), (1.53, 1.218)]
    assert book.bids == [(1.17, 201.863), (1.16, 725.464)]
    assert book.best_bid == (1.17, 201.863)


def test_ticker():
    item = sample("gate_spot_rest_marketdata", "GetTickers")[0]
    t = codec.parse_ticker(item, Symbol("BTC3L", "USDT"))
    assert t.bid_price == 2.4606821 and t.ask_price == 2.477
    assert t.bid_quantity == 0.0 and t.ask_quantity == 0.0  # sizes only on single-pair queries


def test_my_trades_item_without_pair_takes_the_given_symbol():
    raw = sample("gate_spot_rest_my_trades", "GetUserTrades")[0]
    ex = codec.parse_execution(raw, symbol=BTC)
    assert ex.symbol == BTC
    assert ex.trade_id == "1232893232" and ex.order_id == "4128442423"
    assert ex.client_order_id == "t-test"
    assert ex.side is Side.BUY and ex.is_maker
    assert ex.quantity == 0.15 and ex.price == 0.03
    assert ex.fee == 0.0005 and ex.fee_asset == "ETH"
    assert ex.timestamp == 1548000000123


def test_my_trades_item_without_pair_and_without_symbol_is_a_protocol_error():
    raw = sample("gate_spot_rest_my_trades", "GetUserTrades")[0]
    with pytest.raises((ProtocolError, ValueError)):
        codec.parse_execution(raw)


FILLED_ORDER_SAMPLES = [
    "CancelAllOders",
    "CancelOrder:",
    "EditOrder:",
    "GetOrder:",
    "GetOrders:",
    "PlaceOrder:",
]


@pytest.mark.parametrize("name", FILLED_ORDER_SAMPLES)
def test_closed_filled_limit_orders(name):
    resp = sample("gate_spot_rest_orders", name)
    raw = resp[0] if isinstance(resp, list) else resp
    order = codec.parse_order(raw)
    assert order.symbol == BTC
    assert order.order_id == "1852454420"
    assert order.client_order_id == "t-abc123"
    assert order.side is Side.BUY and order.order_type is OrderType.LIMIT
    assert order.time_in_force is TimeInForce.GTC
    assert order.price == 65000.0 and order.quantity == 0.001
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == 0.001 and order.remaining_quantity == 0.0
    assert order.average_price == 63469.3
    assert order.fee == 0.00000022 and order.fee_asset == "BTC"
    assert order.created_at == 1710488334073 and order.updated_at == 1710488334074


def test_stp_finished_order_with_a_partial_fill_is_partially_canceled():
    raw = sample("gate_spot_rest_orders", "PlaceMultipleOrder")[0]
    order = codec.parse_order(raw)
    assert order.symbol == Symbol("ETC", "BTC")
    assert order.status is OrderStatus.PARTIALLY_CANCELED
    assert order.remaining_quantity == 0.5
    assert order.filled_quantity == 1.242  # as reported by the venue
    assert order.client_order_id == "t-123456"


def test_amend_batch_item():
    order = codec.parse_order(sample("gate_spot_rest_orders", "EditMultipleOrder")[0])
    assert order.order_id == "12332324" and order.status is OrderStatus.PARTIALLY_CANCELED


def test_open_orders_nested_items_without_filled_amount():
    group = sample("gate_spot_rest_orders", "GetOpenOrders")[0]
    assert group["currency_pair"] == "ETH_BTC"
    order = codec.parse_order(group["orders"][0])
    assert order.symbol == Symbol("ETH", "BTC")
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.quantity == 1.0 and order.remaining_quantity == 0.5 and order.filled_quantity == 0.5
    assert order.average_price == pytest.approx(2.50016 / 0.5)
    assert order.created_at == 1548000000000 and order.updated_at == 1548000100000


def test_ws_api_order_results():
    entries = {
        e["description"].split(" ")[0]: e["response"]["data"]["result"]
        for e in load_samples("gate_spot_ws_api")
    }
    cancelled = codec.parse_order(entries["CancelOrder"])
    assert cancelled.status is OrderStatus.CANCELED and cancelled.filled_quantity == 0.0
    assert cancelled.symbol == Symbol("GT", "USDT") and cancelled.client_order_id == "t-my-custom-id"
    assert codec.parse_order(entries["CancelAllOrders"][0]).status is OrderStatus.CANCELED
    amended = codec.parse_order(entries["EditOrder"])
    assert amended.status is OrderStatus.NEW and amended.remaining_quantity == 1.0
    assert codec.parse_order(entries["GetOrder"]).status is OrderStatus.NEW
    assert codec.parse_order(entries["PlaceOrder"]).status is OrderStatus.FILLED
    market_buys = [codec.parse_order(o) for o in entries["GetOrders"]]
    first = market_buys[0]
    # market buy: amount/left are quote units; the order reports the base bought
    assert first.order_type is OrderType.MARKET and first.side is Side.BUY
    assert first.status is OrderStatus.FILLED
    assert first.quantity == 0.00299 and first.filled_quantity == 0.00299 and first.remaining_quantity == 0.0
    assert first.client_order_id == ""  # "web" is not a client id
    assert all(o.status is OrderStatus.FILLED for o in market_buys)


def test_ws_order_put_push():
    item = sample("gate_spot_ws_private", "SubscribeToOrderUpdates")["result"][0]
    order = codec.parse_order(item)
    assert order.order_id == "399123456" and order.client_order_id == "t-testtext"
    assert order.side is Side.SELL and order.price == 26253.3 and order.quantity == 0.0001
    assert order.status is OrderStatus.NEW and order.filled_quantity == 0.0
    assert order.remaining_quantity == 0.0001
    assert order.created_at == 1694655225315


@pytest.mark.parametrize(
    ("changes", "status", "filled"),
    [
        ({"event": "update", "left": "0.00004"}, OrderStatus.PARTIALLY_FILLED, 0.00006),
        (
            {"event": "finish", "left": "0", "finish_as": "filled", "status": "closed"},
            OrderStatus.FILLED,
            0.0001,
        ),
        (
            {"event": "finish", "left": "0.00004", "finish_as": "cancelled", "status": "cancelled"},
            OrderStatus.PARTIALLY_CANCELED,
            0.00006,
        ),
        (
            {"event": "finish", "left": "0.0001", "finish_as": "cancelled", "status": "cancelled"},
            OrderStatus.CANCELED,
            0.0,
        ),
        (
            {"event": "finish", "left": "0.00004", "finish_as": "ioc", "status": "closed"},
            OrderStatus.PARTIALLY_CANCELED,
            0.00006,
        ),
        (
            {"event": "finish", "left": "0.0001", "finish_as": "poc", "status": "cancelled"},
            OrderStatus.REJECTED,
            0.0,
        ),
        ({"event": "finish", "left": "0", "finish_as": "-", "status": "closed"}, OrderStatus.FILLED, 0.0001),
    ],
)
def test_status_mapping_never_leaves_a_closed_order_open(changes, status, filled):
    item = dict(sample("gate_spot_ws_private", "SubscribeToOrderUpdates")["result"][0], **changes)
    order = codec.parse_order(item)
    assert order.status is status
    assert order.filled_quantity == pytest.approx(filled)


def test_ws_usertrades_item():
    item = sample("gate_spot_ws_private", "SubscribeToUserTradeUpdates")["result"][0]
    ex = codec.parse_execution(item)
    assert ex.symbol == BTC and ex.trade_id == "5736713" and ex.order_id == "30784428"
    assert ex.side is Side.SELL and not ex.is_maker
    assert ex.quantity == 1.0 and ex.price == 10000.0
    assert ex.fee == 0.002 and ex.fee_asset == "USDT"
    assert ex.client_order_id == ""  # "apiv4" is the venue's marker, not ours
    assert ex.timestamp == 1605176741123


def test_ws_public_items():
    diff = codec.parse_book_diff(sample("gate_spot_ws_public", "official doc example")["result"])
    assert diff.symbol == BTC and diff.first_id == 48776301 and diff.last_id == 48776306
    assert diff.bids == [(19137.74, 0.0001), (19088.37, 0.0)] and diff.asks == [(19137.75, 0.6135)]
    assert diff.timestamp == 1606294781123
    diff2 = codec.parse_book_diff(sample("gate_spot_ws_public", "SubscribeToOrderBookUpdates")["result"])
    assert diff2.symbol == ETH and diff2.first_id == 48776301
    bt = codec.parse_book_ticker(sample("gate_spot_ws_public", "SubscribeToBookTickerUpdates")["result"])
    assert bt.symbol == ETH and bt.bid_price == 19177.79 and bt.bid_quantity == 0.0003341504
    assert bt.ask_price == 19179.38 and bt.ask_quantity == 0.09
    assert bt.update_id == 48733182 and bt.timestamp == 1606293275123
    tr = codec.parse_trade(sample("gate_spot_ws_public", "SubscribeToTradeUpdates")["result"])
    assert tr.symbol == ETH and tr.side is Side.SELL and tr.price == 0.4705 and tr.quantity == 16.47
    assert tr.trade_id == "309143071" and tr.timestamp == 1606292218213


def test_malformed_item_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        codec.parse_order({"id": "1", "currency_pair": "BTC_USDT", "amount": "abc"})


def test_withdrawal_record():
    w = codec.parse_withdrawal(
        {
            "id": "210496",
            "timestamp": "1542000000",
            "withdraw_order_id": "order_123456",
            "currency": "usdt",
            "address": "1HkxtBAMrA3tP5ENnYY2CZortjZvFDH5Cs",
            "txid": "128988928203223323290",
            "amount": "222.61",
            "memo": "",
            "status": "DONE",
            "chain": "TRX",
        }
    )
    assert w.withdrawal_id == "210496" and w.asset == "USDT" and w.amount == 222.61
    assert w.network == "TRX" and w.status.value == "DONE" and w.timestamp == 1542000000000
    assert codec.parse_withdrawal({"id": 1, "status": "PEND"}).status.value == "PROCESSING"
    assert codec.parse_withdrawal({"id": 1, "status": "CANCEL"}).status.value == "CANCELED"


def test_currency_chains_items_become_withdrawal_networks():
    items = [
        {
            "chain": "ETH",
            "name_en": "ETH/ERC20",
            "contract_address": "0xdac1",
            "is_disabled": 0,
            "is_deposit_disabled": 0,
            "is_withdraw_disabled": 0,
            "decimal": "6",
        },
        {"chain": "TRX", "is_disabled": 0, "is_withdraw_disabled": "1"},
        {"chain": "BSC", "is_disabled": 1, "is_withdraw_disabled": 0},
    ]
    networks = [codec.parse_currency_chain(item, "usdt") for item in items]
    assert [(n.asset, n.network, n.withdraw_enabled) for n in networks] == [
        ("USDT", "ETH", True),
        ("USDT", "TRX", False),
        ("USDT", "BSC", False),
    ]
    with pytest.raises(ProtocolError):
        codec.parse_currency_chain({"is_disabled": 0}, "USDT")


# ---- wallet: deposits and withdrawal fees (gateapi-python DepositAddress, LedgerRecord, WithdrawStatus) ----


def test_deposit_address_and_records() -> None:
    raw = {
        "currency": "USDT",
        "address": "T1",
        "multichain_addresses": [
            {"chain": "TRX", "address": "T1", "payment_id": "", "payment_name": "", "obtain_failed": 0},
            {"chain": "ETH", "address": "", "payment_id": "", "payment_name": "", "obtain_failed": 1},
        ],
    }
    (address,) = codec.parse_deposit_addresses(raw)
    assert (address.asset, address.network, address.address) == ("USDT", "TRX", "T1")
    record = {
        "id": "d1",
        "txid": "0xa",
        "timestamp": "1700000000",
        "amount": "99",
        "currency": "usdt",
        "address": "T1",
        "memo": "",
        "status": "DONE",
        "chain": "TRX",
    }
    deposit = codec.parse_deposit(record)
    assert deposit.credited and deposit.amount == 99.0 and deposit.timestamp == 1_700_000_000_000
    assert not codec.parse_deposit({**record, "status": "PEND"}).credited


def test_withdraw_status_fees_by_chain() -> None:
    raw = [
        {"currency": "BTC", "withdraw_fix": "0.001", "withdraw_amount_mini": "0.002"},
        {
            "currency": "USDT",
            "withdraw_fix": "5",
            "withdraw_amount_mini": "10",
            "withdraw_fix_on_chains": {"TRX": "1", "ETH": "3"},
        },
    ]
    assert codec.parse_withdraw_status(raw, "usdt") == (10.0, {"": 5.0, "TRX": 1.0, "ETH": 3.0})
    assert codec.parse_withdraw_status(raw, "BTC") == (0.002, {"": 0.001})
    assert codec.parse_withdraw_status(raw, "SOL") == (0.0, {})


def test_market_buy_carries_its_quote_amount():
    entries = {
        e["description"].split(" ")[0]: e["response"]["data"]["result"]
        for e in load_samples("gate_spot_ws_api")
    }
    first = codec.parse_order(entries["GetOrders"][0])  # amount "70.0" quote, filled_amount "0.00299" base
    assert first.quote_quantity == 70.0 and first.filled_quantity == 0.00299
    limit = codec.parse_order(entries["GetOrder"])
    assert limit.quote_quantity == 0.0
