"""Every public method and property of the composite classes says what it does (the seed asks
for docstrings on the composite's public methods): checked over each registered composite, every
class of the composite layer it is built from, and the collaborators it delegates to."""

from __future__ import annotations

import inspect

from cexarb.exchange.fees import AccountFeeRates
from cexarb.exchange.fills import FillLedger
from cexarb.exchange.lostplace import LostPlaceResolver
from cexarb.exchange.recovery import StateRepairer, TouchWatch
from cexarb.exchange.registry import COMPOSITES
from cexarb.exchange.stats import TradingStatsReport
from cexarb.exchange.streamstate import StreamState
from cexarb.exchange.withdrawals import Withdrawals

# The objects a composite delegates to (built with explicit constructors, not mixed in).
COLLABORATORS = {
    AccountFeeRates,
    FillLedger,
    LostPlaceResolver,
    StateRepairer,
    TouchWatch,
    TradingStatsReport,
    StreamState,
    Withdrawals,
}


def _composite_layer_classes() -> set[type]:
    classes = set()
    for pair in COMPOSITES.values():
        for composite in pair:
            classes |= {c for c in composite.__mro__ if c.__module__.startswith("cexarb.exchange.")}
    return classes | COLLABORATORS


def test_every_public_method_of_the_composites_has_a_docstring():
    missing = []
    for cls in sorted(_composite_layer_classes(), key=lambda c: (c.__module__, c.__qualname__)):
        for name, member in vars(cls).items():
            if name.startswith("_"):
                continue
            func = (
                member.fget
                if isinstance(member, property)
                else inspect.unwrap(member)
                if callable(member)
                else None
            )
            if isinstance(func, (staticmethod, classmethod)):
                func = func.__func__
            if func is not None and not (func.__doc__ or "").strip():
                missing.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    assert not missing, "public methods without a docstring:\n" + "\n".join(missing)


def test_the_check_sees_the_whole_composite_stack():
    names = {c.__qualname__ for c in _composite_layer_classes()}
    assert {"CompositePublicExchange", "CompositePrivateExchange", "CompositePrivateFuturesExchange"} <= names
    assert "WithdrawingPrivateExchange" in names
