"""Gate front-end test rig: a SimVenue served on 127.0.0.1 and a minimal signed Gate client.

A module with its own name (not conftest) so tests import it the same way whatever other test
directories run in the session."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer

from cexarb.config import RateLimitPool
from cexarb.model import Symbol
from cexarb.sim.engine import SimMarket
from cexarb.sim.venue import SimVenue
from cexarb.sim.withdrawals import gateio_networks

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
KEY, SECRET, UID = "k1", "s1", 1001
MAKER = "mm"
OTHER_KEY, OTHER_SECRET = "k2", "s2"


def sign_rest(secret: str, method: str, path: str, query: str, body: str, ts: str) -> str:
    """Test-side Gate signer, written independently of the simulator's verifier."""
    payload = f"{method}\n{path}\n{query}\n{hashlib.sha512(body.encode()).hexdigest()}\n{ts}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def sign_ws(secret: str, channel: str, event: str, t: int) -> str:
    return hmac.new(
        secret.encode(), f"channel={channel}&event={event}&time={t}".encode(), hashlib.sha512
    ).hexdigest()


class GateClient:
    def __init__(
        self, session: aiohttp.ClientSession, base: str, key: str = KEY, secret: str = SECRET
    ) -> None:
        self.session = session
        self.base = base  # http://127.0.0.1:port
        self.key = key
        self.secret = secret

    async def call(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        *,
        signed: bool = True,
        ts: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
        qs = urlencode(query or {})
        text = "" if body is None else json.dumps(body, separators=(",", ":"))
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if signed:
            stamp = str(int(time.time() if ts is None else ts))
            hdrs.update(
                KEY=self.key,
                Timestamp=stamp,
                SIGN=sign_rest(self.secret, method, f"/api/v4{path}", qs, text, stamp),
            )
        url = f"{self.base}/api/v4{path}" + (f"?{qs}" if qs else "")
        async with self.session.request(method, url, data=text or None, headers=hdrs) as resp:
            raw = await resp.read()
            return resp.status, (json.loads(raw) if raw else None), resp.headers


def spot_markets() -> list[SimMarket]:
    return [
        SimMarket(BTC, 0.1, 0.0001, 0.0001, 1.0, maker_fee=0.001, taker_fee=0.002, initial_mid=60000.0),
        SimMarket(ETH, 0.01, 0.001, 0.001, 1.0, maker_fee=0.001, taker_fee=0.002, initial_mid=3000.0),
    ]


def futures_markets() -> list[SimMarket]:
    return [
        SimMarket(
            BTC,
            0.1,
            0.0001,
            0.0001,
            0.0,
            contract_size=0.0001,
            maker_fee=0.0002,
            taker_fee=0.0005,
            initial_mid=60000.0,
        ),
        SimMarket(
            ETH,
            0.01,
            0.01,
            0.01,
            0.0,
            contract_size=0.01,
            maker_fee=0.0002,
            taker_fee=0.0005,
            initial_mid=3000.0,
        ),
    ]


GATE_POOLS = {
    "public": RateLimitPool(200, 10.0),
    "default": RateLimitPool(200, 10.0),
    "orders": RateLimitPool(10, 1.0),
    "cancel": RateLimitPool(200, 1.0),
}


def make_spot_venue(pools: dict[str, RateLimitPool] | None = None) -> SimVenue:
    venue = SimVenue(
        "gateio_spot",
        spot_markets(),
        rate_limits=pools or GATE_POOLS,
        networks=gateio_networks(),
        withdrawal_delay_s=0.2,
    )
    venue.add_account(KEY, SECRET, UID, {"USDT": 100_000.0, "BTC": 2.0, "ETH": 20.0})
    venue.add_account(OTHER_KEY, OTHER_SECRET, 1002, {"USDT": 100_000.0, "BTC": 2.0, "ETH": 20.0})
    venue.add_account(MAKER, "mms", 9001, {"USDT": 10_000_000.0, "BTC": 100.0, "ETH": 1000.0})
    return venue


def make_futures_venue(pools: dict[str, RateLimitPool] | None = None) -> SimVenue:
    venue = SimVenue("gateio_futures", futures_markets(), is_futures=True, rate_limits=pools or GATE_POOLS)
    venue.add_account(KEY, SECRET, UID, {"USDT": 100_000.0})
    venue.add_account(OTHER_KEY, OTHER_SECRET, 1002, {"USDT": 100_000.0})
    venue.add_account(MAKER, "mms", 9001, {"USDT": 10_000_000.0})
    return venue


class Served:
    def __init__(self, venue: SimVenue, server: TestServer, session: aiohttp.ClientSession) -> None:
        self.venue = venue
        self.server = server
        self.session = session
        self.base = f"http://127.0.0.1:{server.port}"
        self.client = GateClient(session, self.base)
        self.other = GateClient(session, self.base, OTHER_KEY, OTHER_SECRET)
        self.public = GateClient(session, self.base, "", "")


async def serve(create_app, venue: SimVenue):
    server = TestServer(create_app(venue), host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    return Served(venue, server, session)


async def close(served: Served) -> None:
    await served.session.close()
    await served.server.close()
