"""Every Gate USDT-futures sample the codec handles, with field-level assertions.
Sizes arrive in contracts and must leave in base units (x quanto_multiplier)."""

import pytest
from gate_samples import load_samples, sample

from cexarb.model import OrderStatus, OrderType, PositionSide, Side, Symbol, TimeInForce
from cexarb.model.errors import ProtocolError
from cexarb.venues.gateio import codec, messages

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
CS = 0.0001  # BTC_USDT quanto_multiplier


def test_contract_integer_sizes():
    info = codec.parse_contract_info(sample("gate_futures_rest_contracts", "GetContract:"))
    assert info.symbol == BTC and info.venue_symbol == "BTC_USDT"
    assert info.is_futures and info.contract_size == 0.0001
    assert info.tick_size == 0.1
    assert info.step_size == 0.0001 and info.min_quantity == 0.0001  # one contract
    assert info.maker_fee == -0.00025 and info.taker_fee == 0.00075
    assert info.active
    assert info.base_precision == 4 and info.quote_precision == 1


def test_contract_decimal_sizes():
    info = codec.parse_contract_info(sample("gate_futures_rest_contracts", "GetContracts:")[0])
    assert info.symbol == Symbol("LAB", "USDT")
    assert info.contract_size == 100.0
    assert info.step_size == 10.0 and info.min_quantity == 10.0  # 0.1 contract x 100
    assert info.tick_size == 0.00001


def test_delisting_contract_is_inactive():
    raw = dict(sample("gate_futures_rest_contracts", "GetContract:"), in_delisting=True)
    assert not codec.parse_contract_info(raw).active
    raw = dict(sample("gate_futures_rest_contracts", "GetContract:"), quanto_multiplier="0")
    assert codec.parse_contract_info(raw).contract_size == 1.0


@pytest.mark.parametrize("name", ["GetAccount:"])
def test_account(name):
    raw = sample("gate_futures_rest_accounts", name)
    bal = codec.parse_futures_balance(raw)
    assert bal.asset == "USDT"
    assert bal.available == 9669.091377934145
    assert bal.locked == pytest.approx(9707.803567115145 - 9669.091377934145)
    assert codec.parse_futures_user_id(raw) == 1666


def test_dual_mode_reply_is_an_account_too():
    raw = sample("gate_futures_rest_positions", "UpdatePositionMode")
    assert codec.parse_futures_user_id(raw) == 1666
    assert codec.parse_futures_balance(raw).available == 9669.091377934145


def test_order_book_levels_in_contracts_become_base_units():
    book = codec.parse_order_book(sample("gate_futures_rest_marketdata", "GetOrderBook"), BTC, CS)
    assert book.update_id == 123456
    assert book.timestamp == 1623898993123  # float seconds -> ms
    assert book.asks == [(1.52, 0.01), (1.53, 0.004)]
    assert book.bids == [(1.17, 0.015), (1.16, 0.0203)]


def test_tickers_and_public_trades():
    t = codec.parse_ticker(sample("gate_futures_rest_marketdata", "GetTickers")[0], BTC, CS)
    assert t.bid_price == 34089.7 and t.ask_price == 34217.9
    tr = codec.parse_trade(sample("gate_futures_rest_marketdata", "GetTrades")[0], CS)
    assert tr.symbol == BTC and tr.side is Side.SELL and tr.quantity == 0.01
    assert tr.price == 100.123 and tr.timestamp == 1514764800000 and tr.trade_id == "121234231"


@pytest.mark.parametrize("name", ["GetUserTrades:", "GetUserTradesByTimestamp"])
def test_my_trades(name):
    ex = codec.parse_futures_execution(sample("gate_futures_rest_my_trades", name)[0], CS)
    assert ex.symbol == BTC and ex.trade_id == "121234231" and ex.order_id == "21893289839"
    assert ex.client_order_id == "t-123456"
    assert ex.side is Side.BUY and ex.quantity == 0.01 and ex.price == 100.123
    assert ex.fee == 0.01 and ex.fee_asset == "USDT" and not ex.is_maker
    assert ex.timestamp == 1514764800123


ORDER_SAMPLES = [
    "CancelAllOrders",
    "CancelOrder:",
    "EditMultipleOrders",
    "EditOrder",
    "GetOrder:",
    "GetOrders:",
    "GetOrdersByTime",
    "PlaceMultipleOrder",
    "PlaceOrder:",
]


@pytest.mark.parametrize("name", ORDER_SAMPLES)
def test_rest_orders(name):
    resp = sample("gate_futures_rest_orders", name)
    raw = resp[0] if isinstance(resp, list) else resp
    order = codec.parse_futures_order(raw, CS)
    assert order.symbol == BTC and order.order_id == "15675394"
    assert order.client_order_id == "t-my-custom-id"
    assert order.side is Side.BUY and order.order_type is OrderType.LIMIT
    assert order.time_in_force is TimeInForce.GTC
    assert order.price == 3765.0
    assert order.quantity == 0.6024  # 6024 contracts x 0.0001
    assert order.status is OrderStatus.CANCELED
    assert order.filled_quantity == 0.0 and order.remaining_quantity == 0.6024
    assert order.created_at == 1546569968000 and order.updated_at == 1514764900000
    assert not order.reduce_only


