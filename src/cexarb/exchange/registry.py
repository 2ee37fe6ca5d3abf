"""venue + market -> composite classes. Adding a venue means adding one entry here."""

from __future__ import annotations

from typing import Any

from cexarb.config import Config
from cexarb.exchange.gateio_futures import GateioFuturesPrivateExchange, GateioFuturesPublicExchange
from cexarb.exchange.gateio_spot import GateioSpotPrivateExchange, GateioSpotPublicExchange
from cexarb.exchange.mexc_spot import MexcSpotPrivateExchange, MexcSpotPublicExchange
from cexarb.exchange.public import CompositePublicExchange
from cexarb.model import Market, Venue
from cexarb.model.errors import ConfigError

COMPOSITES: dict[
    tuple[Venue, Market], tuple[type[CompositePublicExchange], type[CompositePublicExchange]]
] = {
    (Venue.MEXC, Market.SPOT): (MexcSpotPublicExchange, MexcSpotPrivateExchange),
    (Venue.GATEIO, Market.SPOT): (GateioSpotPublicExchange, GateioSpotPrivateExchange),
    (Venue.GATEIO, Market.FUTURES): (GateioFuturesPublicExchange, GateioFuturesPrivateExchange),
}


def create_exchange(
    venue: Venue | str, market: Market | str, config: Config, private: bool = True, **kwargs: Any
) -> CompositePublicExchange:
    """The composite for `venue`/`market` (private: trading + account too), not yet initialized.

    kwargs go to the composite (settings=CompositeSettings(...), session=aiohttp session).
    """
    try:
        key = (Venue(venue), Market(market))
    except ValueError:
        raise ConfigError(f"unknown venue/market {venue!r}/{market!r}") from None
    classes = COMPOSITES.get(key)
    if classes is None:
        supported = ", ".join(f"{v.value}/{m.value}" for v, m in COMPOSITES)
        raise ConfigError(f"no composite for {key[0].value}/{key[1].value} (supported: {supported})")
    public_cls, private_cls = classes
    return (private_cls if private else public_cls)(config.get(*key), **kwargs)
