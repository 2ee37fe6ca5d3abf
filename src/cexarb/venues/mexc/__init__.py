"""MEXC spot v3 connector: REST (HMAC-SHA256 query signing) and protobuf WebSockets.

Constructors (what the composite calls):
    MexcSpotPublicRest(config)
    MexcSpotPrivateRest(config, symbols_info)
    MexcSpotPublicWs(config, handlers, symbols_info)
    MexcSpotPrivateWs(config, handlers, symbols_info, rest)

The classes load on first use, so reading `spec` (config does, for every process) does not
load the connectors, which themselves read config.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cexarb.venues.mexc.spot_private_ws import MexcSpotPrivateWs
    from cexarb.venues.mexc.spot_rest import MexcSpotPrivateRest, MexcSpotPublicRest
    from cexarb.venues.mexc.spot_ws import MexcSpotPublicWs

# Exported name -> the module defining it.
_EXPORTS = {
    "MexcSpotPrivateRest": "spot_rest",
    "MexcSpotPrivateWs": "spot_private_ws",
    "MexcSpotPublicRest": "spot_rest",
    "MexcSpotPublicWs": "spot_ws",
}

__all__ = ["MexcSpotPrivateRest", "MexcSpotPrivateWs", "MexcSpotPublicRest", "MexcSpotPublicWs"]


def __getattr__(name: str) -> Any:
    """A connector class, imported from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
