"""MEXC spot v3 connector: REST (HMAC-SHA256 query signing) and protobuf WebSockets.

Constructors (what the composite calls):
    MexcSpotPublicRest(config)
    MexcSpotPrivateRest(config, symbols_info)
    MexcSpotPublicWs(config, handlers, symbols_info)
    MexcSpotPrivateWs(config, handlers, symbols_info, rest)
"""

from cexarb.venues.mexc.spot_private_ws import MexcSpotPrivateWs
from cexarb.venues.mexc.spot_rest import MexcSpotPrivateRest, MexcSpotPublicRest
from cexarb.venues.mexc.spot_ws import MexcSpotPublicWs

__all__ = ["MexcSpotPrivateRest", "MexcSpotPrivateWs", "MexcSpotPublicRest", "MexcSpotPublicWs"]
