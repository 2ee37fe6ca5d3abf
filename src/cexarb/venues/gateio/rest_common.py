"""What Gate's spot and futures REST clients share: the HTTP client (signing, budgets,
clock), server time, and turning an ambiguous POST into OrderStatusUnknown with its id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from cexarb.config import VenueConfig
from cexarb.model import SymbolInfo
from cexarb.model.errors import AuthenticationError, InvalidOrder
from cexarb.model.rounding import format_decimal
from cexarb.transport import Clock, HttpClient, RateLimiter
from cexarb.venues.gateio.auth import GateSigner
from cexarb.venues.gateio.errors import VENUE, map_http_error

PUBLIC = "public"
ORDERS = "orders"
CANCEL = "cancel"
DEFAULT = "default"


class GateRest:
    venue = "gateio"

    def __init__(
        self,
        config: VenueConfig,
        *,
        session: aiohttp.ClientSession | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.clock = Clock()
        self._session = session
        # Sent by the HTTP client on every request (signed or not), whoever owns the session.
        self._headers = headers
        self._signer = GateSigner(config.api_key, config.api_secret) if config.has_credentials else None
        self._limiter = RateLimiter(config.rate_limits)
        self._client: HttpClient | None = None

    @property
    def http(self) -> HttpClient:
        """Built on first use (inside the event loop, where our own session can be created)."""
        if self._client is None:
            self._client = HttpClient(
                VENUE,
                self.config.rest_url,
                error_mapper=map_http_error,
                signer=self._signer,
                rate_limiter=self._limiter,
                clock=self.clock,
                timeout_s=self.config.request_timeout_s,
                server_time=self.get_server_time,
                session=self._session,
                headers=self._headers,
            )
        return self._client

    async def public(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.http.request("GET", path, params=params, pool=PUBLIC)

    async def signed(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        pool: str = DEFAULT,
    ) -> Any:
        if self._signer is None:
            raise AuthenticationError(
                f"{method} {path} needs API credentials",
                venue=VENUE,
                hint="set api_key/api_secret for gateio in cexarb.toml or CEXARB_GATEIO_API_KEY/SECRET",
            )
        return await self.http.request(method, path, params=params, json_body=body, signed=True, pool=pool)

    async def get_server_time(self) -> int:
        """Venue time in ms (GET /spot/time, served on the same host for futures)."""
        reply = await self.http.request("GET", "/spot/time", pool=PUBLIC)
        return int(reply["server_time"])

    async def sync_clock(self) -> None:
        await self.clock.sync(self.get_server_time)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def price_text(price: float, info: SymbolInfo | None) -> str:
    return format_decimal(price, info.tick_size if info is not None else None)


def require_positive(quantity: float, price: float | None) -> None:
    if not quantity > 0:
        raise InvalidOrder(f"quantity must be positive, got {quantity!r}", venue=VENUE)
    if price is not None and not price > 0:
        raise InvalidOrder(f"price must be positive, got {price!r}", venue=VENUE)
