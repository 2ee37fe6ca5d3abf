"""Gate API v4 signature verification, written from the protocol document (not shared with clients).

REST: SIGN = hex(HMAC_SHA512(secret, METHOD\\nPATH\\nQUERY\\nhex(SHA512(body))\\nTimestamp)), headers
KEY / Timestamp (seconds, may be fractional) / SIGN, Timestamp within 60 s of server time.
WS:   SIGN = hex(HMAC_SHA512(secret, "channel=<channel>&event=<event>&time=<time>")).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import unquote, unquote_plus

from cexarb.sim.gateio_errors import GateError

EMPTY_BODY_SHA512 = hashlib.sha512(b"").hexdigest()
# Gate rejects a request whose Timestamp is further than this from server time.
TIMESTAMP_WINDOW_S = 60.0


def rest_signature(secret: str, method: str, path: str, query: str, body: bytes, timestamp: str) -> str:
    body_hash = hashlib.sha512(body).hexdigest() if body else EMPTY_BODY_SHA512
    payload = "\n".join((method.upper(), path, query, body_hash, timestamp))
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def ws_signature(secret: str, channel: str, event: str, time_s: int) -> str:
    payload = f"channel={channel}&event={event}&time={time_s}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def _query_candidates(raw_query: str) -> tuple[str, ...]:
    # The doc signs the query "not URL-encoded, in the order sent"; ccxt signs the raw form and sends
    # the encoded one, other clients sign what they send. Accept any of these spellings.
    seen: list[str] = [raw_query]
    for decoded in (unquote(raw_query), unquote_plus(raw_query)):
        if decoded not in seen:
            seen.append(decoded)
    return tuple(seen)


def verify_rest(
    secret_of: Callable[[str], str | None],
    method: str,
    path: str,
    raw_query: str,
    body: bytes,
    headers: dict[str, str] | object,
    now_s: float,
) -> str:
    """Check a signed REST request; return its API key or raise GateError(401, ...)."""
    get = headers.get  # type: ignore[attr-defined]
    key, ts, sign = get("KEY"), get("Timestamp"), get("SIGN")
    if not key or not ts or not sign:
        missing = [n for n, v in (("KEY", key), ("Timestamp", ts), ("SIGN", sign)) if not v]
        raise GateError(401, "MISSING_REQUIRED_HEADER", f"Missing required header: {', '.join(missing)}")
    secret = secret_of(key)
    if secret is None:
        raise GateError(401, "INVALID_KEY", "Invalid key provided")
    try:
        ts_value = float(ts)
    except ValueError:
        raise GateError(401, "INVALID_SIGNATURE", "Signature mismatch") from None
    if abs(now_s - ts_value) > TIMESTAMP_WINDOW_S:
        raise GateError(
            401,
            "REQUEST_EXPIRED",
            f"gap between request Timestamp and server time exceeds {TIMESTAMP_WINDOW_S:g}",
        )
    for query in _query_candidates(raw_query):
        if hmac.compare_digest(rest_signature(secret, method, path, query, body, ts), sign.lower()):
            return key
    raise GateError(401, "INVALID_SIGNATURE", "Signature mismatch")


def verify_ws_auth(
    secret_of: Callable[[str], str | None],
    channel: str,
    event: str,
    time_s: int,
    auth: object,
) -> str:
    """Check a WS request's `auth` object; return the API key or raise GateError (label in message)."""
    if not isinstance(auth, dict) or auth.get("method") != "api_key":
        raise GateError(401, "MISSING_REQUIRED_HEADER", "auth with method api_key required")
    key, sign = auth.get("KEY"), auth.get("SIGN")
    if not isinstance(key, str) or not key:
        raise GateError(401, "INVALID_KEY", "Invalid key provided")
    secret = secret_of(key)
    if secret is None:
        raise GateError(401, "INVALID_KEY", "Invalid key provided")
    if not isinstance(sign, str) or not hmac.compare_digest(
        ws_signature(secret, channel, event, time_s), sign.lower()
    ):
        raise GateError(401, "INVALID_SIGNATURE", "Signature mismatch")
    return key
