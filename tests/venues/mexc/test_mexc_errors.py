from __future__ import annotations

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
    ProtocolError,
    RateLimitError,
    TimestampError,
    WithdrawalError,
)
from cexarb.venues.mexc.codec import parse_error
from cexarb.venues.mexc.errors import http_error_mapper

# Every code in mexc_spot.md section 4 and the precision codes of section 3.1.1.
DOCUMENTED = {
    429: RateLimitError,
    700001: AuthenticationError,
    700002: AuthenticationError,
    602: AuthenticationError,
    700003: TimestampError,
    700005: ExchangeError,
    700004: InvalidOrder,
    700006: AuthenticationError,
    700007: AuthenticationError,
    700008: InvalidOrder,
    10101: InsufficientBalance,
    30004: InsufficientBalance,
    30005: InsufficientBalance,
    -2011: OrderNotFound,
    -2013: OrderNotFound,
    10007: InvalidOrder,
    30014: InvalidOrder,
    30021: InvalidOrder,
    -1121: InvalidOrder,
    30002: BelowMinimum,
    30003: InvalidOrder,
    30000: InvalidOrder,
    30016: InvalidOrder,
    30018: InvalidOrder,
    30019: InvalidOrder,
    30029: InvalidOrder,
    30087: InvalidPrice,
    730001: InvalidOrder,
    730002: InvalidOrder,
    26: InvalidOrder,
    400: AuthenticationError,
    401: AuthenticationError,
    403: AuthenticationError,
    500: NetworkError,
    503: NetworkError,
    504: NetworkError,
    10096: InvalidOrder,
    2015: InvalidOrder,
    -1128: InvalidOrder,
    -2010: InvalidOrder,
    10232: WithdrawalError,
    10212: WithdrawalError,
    10097: WithdrawalError,
    700013: ProtocolError,  # Content-Type of a signed write is not application/json
}


@pytest.mark.parametrize(("code", "cls"), sorted(DOCUMENTED.items()))
def test_every_documented_code_maps_to_its_type(code, cls):
    err = parse_error(400, {"code": code, "msg": f"message {code}"})
    assert type(err) is cls
    assert err.code == code
    assert err.message == f"message {code}"
    assert err.http_status == 400
    assert err.venue == "mexc"
    assert err.hint  # says what to do


def test_raw_bytes_body_and_message_variant():
    err = parse_error(400, b'{"success": false, "code": 10101, "message": "Insufficient balance"}')
    assert isinstance(err, InsufficientBalance)
    assert err.message == "Insufficient balance"
    assert "code=10101" in str(err)


def test_doc_error_body_with_extend_field():
    err = parse_error(
        400, b'{"code": -1128, "msg": "Combination of optional parameters invalid.", "_extend": null}'
    )
    assert type(err) is InvalidOrder
    assert err.code == -1128 and err.message.startswith("Combination")


def test_string_code_is_read_as_int():
    assert isinstance(parse_error(400, {"code": "700003", "msg": "x"}), TimestampError)


def test_http_429_carries_retry_after():
    err = http_error_mapper(429, b"", {"Retry-After": "3"})
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 3.0 and err.http_status == 429 and err.code is None


def test_http_418_ban_is_rate_limit():
    err = http_error_mapper(418, b"<html>banned</html>", {"Retry-After": "120"})
    assert isinstance(err, RateLimitError) and err.retry_after == 120.0
    assert "banned" in err.message


def test_bare_403_is_waf_limit_not_auth():
    err = http_error_mapper(403, b"<html>forbidden</html>", {})
    assert isinstance(err, RateLimitError)


def test_5xx_without_body_is_network_error():
    err = http_error_mapper(502, b"", {})
    assert isinstance(err, NetworkError)
    assert err.message == "HTTP 502"


def test_unknown_code_is_base_error_with_code():
    err = parse_error(400, {"code": 999999, "msg": "odd"})
    assert type(err) is ExchangeError and err.code == 999999


def test_post_only_rejection_is_refined_by_message():
    err = parse_error(400, {"code": -2010, "msg": "Order would immediately match and take."})
    assert isinstance(err, PostOnlyWouldTake) and err.code == -2010
    other = parse_error(400, {"code": -2010, "msg": "Duplicate order sent."})
    assert type(other) is InvalidOrder
