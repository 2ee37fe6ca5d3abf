"""Gate API v4 signing: REST (HMAC-SHA512 over method, path, query, body hash, timestamp)
and WebSocket channel auth (HMAC-SHA512 over 'channel=..&event=..&time=..')."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from cexarb.config import Secret

if TYPE_CHECKING:
    from cexarb.transport.http import PreparedRequest

EMPTY_BODY_SHA512 = hashlib.sha512(b"").hexdigest()
_SHA512 = hashlib.sha512()  # never updated: each body's hash starts from a copy


def rest_signature(secret: str, method: str, path: str, query: str, body: bytes, timestamp: str) -> str:
    body_hash = EMPTY_BODY_SHA512 if not body else hashlib.sha512(body).hexdigest()
    payload = f"{method.upper()}\n{path}\n{query}\n{body_hash}\n{timestamp}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def ws_signature(secret: str, channel: str, event: str, time_s: int) -> str:
    payload = f"channel={channel}&event={event}&time={time_s}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


class GateSigner:
    """A transport `HeadSigner`: sets KEY / Timestamp (seconds) / SIGN on a prepared request,
    or gives them as head lines (`sign_lines`).

    `extra_headers` are added to every signed request (the REST clients pass theirs to HttpClient).
    """

    __slots__ = ("_key", "_secret", "_extra", "_mac", "_key_text", "_key_lines", "header_names")

    def __init__(self, api_key: Secret, api_secret: Secret, extra_headers: dict[str, str] | None = None):
        self._key = api_key
        self._secret = api_secret
        self._extra = extra_headers or {}
        self._key_text = api_key.reveal()  # the KEY header's value, read on every order
        # What sign_lines writes before the per-request headers, and every header it sets.
        self._key_lines = "".join(f"{name}: {value}\r\n" for name, value in self._extra.items())
        self._key_lines += f"KEY: {self._key_text}\r\n"
        self.header_names = (*self._extra, "KEY", "Timestamp", "SIGN")
        # Keyed once; each request signs on a copy (saves the key schedule, ~1 us an order).
        mac = hmac.new(api_secret.reveal().encode(), digestmod=hashlib.sha512)
        # The OpenSSL object inside when there is one: the same copy/update/hexdigest, without
        # the Python wrapper's copy() (~0.2 us an order).
        self._mac = getattr(mac, "_hmac", None) or mac

    def __call__(self, request: PreparedRequest, timestamp_ms: int) -> None:
        timestamp = str(timestamp_ms // 1000)
        headers = request.headers
        if self._extra:
            headers.update(self._extra)
        headers["KEY"] = self._key_text
        headers["Timestamp"] = timestamp
        headers["SIGN"] = self._sign(request.method, request.path, request.query, request.body, timestamp)

    def sign_lines(
        self, method: str, path: str, query: str, body: bytes, timestamp_ms: int
    ) -> tuple[str, str]:
        """The query (unchanged) and the extra headers, KEY, Timestamp and SIGN as head lines:
        what calling the signer sets on a request."""
        timestamp = str(timestamp_ms // 1000)
        sign = self._sign(method, path, query, body, timestamp)
        return query, f"{self._key_lines}Timestamp: {timestamp}\r\nSIGN: {sign}\r\n"

    def _sign(self, method: str, path: str, query: str, body: bytes, timestamp: str) -> str:
        if body:
            digest = _SHA512.copy()  # a copy of a started digest: ~0.3 us less than a new one, cold
            digest.update(body)
            body_hash = digest.hexdigest()
        else:
            body_hash = EMPTY_BODY_SHA512
        mac = self._mac.copy()
        mac.update(f"{method}\n{path}\n{query}\n{body_hash}\n{timestamp}".encode())
        return mac.hexdigest()

    def ws_auth(self, channel: str, event: str, time_s: int) -> dict[str, str]:
        """The 'auth' object of a private subscribe/unsubscribe request."""
        return {
            "method": "api_key",
            "KEY": self._key.reveal(),
            "SIGN": ws_signature(self._secret.reveal(), channel, event, time_s),
        }

    def __repr__(self) -> str:
        return "GateSigner(key=***)"
