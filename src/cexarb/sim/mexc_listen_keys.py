"""Listen keys of the MEXC user data stream: create, keep alive, close, expire (mexc_spot.md §3.4)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable


class ListenKeys:
    """Valid listen keys and the account (API key) each belongs to."""

    def __init__(self, ttl_s: float, max_per_account: int, now: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_per_account = max_per_account
        self._now = now
        self._keys: dict[str, tuple[str, float]] = {}  # listen key -> (api key, expires at)

    def create(self, api_key: str) -> str | None:
        """A new key for the account, or None when it already holds the maximum."""
        self.purge_expired()
        if len(self.valid_keys(api_key)) >= self.max_per_account:
            return None
        key = secrets.token_hex(32)
        self._keys[key] = (api_key, self._now() + self.ttl_s)
        return key

    def keepalive(self, api_key: str, key: str) -> bool:
        if self.owner(key) != api_key:
            return False
        self._keys[key] = (api_key, self._now() + self.ttl_s)
        return True

    def delete(self, api_key: str, key: str) -> bool:
        if self.owner(key) != api_key:
            return False
        del self._keys[key]
        return True

    def owner(self, key: str) -> str | None:
        """The API key a listen key belongs to, None if unknown or expired."""
        entry = self._keys.get(key)
        if entry is None or entry[1] <= self._now():
            return None
        return entry[0]

    def valid_keys(self, api_key: str) -> list[str]:
        now = self._now()
        return [k for k, (owner, expires) in self._keys.items() if owner == api_key and expires > now]

    def purge_expired(self) -> list[str]:
        now = self._now()
        gone = [k for k, (_, expires) in self._keys.items() if expires <= now]
        for key in gone:
            del self._keys[key]
        return gone
