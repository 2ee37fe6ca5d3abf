"""What MEXC answered to our SUBSCRIPTION requests.

MEXC answers every request with `code` 0, refusals included: success is a reply whose `msg`
echoes the requested channel(s), a refusal reads
`Not Subscribed successfully! [ch1,ch2].  Reason： Blocked! ` (a retired channel, an unknown
symbol, too many topics on the connection). Counting any `code == 0` as an ack leaves a blocked
stream running silent, so each channel is confirmed by name here.

While a caller waits (initialize, add_symbol) a refusal fails its wait naming the channels. A
refusal nobody waits for (the replay after a reconnect, a retry) is counted, logged once per
channel, reported to the stream's error handler and retried with capped exponential backoff;
the channels still refused are in the stream's stats (`failed_subscriptions`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable

from cexarb.logs import log_kv
from cexarb.model.errors import SubscriptionRejected
from cexarb.venues.mexc.errors import VENUE

_log = logging.getLogger(__name__)

# The refusal as MEXC words it (full-width colon after "Reason" in the published payloads).
_REFUSED = re.compile(
    r"Not Subscribed successfully!?\s*\[(?P<channels>[^\]]*)\]\.?\s*Reason\s*[:：]\s*(?P<why>.*)", re.S
)
REJECTED_KIND = "SubscriptionRejected"


def parse_refusal(msg: str) -> tuple[list[str], str] | None:
    """(refused channels, reason) of a refusal reply; None when `msg` is not one."""
    m = _REFUSED.search(msg)
    if m is None:
        return None
    channels = [c.strip() for c in m.group("channels").split(",") if c.strip()]
    return channels, m.group("why").strip()


class _Wait:
    __slots__ = ("remaining", "future")

    def __init__(self, channels: Iterable[str]) -> None:
        self.remaining = set(channels)
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Whoever awaits it still gets the refusal; one nobody awaits any more (the caller was
        # cancelled first) must not end as "Future exception was never retrieved".
        self.future.add_done_callback(_retrieve)


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class ChannelSubscriptions:
    """The channels a MEXC stream follows, confirmed one by one from the venue's replies."""

    def __init__(
        self,
        name: str,
        resend: Callable[[list[str]], Awaitable[None]],
        on_error: Callable[[Exception], None],
        *,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
    ) -> None:
        self._name = name
        self._resend = resend
        self._on_error = on_error
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._wanted: set[str] = set()
        self._waits: list[_Wait] = []
        self._attempts: dict[str, int] = {}  # channel -> refusals in a row (retry backoff)
        self._retrying: dict[str, asyncio.Task[None]] = {}
        self.failed: dict[str, str] = {}  # channel -> the venue's reason, while it stays refused
        self.rejected = 0  # refusals received, all channels counted
        self.confirmed = 0  # channel confirmations received

    def want(self, channels: Iterable[str]) -> asyncio.Future[None]:
        """Follow `channels`; the future resolves once the venue confirmed each of them, or
        fails with SubscriptionRejected naming those it refused."""
        wait = _Wait(channels)
        self._wanted.update(wait.remaining)
        self._waits.append(wait)
        return wait.future

    def drop(self, channels: Iterable[str]) -> None:
        """Stop following `channels` (unsubscribed): no retry, not reported as failed."""
        for channel in channels:
            self._wanted.discard(channel)
            self.failed.pop(channel, None)
            self._attempts.pop(channel, None)
            task = self._retrying.pop(channel, None)
            if task is not None:
                task.cancel()

    async def wait(self, future: asyncio.Future[None], timeout_s: float) -> None:
        """Wait for `future` from `want`. A refusal raises; no reply within `timeout_s` is
        logged and tolerated (the channel stays pending: a late refusal is handled at runtime,
        a silent stream by the transport's watchdog)."""
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.shield(future)
        except TimeoutError:
            log_kv(
                _log, logging.WARNING, "ws_subscription_unconfirmed", stream=self._name, timeout_s=timeout_s
            )
        finally:
            self.forget(future)

    def forget(self, future: asyncio.Future[None]) -> None:
        """Nobody waits on `future` any more: a later refusal of its channels takes the runtime
        path (counted, retried); an outcome it already holds is consumed."""
        self._waits = [w for w in self._waits if w.future is not future]
        if future.done():
            if not future.cancelled():
                future.exception()
        else:
            future.cancel()

    def on_reply(self, msg: str) -> bool:
        """Read one control reply's `msg`; True when it answered a subscription request."""
        refusal = parse_refusal(msg)
        if refusal is not None:
            self._refused(*refusal)
            return True
        echoed = [c for c in (part.strip() for part in msg.split(",")) if c in self._wanted]
        if not echoed:
            return False  # PONG, an unsubscription echo, or a channel we no longer follow
        for channel in echoed:
            self._confirm(channel)
        return True

    def _confirm(self, channel: str) -> None:
        self.confirmed += 1
        if self.failed.pop(channel, None) is not None:
            log_kv(_log, logging.INFO, "ws_subscription_recovered", stream=self._name, channel=channel)
        self._attempts.pop(channel, None)
        for wait in list(self._waits):
            wait.remaining.discard(channel)
            if not wait.remaining:
                self._waits.remove(wait)
                if not wait.future.done():
                    wait.future.set_result(None)

    def _refused(self, channels: list[str], why: str) -> None:
        channels = [c for c in channels if c in self._wanted]
        if not channels:
            return  # a channel we no longer follow
        self.rejected += len(channels)
        err = SubscriptionRejected(
            f"{self._name}: subscription refused for {', '.join(channels)}: {why}",
            venue=VENUE,
            channels=tuple(channels),
        )
        waited = False
        for wait in list(self._waits):
            if wait.remaining.intersection(channels):
                waited = True
                self._waits.remove(wait)
                if not wait.future.done():
                    wait.future.set_exception(err)
        if waited:
            return  # the caller gets the error; it decides (initialize fails, add_symbol undoes)
        self._on_error(err)
        for channel in channels:
            if channel not in self.failed:
                log_kv(
                    _log,
                    logging.WARNING,
                    "ws_subscription_refused",
                    stream=self._name,
                    channel=channel,
                    reason=why,
                )
            self.failed[channel] = why
            self._schedule_retry(channel)

    def _schedule_retry(self, channel: str) -> None:
        if channel in self._retrying:
            return
        attempt = self._attempts[channel] = self._attempts.get(channel, 0) + 1
        delay = min(self._backoff_max_s, self._backoff_initial_s * 2 ** (attempt - 1))

        async def retry() -> None:
            try:
                await asyncio.sleep(delay)
            finally:
                self._retrying.pop(channel, None)
            if channel in self._wanted and channel in self.failed:
                with contextlib.suppress(Exception):  # down: the reconnect replays it anyway
                    await self._resend([channel])

        self._retrying[channel] = asyncio.get_running_loop().create_task(
            retry(), name=f"ws-resubscribe:{channel}"
        )

    def close(self) -> None:
        for task in self._retrying.values():
            task.cancel()
        self._retrying.clear()
        for wait in self._waits:
            wait.future.cancel()
        self._waits.clear()
