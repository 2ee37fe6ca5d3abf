"""The listen key of MEXC's user data stream: create, keep alive, replace when it dies.

A key lives 60 minutes after its creation or last keepalive (PUT); MEXC recommends a
keepalive every 30. Before every (re)connect the current key is confirmed with a
keepalive, so a key that expired while the stream was down is replaced instead of
being rejected by the server. When the periodic keepalive is refused, the key is
replaced and `on_replaced` reconnects the stream with the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from cexarb.logs import log_kv
from cexarb.model.errors import ExchangeError, NetworkError

_log = logging.getLogger(__name__)


class ListenKeyRest(Protocol):
    async def create_listen_key(self) -> str: ...
    async def keepalive_listen_key(self, listen_key: str) -> None: ...
    async def delete_listen_key(self, listen_key: str) -> None: ...


class ListenKeyKeeper:
    def __init__(
        self,
        rest: ListenKeyRest,
        on_replaced: Callable[[], Awaitable[None]],
        *,
        keepalive_interval_s: float = 1800.0,
        retry_interval_s: float = 5.0,
    ) -> None:
        self._rest = rest
        self._on_replaced = on_replaced
        self._interval_s = keepalive_interval_s
        self._retry_s = min(retry_interval_s, keepalive_interval_s)
        self._key: str | None = None
        self._valid = False
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.created = 0  # keys created so far (for stats and tests)

    @property
    def key(self) -> str | None:
        return self._key

    async def current(self) -> str:
        """A key the venue accepts now: the current one after a keepalive, else a new one."""
        async with self._lock:
            if self._key is not None and self._valid:
                try:
                    await self._rest.keepalive_listen_key(self._key)
                    return self._key
                except NetworkError:
                    raise  # the connect attempt fails and is retried with the same key
                except ExchangeError:
                    self._valid = False
            return await self._create()

    def invalidate(self) -> None:
        """The server refused the key (e.g. "Invalid listen key"): the next connect replaces it."""
        self._valid = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._keep_alive(), name="mexc-listen-key")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        key, self._key = self._key, None
        if key is not None:
            with contextlib.suppress(ExchangeError):
                await self._rest.delete_listen_key(key)

    async def _create(self) -> str:
        old = self._key
        self._key = await self._rest.create_listen_key()
        self._valid = True
        self.created += 1
        if old is not None and old != self._key:
            with contextlib.suppress(ExchangeError):
                await self._rest.delete_listen_key(old)
        return self._key

    async def _keep_alive(self) -> None:
        delay = self._interval_s
        while True:
            await asyncio.sleep(delay)
            delay = self._interval_s
            key = self._key
            if key is None or not self._valid:
                continue  # the next connect creates one
            try:
                await self._rest.keepalive_listen_key(key)
            except NetworkError as exc:
                log_kv(_log, logging.WARNING, "listen_key_keepalive_failed", error=str(exc))
                delay = self._retry_s
            except ExchangeError as exc:
                # The venue refused the key: it expired or was closed. Replace it and reconnect.
                log_kv(_log, logging.WARNING, "listen_key_refused", error=str(exc))
                self.invalidate()
                try:
                    await self._on_replaced()
                except Exception as reconnect_exc:  # noqa: BLE001 - keep the keeper alive
                    log_kv(_log, logging.ERROR, "listen_key_reconnect_failed", error=repr(reconnect_exc))
                    delay = self._retry_s
