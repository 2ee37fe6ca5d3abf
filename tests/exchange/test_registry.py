"""Registry: venue + market -> the right composite, capabilities as the venue allows."""

from __future__ import annotations

import pytest

from cexarb.config import default_config
from cexarb.exchange.capabilities import LeverageCapability, PositionCapability, WithdrawalCapability
from cexarb.exchange.futures import CompositePrivateFuturesExchange
from cexarb.exchange.gateio_futures import GateioFuturesPrivateExchange, GateioFuturesPublicExchange
from cexarb.exchange.gateio_spot import GateioSpotPrivateExchange
from cexarb.exchange.mexc_spot import MexcSpotPrivateExchange, MexcSpotPublicExchange
from cexarb.exchange.private import CompositePrivateExchange
from cexarb.exchange.registry import create_exchange
from cexarb.model import Market, Venue
from cexarb.model.errors import ConfigError


@pytest.mark.parametrize(
    "venue, market, private, cls",
    [
        ("mexc", "spot", True, MexcSpotPrivateExchange),
        ("mexc", "spot", False, MexcSpotPublicExchange),
        (Venue.GATEIO, Market.SPOT, True, GateioSpotPrivateExchange),
        ("gateio", "futures", True, GateioFuturesPrivateExchange),
        ("gateio", "futures", False, GateioFuturesPublicExchange),
    ],
)
def test_create_exchange_returns_the_venue_composite(venue, market, private, cls):
    ex = create_exchange(venue, market, default_config(), private=private)
    assert type(ex) is cls
    assert ex.config == default_config().get(venue, market)
    assert isinstance(ex, CompositePrivateExchange) is private


def test_capabilities_follow_the_venue():
    spot = create_exchange("gateio", "spot", default_config())
    futures = create_exchange("gateio", "futures", default_config())
    assert isinstance(spot, WithdrawalCapability) and not isinstance(spot, PositionCapability)
    assert isinstance(futures, CompositePrivateFuturesExchange)
    assert isinstance(futures, PositionCapability) and isinstance(futures, LeverageCapability)
    assert not isinstance(futures, WithdrawalCapability)  # Gate withdraws from the spot wallet


def test_unknown_market_is_a_config_error():
    with pytest.raises(ConfigError, match="supported"):
        create_exchange("mexc", "futures", default_config())
    with pytest.raises(ConfigError):
        create_exchange("binance", "spot", default_config())