def test_market_order_and_sell_side():
    raw = dict(
        sample("gate_futures_rest_orders", "GetOrder:"),
        size=-10,
        left=0,
        price="0",
        tif="ioc",
        finish_as="filled",
        fill_price="3760.5",
        is_reduce_only=True,
    )
    order = codec.parse_futures_order(raw, CS)
    assert order.side is Side.SELL and order.order_type is OrderType.MARKET
    assert order.status is OrderStatus.FILLED and order.filled_quantity == 0.001
    assert order.average_price == 3760.5 and order.reduce_only


@pytest.mark.parametrize(
    ("status", "finish_as", "left", "expected"),
    [
        ("open", "", 6024, OrderStatus.NEW),
        ("open", "", 24, OrderStatus.PARTIALLY_FILLED),
        ("finished", "cancelled", 24, OrderStatus.PARTIALLY_CANCELED),
        ("finished", "ioc", 6024, OrderStatus.CANCELED),
        ("finished", "reduce_only", 10, OrderStatus.PARTIALLY_CANCELED),
        ("finished", "filled", 0, OrderStatus.FILLED),
        ("finished", "liquidated", 0, OrderStatus.FILLED),
    ],
)
def test_futures_status_mapping(status, finish_as, left, expected):
    raw = dict(sample("gate_futures_rest_orders", "GetOrder:"), status=status, finish_as=finish_as, left=left)
    assert codec.parse_futures_order(raw, CS).status is expected


POSITION_SAMPLES = [
    ("gate_futures_rest_positions", "SetMarginMode"),
    ("gate_futures_rest_positions", "GetPositions"),
    ("gate_futures_rest_positions", "GetDualModePositions"),
    ("gate_futures_rest_positions", "UpdateDualModePositionLeverage"),
    ("gate_futures_rest_positions", "UpdateDualModePositionMargin"),
    ("gate_futures_rest_positions", "UpdateDualModePositionRiskLimit"),
    ("gate_futures_rest_positions", "UpdatePositionLeverage"),
    ("gate_futures_rest_positions", "UpdatePositionMargin"),
    ("gate_futures_rest_positions", "UpdatePositionRiskLimit"),
]


@pytest.mark.parametrize(("file", "name"), POSITION_SAMPLES)
def test_rest_positions(file, name):
    resp = sample(file, name)
    raw = resp[0] if isinstance(resp, list) else resp
    pos = codec.parse_position(raw, CS)
    assert pos.symbol == BTC and pos.side is PositionSide.SHORT
    assert pos.contracts == -9440 and pos.size == -0.944
    assert pos.entry_price == 3779.55 and pos.mark_price == 3780.32
    assert pos.unrealized_pnl == -0.000507486844 and pos.realized_pnl == 0.045543982432
    assert pos.liquidation_price == 99999999 and pos.margin == 4.431548146258
    assert pos.leverage == 0.0  # cross with cross_leverage_limit 0
    assert pos.updated_at == 1684994406000


def test_isolated_and_cross_leverage():
    base = sample("gate_futures_rest_positions", "UpdatePositionLeverage")
    assert codec.parse_position(dict(base, leverage="10"), CS).leverage == 10.0
    assert codec.parse_position(dict(base, leverage="0", cross_leverage_limit="20"), CS).leverage == 20.0
    flat = codec.parse_position(dict(base, size=0), CS)
    assert flat.side is PositionSide.FLAT and flat.size == 0.0


def test_ws_private_items():
    order = codec.parse_futures_order(
        sample("gate_futures_ws_private", "SubscribeToOrderUpdates")["result"][0], 1.0
    )
    assert order.symbol == Symbol("BTC", "USD") and order.order_id == "4872460"
    assert order.quantity == 1.5 and order.filled_quantity == 1.0
    # the fixture says finish_as=filled with left 0.5: finish_as decides, nothing stays open
    assert order.status is OrderStatus.FILLED and order.remaining_quantity == 0.0
    assert order.average_price == 40000.4 and order.created_at == 1628736847325
    assert order.updated_at == 1628736848321  # finish_time_ms
    pos = codec.parse_position(
        sample("gate_futures_ws_private", "SubscribeToPositionUpdates")["result"][0], 0.1
    )
    assert pos.contracts == 3.5 and pos.size == 0.35 and pos.side is PositionSide.LONG
    assert pos.entry_price == 40000.36666661111 and pos.liquidation_price == 0.1
    assert pos.updated_at == 1628736848321
    ex = codec.parse_futures_execution(
        sample("gate_futures_ws_private", "SubscribeToUserTradeUpdates")["result"][0], 2.0
    )
    assert ex.trade_id == "3335259" and ex.order_id == "4872460" and ex.is_maker
    assert ex.quantity == 3.0 and ex.price == 40000.4 and ex.fee == 0.0009290592
    assert ex.timestamp == 1628736848321


