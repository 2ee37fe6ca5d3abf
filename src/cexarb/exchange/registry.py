"""venue + market -> composite classes: the one entry a venue adds here.

Everything else about a (venue, market) (default URLs, rate-limit pools, credential variables,
command-line names) is its spec, in its own package (cexarb/venues/<venue>/spec.py); the entry
below attaches the composite classes to it. docs/adding-a-venue.md walks through both.
"""

from __future__ import annotations

from typing import Any

from cexarb.config import Config, VenueSpec
from cexarb.exchange.gateio_futures import GateioFuturesPrivateExchange, GateioFuturesPublicExchange
from cexarb.exchange.gateio_spot import GateioSpotPrivateExchange, GateioSpotPublicExchange
from cexarb.exchange.mexc_spot import MexcSpotPrivateExchange, MexcSpotPublicExchange
from cexarb.exchange.public import CompositePublicExchange
from cexarb.model import Market, Venue
from cexarb.model.errors import ConfigError
from cexarb.venues.gateio import spec as gateio
from cexarb.venues.mexc import spec as mexc

Composite = type[CompositePublicExchange]

# The entries: a spec and its (public, private) composite classes.
ENTRIES: tuple[tuple[VenueSpec, Composite, Composite], ...] = (
    (mexc.SPOT, MexcSpotPublicExchange, MexcSpotPrivateExchange),
    (gateio.SPOT, GateioSpotPublicExchange, GateioSpotPrivateExchange),
    (gateio.FUTURES, GateioFuturesPublicExchange, GateioFuturesPrivateExchange),
)
COMPOSITES: dict[tuple[Venue, Market], tuple[Composite, Composite]] = {
    (spec.venue, spec.market): (public, private) for spec, public, private in ENTRIES
}


def create_exchange(
    venue: Venue | str, market: Market | str, config: Config, private: bool = True, **kwargs: Any
) -> CompositePublicExchange:
    """The composite for `venue`/`market` (private: trading + account too), not yet initialized.

    kwargs go to the composite (settings=CompositeSettings(...), session=aiohttp session).
    """
    supported = ", ".join(f"{v.value}/{m.value}" for v, m in COMPOSITES)
    try:
        key = (Venue(venue), Market(market))
    except ValueError:
        raise ConfigError(f"unknown venue/market {venue!r}/{market!r} (supported: {supported})") from None
    classes = COMPOSITES.get(key)
    if classes is None:
        raise ConfigError(f"no composite for {key[0].value}/{key[1].value} (supported: {supported})")
    public_cls, private_cls = classes
    return (private_cls if private else public_cls)(config.get(*key), **kwargs)
