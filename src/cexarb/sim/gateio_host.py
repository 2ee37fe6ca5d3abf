"""Gate's hosts as the real venue lays them out: one REST host (api.gateio.ws/api/v4) serving
spot, futures, wallet, account and currencies, with the spot WebSocket (/ws/v4/) beside it, and
the USDT futures WebSocket on a host of its own (fx-ws.gateio.ws/v4/ws/usdt).

A Gate client configured with one base URL (ours, ccxt, the official SDK) therefore loads spot
and futures markets from the same place, as it would live.
"""

from __future__ import annotations

from aiohttp import web

from cexarb.sim.gateio_futures import GateFuturesFront
from cexarb.sim.gateio_spot import GateSpotFront
from cexarb.sim.venue import SimVenue


class GateHost:
    """The Gate front-ends of a spot and/or a futures venue, arranged on Gate's hosts."""

    def __init__(self, spot: SimVenue | None, futures: SimVenue | None) -> None:
        if spot is None and futures is None:
            raise ValueError("a Gate host needs a spot or a futures venue")
        self.spot = GateSpotFront(spot) if spot is not None else None
        self.futures = GateFuturesFront(futures) if futures is not None else None

    def rest_app(self) -> web.Application:
        """api.gateio.ws: every REST route of both markets (paths both serve answer once, from
        spot), and the spot WebSocket."""
        app = web.Application()
        for front in (self.spot, self.futures):
            if front is not None:
                front.install_rest(app)
        if self.spot is not None:
            self.spot.install_ws(app)
        return app

    def futures_ws_app(self) -> web.Application | None:
        """fx-ws.gateio.ws: the USDT futures WebSocket (None without a futures venue)."""
        if self.futures is None:
            return None
        app = web.Application()
        self.futures.install_ws(app)
        return app
