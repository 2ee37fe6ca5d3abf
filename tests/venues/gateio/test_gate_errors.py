import time

import pytest

from cexarb.model.errors import (
    AuthenticationError,
    BelowMinimum,
    ExchangeError,
    InsufficientBalance,
    InvalidOrder,
    InvalidPrice,
    NetworkError,
    OrderNotFound,
    PostOnlyWouldTake,
    RateLimitError,
    TimestampError,
    WithdrawalError,
)
from cexarb.venues.gateio import codec
from cexarb.venues.gateio.errors import map_http_error, ws_error


@pytest.mark.parametrize(
    ("label", "status", "cls"),
    [
        ("INVALID_TIMESTAMP", 401, TimestampError),
        ("REQUEST_EXPIRED", 401, TimestampError),
        ("INVALID_KEY", 401, AuthenticationError),
        ("INVALID_SIGNATURE", 401, AuthenticationError),
        ("INVALID_CREDENTIALS", 401, AuthenticationError),
        ("MISSING_REQUIRED_HEADER", 401, AuthenticationError),
        ("AUTHENTICATION_FAILED", 401, AuthenticationError),
        ("IP_FORBIDDEN", 403, AuthenticationError),
        ("READ_ONLY", 403, AuthenticationError),
        ("FORBIDDEN", 403, AuthenticationError),
        ("USER_NOT_FOUND", 400, AuthenticationError),
        ("TOO_MANY_REQUESTS", 429, RateLimitError),
        ("TOO_FAST", 429, RateLimitError),
        ("BALANCE_NOT_ENOUGH", 400, InsufficientBalance),
        ("INSUFFICIENT_AVAILABLE", 400, InsufficientBalance),
        ("AMOUNT_TOO_LITTLE", 400, BelowMinimum),
        ("SIZE_TOO_SMALL", 400, BelowMinimum),
        ("AMOUNT_TOO_MUCH", 400, InvalidOrder),
        ("SIZE_TOO_LARGE", 400, InvalidOrder),
        ("PRICE_TOO_DEVIATED", 400, InvalidPrice),
        ("PRICE_OVER_LIQUIDATION", 400, InvalidPrice),
        ("PRICE_OVER_BANKRUPT", 400, InvalidPrice),
        ("POC_FILL_IMMEDIATELY", 400, PostOnlyWouldTake),
        ("ORDER_POC_IMMEDIATE", 400, PostOnlyWouldTake),
        ("ORDER_NOT_FOUND", 404, OrderNotFound),
        ("CLIENT_ID_NOT_FOUND", 400, OrderNotFound),
        ("ORDER_CLOSED", 400, OrderNotFound),
        ("ORDER_CANCELLED", 400, OrderNotFound),
        ("ORDER_FINISHED", 400, OrderNotFound),
        ("INVALID_PARAM_VALUE", 400, InvalidOrder),
        ("INVALID_ARGUMENT", 400, InvalidOrder),
        ("MISSING_REQUIRED_PARAM", 400, InvalidOrder),
        ("INVALID_REQUEST_BODY", 400, InvalidOrder),
        ("INVALID_CURRENCY_PAIR", 400, InvalidOrder),
        ("INVALID_CURRENCY", 400, InvalidOrder),
        ("INVALID_PRECISION", 400, InvalidOrder),
        ("TOO_MANY_ORDERS", 400, InvalidOrder),
        ("REPEATED_CREATION", 400, InvalidOrder),
        ("CONTRACT_NOT_FOUND", 400, InvalidOrder),
        ("CONTRACT_IN_DELISTING", 400, InvalidOrder),
        ("INCREASE_POSITION", 400, InvalidOrder),
        ("LEVERAGE_TOO_HIGH", 400, InvalidOrder),
        ("LEVERAGE_TOO_LOW", 400, InvalidOrder),
        ("RISK_LIMIT_EXCEEDED", 400, InvalidOrder),
        ("LIQUIDATE_IMMEDIATELY", 400, InvalidOrder),
        ("POSITION_EMPTY", 400, InvalidOrder),
        ("POSITION_HOLDING", 400, InvalidOrder),
        ("POSITION_IN_LIQUIDATION", 400, InvalidOrder),
        ("POSITION_CROSS_MARGIN", 400, InvalidOrder),
        ("SERVER_ERROR", 500, NetworkError),
        ("INTERNAL", 500, NetworkError),
        ("TOO_BUSY", 503, NetworkError),
    ],
)
def test_every_documented_label(label, status, cls):
    err = codec.parse_error(status, f'{{"label":"{label}","message":"msg of {label}"}}'.encode())
    assert type(err) is cls
    assert err.code == label and err.http_status == status and err.venue == "gateio"
    assert f"msg of {label}" in err.message and label in str(err)


def test_detail_instead_of_message_and_dict_bodies():
    err = codec.parse_error(400, b'{"label":"INVALID_ARGUMENT","detail":"invalid size"}')
    assert isinstance(err, InvalidOrder) and "invalid size" in err.message
    err = codec.parse_error(400, {"label": "BALANCE_NOT_ENOUGH", "message": "Not enough balance"})
    assert isinstance(err, InsufficientBalance)


def test_too_small_under_a_generic_label_is_below_minimum():
    body = b'{"label":"INVALID_PARAM_VALUE","message":"Your order size 0.0037 USDT is too small. The minimum is 3 USDT"}'
    assert type(codec.parse_error(400, body)) is BelowMinimum


def test_price_precision_is_invalid_price():
    body = b'{"label":"INVALID_PRECISION","message":"price precision too high"}'
    assert type(codec.parse_error(400, body)) is InvalidPrice


def test_rate_limit_retry_after_from_headers():
    err = map_http_error(429, b'{"label":"TOO_MANY_REQUESTS","message":"slow"}', {"Retry-After": "1.5"})
    assert isinstance(err, RateLimitError) and err.retry_after == 1.5
    reset = str(int(time.time()) + 3)
    err = map_http_error(429, b'{"label":"TOO_MANY_REQUESTS"}', {"x-gate-ratelimit-reset-timestamp": reset})
    assert 1.0 <= err.retry_after <= 3.0
    err = map_http_error(429, b"", {})
    assert isinstance(err, RateLimitError) and err.retry_after is None


def test_unknown_labels_and_non_json_fall_back_on_status():
    assert type(map_http_error(502, b"<html>bad gateway</html>", {})) is NetworkError
    assert type(map_http_error(401, b"", {})) is AuthenticationError
    assert (
        type(map_http_error(400, b'{"label":"WITHDRAW_ADDRESS_INVALID","message":"x"}', {}))
        is WithdrawalError
    )
    err = map_http_error(418, b'{"label":"SOMETHING_NEW","message":"x"}', {})
    assert type(err) is ExchangeError and err.code == "SOMETHING_NEW"
    assert "bad gateway" in map_http_error(502, b"<html>bad gateway</html>", {}).message


def test_ws_errors():
    err = ws_error(4, '{"label":"INVALID_KEY","message":"Invalid key provided"}', "spot.orders")
    assert isinstance(err, AuthenticationError) and err.code == "INVALID_KEY" and "spot.orders" in err.message
    err = ws_error(4, "Signature mismatch")
    assert isinstance(err, AuthenticationError) and err.code == 4
    assert isinstance(ws_error(2, "unknown currency pair: FOO_USDT"), InvalidOrder)
    assert isinstance(ws_error(3, "server error"), NetworkError)
