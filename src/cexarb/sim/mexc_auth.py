"""MEXC spot request parameters and HMAC-SHA256 signature verification (mexc_spot.md §1, §2).

Parameters may come in the query string, in a form-urlencoded (or JSON) body, or both;
the query string wins on a clash. The signature covers the raw query string concatenated
directly with the raw body (no '&' between), with the `signature=` parameter left out,
exactly as the bytes were sent (no re-encoding).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl

import msgspec

from cexarb.sim import mexc_errors as err

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
# A request may be at most this far ahead of the server clock (mexc_spot.md §2).
MAX_AHEAD_MS = 1000


def sign(secret: str, total_params: str) -> str:
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def _split_signature(raw: str) -> tuple[str, str | None]:
    """(raw text without its signature parameter, the signature or None)."""
    if "signature=" not in raw:
        return raw, None
    kept, found = [], None
    for token in raw.split("&"):
        if token.startswith("signature="):
            found = token[len("signature=") :]
        else:
            kept.append(token)
    return "&".join(kept), found


def signed_payload(query: str, body: str) -> tuple[str, str | None]:
    """(totalParams the client signed, the signature it sent) from the raw query and body."""
    q, q_sig = _split_signature(query)
    b, b_sig = _split_signature(body) if body and not body.lstrip().startswith("{") else (body, None)
    return q + b, q_sig or b_sig


def verify(secret: str, query: str, body: str) -> bool:
    payload, signature = signed_payload(query, body)
    if not signature:
        return False
    return hmac.compare_digest(sign(secret, payload), signature.lower())


def parse_params(query: str, body: str) -> dict[str, str]:
    """All request parameters as text; a query-string key overrides the same body key."""
    params: dict[str, str] = {}
    if body:
        stripped = body.lstrip()
        if stripped.startswith("{"):
            try:
                decoded = msgspec.json.decode(stripped)
            except msgspec.DecodeError as e:
                raise err.bad_param("body", "not valid JSON") from e
            if not isinstance(decoded, dict):
                raise err.bad_param("body", "JSON body must be an object")
            for key, value in decoded.items():
                params[str(key)] = _text(value)
        else:
            params.update(parse_qsl(body, keep_blank_values=True))
    if query:
        params.update(parse_qsl(query, keep_blank_values=True))
    return params


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_timestamp(params: dict[str, str], server_ms: int) -> None:
    """MEXC's window rule: timestamp < server + 1000 and server - timestamp <= recvWindow."""
    raw_ts = params.get("timestamp")
    if not raw_ts:
        raise err.bad_param("timestamp", "mandatory for signed endpoints")
    try:
        ts = int(raw_ts)
    except ValueError as e:
        raise err.bad_param("timestamp", "must be milliseconds since epoch") from e
    raw_window = params.get("recvWindow")
    window = DEFAULT_RECV_WINDOW_MS
    if raw_window:
        try:
            window = int(float(raw_window))
        except ValueError as e:
            raise err.bad_param("recvWindow") from e
        if window > MAX_RECV_WINDOW_MS:
            raise err.recv_window_too_large()
    if not (ts < server_ms + MAX_AHEAD_MS and server_ms - ts <= window):
        raise err.timestamp_outside_window()
