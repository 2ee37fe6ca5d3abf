from __future__ import annotations

import asyncio

import pytest

from cexarb.model.errors import ExchangeError, NetworkError
from cexarb.venues.mexc.listen_key import ListenKeyKeeper
from tests.support import eventually


class FakeKeys:
    def __init__(self) -> None:
        self.valid: set[str] = set()
        self.deleted: list[str] = []
        self.keepalives: list[str] = []
        self.network_down = False
        self._n = 0

    async def create_listen_key(self) -> str:
        self._n += 1
        key = f"key{self._n}"
        self.valid.add(key)
        return key

    async def keepalive_listen_key(self, listen_key: str) -> None:
        if self.network_down:
            raise NetworkError("down")
        self.keepalives.append(listen_key)
        if listen_key not in self.valid:
            raise ExchangeError("listenKey does not exist", code=730002)

    async def delete_listen_key(self, listen_key: str) -> None:
        self.deleted.append(listen_key)
        self.valid.discard(listen_key)


async def _noop() -> None:
    return None


async def test_first_connect_creates_then_reuses_after_keepalive():
    rest = FakeKeys()
    keeper = ListenKeyKeeper(rest, _noop)
    assert await keeper.current() == "key1"
    assert await keeper.current() == "key1"
    assert rest.keepalives == ["key1"] and keeper.created == 1


async def test_expired_key_is_replaced_on_reconnect_and_old_one_deleted():
    rest = FakeKeys()
    keeper = ListenKeyKeeper(rest, _noop)
    await keeper.current()
    rest.valid.clear()  # expired on the venue while the stream was down
    assert await keeper.current() == "key2"
    assert keeper.created == 2 and "key1" in rest.deleted


async def test_invalidated_key_is_replaced_without_asking():
    rest = FakeKeys()
    keeper = ListenKeyKeeper(rest, _noop)
    await keeper.current()
    keeper.invalidate()
    assert await keeper.current() == "key2"
    assert rest.keepalives == []


async def test_network_failure_keeps_the_key():
    rest = FakeKeys()
    keeper = ListenKeyKeeper(rest, _noop)
    await keeper.current()
    rest.network_down = True
    with pytest.raises(NetworkError):
        await keeper.current()
    rest.network_down = False
    assert await keeper.current() == "key1"


async def test_periodic_keepalive_and_replacement_when_refused():
    rest = FakeKeys()
    replaced = asyncio.Event()

    async def on_replaced() -> None:
        replaced.set()

    keeper = ListenKeyKeeper(rest, on_replaced, keepalive_interval_s=0.01)
    await keeper.current()
    keeper.start()
    await eventually(lambda: len(rest.keepalives) >= 2, what="two keepalives")
    assert set(rest.keepalives) == {"key1"}
    rest.valid.clear()
    await asyncio.wait_for(replaced.wait(), 5)
    # The stream reconnects and asks for a key: a new one.
    assert await keeper.current() == "key2"
    await keeper.close()
    assert rest.deleted[-1] == "key2" and keeper.key is None