def test_ws_public_items():
    bt = codec.parse_book_ticker(
        sample("gate_futures_ws_public", "SubscribeToBookTickerUpdates")["result"], 0.01
    )
    assert bt.symbol == ETH and bt.bid_price == 54696.6 and bt.ask_price == 54696.7
    assert bt.bid_quantity == 370.005 and bt.ask_quantity == 470.612
    assert bt.update_id == 2517661076
    diff = codec.parse_book_diff(sample("gate_futures_ws_public", "SubscribeToBookUpdates")["result"], 0.01)
    assert diff.symbol == ETH and diff.first_id == 2517661101 and diff.last_id == 2517661113
    assert diff.bids == [(54672.1, 0.0), (54664.5, 587.945)]
    assert diff.asks == [(54743.6, 0.0), (54742.0, 0.952)]
    tr = codec.parse_trade(sample("gate_futures_ws_public", "SubscribeToTradeUpdates")["result"][0], 0.01)
    assert tr.side is Side.SELL and tr.quantity == 1.085 and tr.timestamp == 1545136464123


def test_empty_book_ticker_side():
    bt = codec.parse_book_ticker({"t": 1, "u": 2, "s": "BTC_USDT", "b": "", "B": 0, "a": "5", "A": 3}, CS)
    assert bt.bid_price is None and bt.bid_quantity == 0.0 and bt.ask_quantity == 0.0003
    assert bt.ask_price == 5.0 and bt.mid is None


def test_every_futures_order_and_position_sample_parses():
    for entry in load_samples("gate_futures_rest_orders"):
        resp = entry["response"]
        items = resp if isinstance(resp, list) else [resp]
        for raw in items:
            if "size" in raw and "contract" in raw:
                assert codec.parse_futures_order(raw, CS).quantity > 0


# ---- funding (gateapi-python docs/Contract.md and docs/FuturesAccountBook.md field names) ----


def test_parse_funding_from_a_contract() -> None:
    raw = {
        "name": "BTC_USDT",
        "funding_rate": "-0.000125",
        "funding_interval": 28800,
        "funding_next_apply": 1784131200,
        "quanto_multiplier": "0.0001",
    }
    info = codec.parse_funding(raw)
    assert info.symbol == Symbol("BTC", "USDT") and info.rate == -0.000125
    assert info.interval_s == 28800 and info.next_apply_ms == 1784131200_000


def test_parse_funding_payment_with_and_without_record_id() -> None:
    raw = {
        "time": 1547633726.1,
        "change": "-0.3312",
        "balance": "1001.2",
        "type": "fund",
        "text": "BTC_USDT",
        "contract": "BTC_USDT",
        "trade_id": "",
        "id": "77",
    }
    p = codec.parse_funding_payment(raw)
    assert (p.payment_id, p.symbol, p.amount, p.timestamp, p.balance) == (
        "77",
        Symbol("BTC", "USDT"),
        -0.3312,
        1547633726100,
        1001.2,
    )
    older = {k: v for k, v in raw.items() if k not in ("id", "contract")}  # before 2023-10-30
    q = codec.parse_funding_payment(older)
    assert (
        q.symbol == p.symbol
        and q.payment_id != ""
        and q.payment_id == codec.parse_funding_payment(older).payment_id
    )
    with pytest.raises(ProtocolError):
        codec.parse_funding_payment({**raw, "type": "fee"})


@pytest.mark.parametrize("contract_size", [1.0, 0.1, 0.01, 0.0001, 1e-6, 0.3, 10.0])
@pytest.mark.parametrize(
    ("size", "left"),
    [(7, 7), (-7, -3), (3, 0), (-0.0, 0), (12_000_000, 5), (1.5, 0.5), (2, 3), (-1023, -1)],
)
def test_futures_order_sizes_are_contracts_times_contract_size(size, left, contract_size):
    """Whole contracts take a shortcut (one division each): every path gives the product
    rounded to 12 decimals, the side from the sign, and never a negative zero."""
    msg = messages.FuturesOrderMsg(contract="BTC_USDT", size=size, left=left, id=1, fill_price=1.0)
    order = codec.futures_order_from_msg(msg, contract_size)
    unsigned, rest = abs(size), abs(left)
    assert order.side is (Side.SELL if size < 0 else Side.BUY)
    assert order.quantity == round(unsigned * contract_size, 12)
    assert str(order.quantity) != "-0.0"
    if unsigned > rest:
        assert order.filled_quantity == round((unsigned - rest) * contract_size, 12)
        assert order.remaining_quantity == (round(rest * contract_size, 12) if rest else 0.0)
    else:
        assert order.filled_quantity == 0.0
        assert order.remaining_quantity == round(rest * contract_size, 12)
