"""The event loop choice: uvloop by default where installed, asyncio on request, typed errors."""

from __future__ import annotations

import asyncio

import pytest

from cexarb import eventloop

uvloop = pytest.importorskip("uvloop", reason="uvloop not installed here (it is a Linux dependency)")


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_default_is_uvloop_and_asyncio_on_request(monkeypatch):
    monkeypatch.delenv("CEXARB_LOOP", raising=False)
    assert eventloop.run(_loop_type()) is uvloop.Loop
    assert eventloop.loop_name() == "uvloop"
    assert eventloop.run(_loop_type(), "asyncio") is not uvloop.Loop
    monkeypatch.setenv("CEXARB_LOOP", "asyncio")
    assert eventloop.loop_factory() is None and eventloop.loop_name() == "asyncio"
    assert eventloop.run(_loop_type()) is not uvloop.Loop


def test_auto_falls_back_without_uvloop_and_uvloop_insists(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "uvloop", None)  # as if not installed
    assert eventloop.loop_factory("auto") is None
    with pytest.raises(ImportError):
        eventloop.loop_factory("uvloop")


def test_unknown_choice_names_the_valid_ones(monkeypatch):
    monkeypatch.setenv("CEXARB_LOOP", "tokio")
    with pytest.raises(ValueError, match="auto, uvloop, asyncio"):
        eventloop.loop_factory()
