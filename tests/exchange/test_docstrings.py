"""Every public method and property of the composite classes says what it does (the seed asks
for docstrings on the composite's public methods): checked over each registered composite and
every class of the composite layer it is built from."""

from __future__ import annotations

import inspect

from cexarb.exchange.registry import COMPOSITES


def _composite_layer_classes() -> set[type]:
    classes = set()
    for pair in COMPOSITES.values():
        for composite in pair:
            classes |= {c for c in composite.__mro__ if c.__module__.startswith("cexarb.exchange.")}
    return classes


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
