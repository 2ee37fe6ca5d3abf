"""Gate.io API v4 connectors: spot and USDT perpetual futures (REST + WebSocket)."""

from cexarb.venues.gateio.futures_rest import GateioFuturesPrivateRest, GateioFuturesPublicRest
from cexarb.venues.gateio.futures_ws import GateioFuturesPrivateWs, GateioFuturesPublicWs
from cexarb.venues.gateio.spot_rest import GateioSpotPrivateRest, GateioSpotPublicRest
from cexarb.venues.gateio.spot_ws import GateioSpotPrivateWs, GateioSpotPublicWs

__all__ = [
    "GateioFuturesPrivateRest",
    "GateioFuturesPrivateWs",
    "GateioFuturesPublicRest",
    "GateioFuturesPublicWs",
    "GateioSpotPrivateRest",
    "GateioSpotPrivateWs",
    "GateioSpotPublicRest",
    "GateioSpotPublicWs",
]
