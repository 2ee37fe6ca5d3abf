"""The order parameters are stated once, in `OrderRequest`: the composite's public place_*
methods (the seed interface's signatures) build it, and everything below takes it whole."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

import pytest

import cexarb.exchange
import cexarb.venues
from cexarb.exchange.private import CompositePrivateExchange
from cexarb.model import OrderRequest
from cexarb.venues.contracts import PrivateRest
from cexarb.venues.gateio import GateioFuturesPrivateRest, GateioSpotPrivateRest
from cexarb.venues.mexc import MexcSpotPrivateRest
from tests.exchange.fakes import FakePrivateRest

ORDER_FIELDS = set(OrderRequest.__struct_fields__)
# The seed interface's public signatures (and the order lane's variants of place_limit_order):
# the only places the parameters are spelled out.
PUBLIC = {
    "place_limit_order",
    "place_market_order",
    "place_limit_order_now",
    "write_limit_order_now",
    "limit_order_bytes",
    "rehearse_limit_order",
}
# Every way a connector places an order (or states its bytes) takes the one request.
PLACING = ("place_order", "place_order_now", "write_order_now", "order_bytes")


def _modules(package) -> list:
    return [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    ]


def _classes(package) -> list[type]:
    return [
        obj
        for module in _modules(package)
        for obj in vars(module).values()
        if inspect.isclass(obj) and obj.__module__ == module.__name__
    ]


def _takes_only_the_request(func, *before: str) -> bool:
    """`func(self, *before, request: OrderRequest)`: nothing else."""
    params = list(inspect.signature(func).parameters)[1:]  # after self
    hints = typing.get_type_hints(func)
    return bool(params) and params[:-1] == list(before) and hints.get(params[-1]) is OrderRequest


@pytest.mark.parametrize("method", PLACING)
def test_every_private_rest_place_order_takes_one_order_request(method):
    implementations = [c for c in _classes(cexarb.venues) if method in vars(c)] + [FakePrivateRest]
    # The discovery must see the real connectors, or the check below proves nothing.
    assert {PrivateRest, MexcSpotPrivateRest, GateioSpotPrivateRest, GateioFuturesPrivateRest} <= set(
        implementations
    )
    restating = [c.__qualname__ for c in implementations if not _takes_only_the_request(getattr(c, method))]
    assert not restating, f"{method} restates the order parameters in: {restating}"


def test_the_composite_places_a_request_through_its_connector():
    assert _takes_only_the_request(CompositePrivateExchange._place, "rest")
    assert _takes_only_the_request(CompositePrivateExchange._write_now, "rest")


def test_nothing_below_the_public_methods_restates_the_parameters():
    """Any function of the venue or composite layers naming 4+ of the request's fields as
    parameters restates it (the public place_* methods excepted)."""
    found = []
    for package in (cexarb.venues, cexarb.exchange):
        for module in _modules(package):
            for name, obj in vars(module).items():
                if getattr(obj, "__module__", None) != module.__name__:
                    continue
                members = vars(obj).items() if inspect.isclass(obj) else [(name, obj)]
                for member_name, func in members:
                    if member_name in PUBLIC or not inspect.isfunction(func):
                        continue
                    named = ORDER_FIELDS & set(inspect.signature(func).parameters)
                    if len(named) >= 4:
                        found.append(f"{module.__name__}.{func.__qualname__}: {sorted(named)}")
    assert not found, "order parameters restated:\n" + "\n".join(found)
