"""Gate.io API v4 connectors: spot and USDT perpetual futures (REST + WebSocket).

The classes load on first use, so reading `spec` (config does, for every process) does not
load the connectors, which themselves read config.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cexarb.venues.gateio.futures_rest import GateioFuturesPrivateRest, GateioFuturesPublicRest
    from cexarb.venues.gateio.futures_ws import GateioFuturesPrivateWs, GateioFuturesPublicWs
    from cexarb.venues.gateio.spot_rest import GateioSpotPrivateRest, GateioSpotPublicRest
    from cexarb.venues.gateio.spot_ws import GateioSpotPrivateWs, GateioSpotPublicWs

# Exported name -> the module defining it.
_EXPORTS = {
    "GateioFuturesPrivateRest": "futures_rest",
    "GateioFuturesPrivateWs": "futures_ws",
    "GateioFuturesPublicRest": "futures_rest",
    "GateioFuturesPublicWs": "futures_ws",
    "GateioSpotPrivateRest": "spot_rest",
    "GateioSpotPrivateWs": "spot_ws",
    "GateioSpotPublicRest": "spot_rest",
    "GateioSpotPublicWs": "spot_ws",
}

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


def __getattr__(name: str) -> Any:
    """A connector class, imported from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
