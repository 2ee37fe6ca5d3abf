"""The composite layer is composed, not stacked: no class in cexarb.exchange has more than
two bases (a venue composite: its private base and its venue's public composite). The work
lives in collaborators with explicit constructors (see test_collaborators.py)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import cexarb.exchange

MAX_BASES = 2


def _exchange_classes() -> list[type]:
    classes = []
    for info in pkgutil.iter_modules(cexarb.exchange.__path__, "cexarb.exchange."):
        module = importlib.import_module(info.name)
        classes += [
            c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__
        ]
    return classes


def test_no_class_in_the_exchange_layer_has_more_than_two_bases():
    wide = [f"{c.__module__}.{c.__qualname__}{tuple(b.__name__ for b in c.__bases__)}" for c in _exchange_classes() if len(c.__bases__) > MAX_BASES]  # fmt: skip
    assert not wide, "classes with more than two bases:\n" + "\n".join(wide)


def test_the_check_sees_the_venue_composites():
    names = {c.__qualname__ for c in _exchange_classes()}
    assert {"GateioSpotPrivateExchange", "MexcSpotPrivateExchange", "GateioFuturesPrivateExchange"} <= names
