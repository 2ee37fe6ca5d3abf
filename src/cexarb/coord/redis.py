"""A fleet member coordinated through Redis: budgets, risk ledger, kill switch, events.

Every shared change is one atomic Lua script (coord/scripts.py). Background tasks
keep the member's view current: a heartbeat tick (joins, reads the kill switch and
the fleet's epoch, reaps members whose heartbeat expired, retries settlements), a
pub/sub listener (the kill switch reaches every member in one push), and the event
writer. `online` and `halted` are plain attribute reads for the engine.

Redis state is soft: when the server comes back empty (a restart, nothing persisted)
the fleet's epoch key is new, and each member puts back what it alone knows: its
open reservations, its share of the ledger, the kill switch if it was tripped, the
budget it spent in the last span, and the events no consumer acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
import uuid
from collections import deque

import msgspec
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cexarb.config import RateLimitPool, SharedBudget
from cexarb.coord import scripts
from cexarb.coord.base import (
    Coordinator,
    Fill,
    FleetEvent,
    FleetLimits,
    FleetStatus,
    Reservation,
)
from cexarb.coord.budget import Grant, LeasedBudget, Unreachable
from cexarb.coord.control import HALT_PREFIX, PAUSE_PREFIX, RESUME, halt_fleet, read_status, resume_fleet
from cexarb.coord.keys import FleetKeys, check_name, check_url, redact_url
from cexarb.coord.stream import EventWriter
from cexarb.logs import log_kv
from cexarb.model.errors import CoordinatorUnavailable

log = logging.getLogger("cexarb.coord")

# Errors meaning "the server is not there now" (a script bug is a ResponseError: raised).
_DOWN = (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)
_json = msgspec.json.encode
_TRIM_EVERY_S = 1.0
# Events wait this long for others to share their write (they are off the hot path).
_EVENT_LINGER_S = 0.005
_EVENT_BATCH = 200
_PAUSED = -2  # LEASE's answer while a 429 pauses the pool


def connect_redis(url: str, *, timeout_s: float = 1.0, name: str | None = None) -> Redis:
    """A client that fails fast (one immediate retry covers a connection killed while idle);
    the coordinator's own loops do the backing off. `name` shows in CLIENT LIST."""
    check_url(url)
    return Redis.from_url(
        url,
        client_name=name,
        decode_responses=True,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 1),
    )


class RedisCoordinator(Coordinator):
    def __init__(
        self,
        url: str,
        fleet: str,
        member: str,
        limits: FleetLimits | None = None,
        *,
        heartbeat_s: float = 0.25,
        heartbeat_ttl_s: float = 2.0,
        margin_s: float = 0.1,
        max_members: int = 4,
    ) -> None:
        self.url = check_url(url)
        self.fleet = check_name("fleet", fleet)
        self.member = check_name("member", member)
        self.limits = limits or FleetLimits()
        self.keys = FleetKeys(fleet)
        self.heartbeat_s = heartbeat_s
        self.heartbeat_ttl_s = heartbeat_ttl_s
        self.margin_s = margin_s
        self.redis = connect_redis(url, name=f"cexarb.{fleet}.{member}")
        r = self.redis
        self._lease_script = r.register_script(scripts.LEASE)
        self._give_back_script = r.register_script(scripts.GIVE_BACK)
        self._reserve_script = r.register_script(scripts.RESERVE)
        self._settle_script = r.register_script(scripts.SETTLE)
        self._reap_script = r.register_script(scripts.REAP)
        self._reseed_script = r.register_script(scripts.RESEED)
        self._pause_script = r.register_script(scripts.PAUSE)
        self.round_trips = 0
        self.pauses_sent = 0  # 429 pauses this member passed on to the fleet
        self.reconnects = 0
        self.reaped: list[str] = []
        self._online = False
        self._epoch: str | None = None
        self._max_members = max_members
        self.members_seen = 1
        self._halt_reason = ""
        self._halt_unsent = ""  # tripped here while the server was away
        # Bumped by every local change of the kill switch: a key read that started before
        # one must not undo it.
        self._halt_version = 0
        self._info: dict = {}
        self._budgets: dict[str, LeasedBudget] = {}
        self._open: dict[str, Reservation] = {}
        self._unsettled: deque[tuple[str, list[Fill], float]] = deque()
        self._settling = asyncio.Lock()
        self._ticking = asyncio.Lock()
        # This member's share of the ledger, exactly as applied on the server (for a reseed).
        self._base: dict[str, float] = {}
        self._mark: dict[str, float] = {}
        self._cash = 0.0
        self._unhedged = 0.0
        self._writer = EventWriter(self.keys.events)
        self._tasks: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()
        self._closing = asyncio.Event()
        self._last_trim = 0.0

    def __repr__(self) -> str:
        return f"RedisCoordinator({redact_url(self.url)!r}, fleet={self.fleet!r}, member={self.member!r})"

    # -- state read by the engine (no I/O) ------------------------------------------------
    @property
    def online(self) -> bool:
        return self._online

    @property
    def halted(self) -> bool:
        return bool(self._halt_reason)

    @property
    def halt_reason(self) -> str:
        return self._halt_reason

    @property
    def max_members(self) -> int:
        return self._max_members

    @property
    def events_pending(self) -> int:
        """Events queued and not yet confirmed written."""
        return len(self._writer.queue)

    @property
    def settlements_pending(self) -> int:
        """Settlements not yet confirmed by the fleet (sent again until they are)."""
        return len(self._unsettled)

    @property
    def events_retained(self) -> int:
        """Events written and kept for a resend until a follower acknowledges them."""
        return len(self._writer.retained)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Join (when the server answers; else start offline and keep trying) and start the loops."""
        with contextlib.suppress(Unreachable):
            await self._tick()
        loops = (self._sync_loop(), self._control_loop(), self._event_loop())
        self._tasks = [asyncio.create_task(c, name=f"coord-{self.member}-{i}") for i, c in enumerate(loops)]

    async def close(self) -> None:
        """Flush what can be flushed, give back held tokens, leave the fleet."""
        if self._online:
            with contextlib.suppress(Unreachable, *_DOWN):
                await asyncio.wait_for(self._flush_settles(), 2.0)
                await asyncio.wait_for(self._writer.flush(self.redis), 2.0)
                for b in self._budgets.values():
                    if b.held():
                        await self._give_back_now(b.scope, *b.release())
                k = self.keys
                await self.redis.delete(k.heartbeat(self.member))
                await self._reap_script(
                    keys=[k.risk, k.reservations(self.member), k.heartbeat(self.member), k.members],
                    args=[self.member, 1],
                )
        if self._writer.queue or self._unsettled:
            # The server stayed away to the end: say what the fleet never received.
            log_kv(
                log,
                logging.ERROR,
                "fleet_left_unsent",
                member=self.member,
                events=len(self._writer.queue),
                settlements=len(self._unsettled),
            )
        self._closing.set()
        for task in (*self._tasks, *self._background):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._background, return_exceptions=True)
        await self.redis.aclose()

    # -- budgets ------------------------------------------------------------------------------
    def budget(self, scope: str, pool: RateLimitPool) -> SharedBudget:
        b = self._budgets.get(scope)
        if b is None:
            b = self._budgets[scope] = LeasedBudget(scope, pool, self, self.margin_s)
        return b

    async def lease(self, budget: LeasedBudget, want: int, need: int) -> Grant:
        k = self.keys
        epoch = self._epoch or ""
        granted, wait_ms, seq = await self._rt(
            self._lease_script(
                keys=[
                    k.bucket(budget.scope),
                    k.lease_seq,
                    k.budgets,
                    k.epoch,
                    k.grace,
                    k.pause(budget.scope),
                ],
                args=[
                    budget.shared_capacity,
                    want,
                    need,
                    int(budget.span_s * 1000),
                    self.member,
                    epoch,
                    budget.scope,
                ],
            )
        )
        if int(granted) == _PAUSED:
            budget.hold(int(wait_ms) / 1000.0)  # the pause message did not reach us (yet)
            return Grant(0, int(wait_ms) / 1000.0, 0)
        if int(granted) < 0:
            # The server lost the fleet's state since our last tick: put our part back first.
            await self._tick()
            return Grant(0, 0.0, 0)
        return Grant(int(granted), int(wait_ms) / 1000.0, int(seq))

    def pause(self, budget: LeasedBudget, seconds: float) -> None:
        if self._online:
            self._spawn(self._pause_fleet(budget.scope, seconds))

    async def _pause_fleet(self, scope: str, seconds: float) -> None:
        # Best effort: offline, this member still pauses itself, and the venue refuses the others.
        ms = max(1, math.ceil(seconds * 1000))
        with contextlib.suppress(Unreachable):
            await self._rt(
                self._pause_script(
                    keys=[self.keys.pause(scope), self.keys.control], args=[ms, self.member, scope]
                )
            )
            self.pauses_sent += 1
            log_kv(
                log, logging.WARNING, "fleet_pool_paused", member=self.member, scope=scope, seconds=seconds
            )

    def give_back(self, budget: LeasedBudget, seq: int, spent: int) -> None:
        if self._online:
            self._spawn(self._give_back_now(budget.scope, seq, spent))

    async def _give_back_now(self, scope: str, seq: int, spent: int) -> None:
        # Best effort: a token not given back is only counted until its span ends.
        with contextlib.suppress(Unreachable):
            await self._rt(
                self._give_back_script(keys=[self.keys.bucket(scope)], args=[self.member, seq, spent])
            )

    # -- risk -----------------------------------------------------------------------------------
    async def reserve(self, reservation: Reservation) -> str | None:
        if self.halted:
            return "kill_switch"
        if not self._online:
            return "fleet_offline"
        k = self.keys
        args = {
            "id": reservation.id,
            "at_risk": reservation.at_risk,
            "legs": [[f"{v}:{a}", n] for v, a, n in reservation.legs],
            "max_unhedged": self.limits.max_unhedged_notional,
            "max_exposure": self.limits.max_exposure_notional,
        }
        try:
            answer = await self._rt(
                self._reserve_script(
                    keys=[k.risk, k.unhedged, k.reservations(self.member), k.halt], args=[_json(args)]
                )
            )
        except Unreachable:
            return "fleet_offline"
        if answer == "ok":
            self._open[reservation.id] = reservation
            return None
        if answer == "kill_switch" and not self._halt_reason:
            self._set_halt("kill_switch")  # the next tick reads the reason
        return answer

    async def settle(self, reservation_id: str, fills: list[Fill], unhedged: float) -> None:
        self._unsettled.append((reservation_id, fills, unhedged))
        with contextlib.suppress(Unreachable):
            if not await self._flush_settles():
                await self._tick()  # the server lost the fleet's state: reseed, then flush

    async def _flush_settles(self) -> bool:
        """Send the queued settlements; False when the server's epoch is not ours (they wait
        for the reseed)."""
        # One flusher at a time (settle and the tick both flush): each is sent once, in order.
        async with self._settling:
            return await self._flush_settles_locked()

    async def _flush_settles_locked(self) -> bool:
        k = self.keys
        while self._unsettled:
            rid, fills, unhedged = self._unsettled[0]
            args = {
                "id": rid,
                "member": self.member,
                "epoch": self._epoch or "",
                "unhedged": unhedged,
                "loss_limit": self.limits.loss_limit,
                "fills": [[f"{f.venue}:{f.asset}", f.base, f.price, f.fee] for f in fills],
            }
            tripped, pnl = await self._rt(
                self._settle_script(
                    keys=[
                        k.risk,
                        k.unhedged,
                        k.reservations(self.member),
                        k.halt,
                        k.settled(self.member),
                        k.epoch,
                    ],
                    args=[_json(args)],
                )
            )
            if int(tripped) < 0:
                return False
            self._unsettled.popleft()
            self._open.pop(rid, None)
            for f in fills:
                key = f"{f.venue}:{f.asset}"
                self._base[key] = self._base.get(key, 0.0) + f.base
                self._mark[f.asset] = f.price
                self._cash += -f.base * f.price - f.fee
            self._unhedged = unhedged
            if int(tripped):
                reason = f"fleet loss_limit pnl={float(pnl):.4f}"
                log_kv(log, logging.ERROR, "fleet_kill_switch", member=self.member, reason=reason)
                await self._publish_halt(reason)
        return True

    # -- kill switch ----------------------------------------------------------------------------
    async def halt(self, reason: str) -> None:
        reason = reason or "halted"
        self._set_halt(reason)
        self.emit("kill", f"kill:{self.member}:{time.time_ns()}", {"reason": reason})
        try:
            await self._publish_halt(reason)
        except Unreachable:
            self._halt_unsent = reason

    async def resume(self) -> None:
        try:
            await self._rt(resume_fleet(self.redis, self.keys))
        except Unreachable as exc:
            raise CoordinatorUnavailable(f"cannot resume fleet {self.fleet}: {exc}") from None
        self._halt_unsent = ""
        self._set_halt("")
        self.emit("resume", f"resume:{self.member}:{time.time_ns()}", {})

    async def _publish_halt(self, reason: str) -> None:
        self._set_halt(reason)
        await self._rt(halt_fleet(self.redis, self.keys, reason, only_if_clear=False))

    def _set_halt(self, reason: str) -> None:
        self._halt_reason = reason
        self._halt_version += 1

    def _apply_control(self, message: str) -> None:
        if message.startswith(PAUSE_PREFIX):
            scope, _, ms = message[len(PAUSE_PREFIX) :].rpartition("|")
            budget = self._budgets.get(scope)
            if budget is not None and ms.isdigit():
                budget.hold(int(ms) / 1000.0)
        elif message.startswith(HALT_PREFIX):
            self._set_halt(message[len(HALT_PREFIX) :] or "halted")
            log_kv(log, logging.ERROR, "fleet_halted", member=self.member, reason=self._halt_reason)
        elif message == RESUME:
            self._halt_unsent = ""
            self._set_halt("")
            log_kv(log, logging.WARNING, "fleet_resumed", member=self.member)

    # -- events and heartbeat info -----------------------------------------------------------
    def emit(self, kind: str, event_id: str, data: dict, body: bytes = b"") -> None:
        self._writer.put(FleetEvent(event_id, kind, self.member, time.time(), data, body))

    def report(self, info: dict) -> None:
        self._info = dict(info)

    async def status(self) -> FleetStatus:
        try:
            return await self._rt(read_status(self.redis, self.keys))
        except Unreachable as exc:
            raise CoordinatorUnavailable(f"cannot read fleet {self.fleet}: {exc}") from None

    # -- background loops -----------------------------------------------------------------------
    async def _sync_loop(self) -> None:
        backoff = self.heartbeat_s
        while not self._closing.is_set():
            try:
                await asyncio.wait_for(self._closing.wait(), backoff)
                return
            except TimeoutError:
                pass
            try:
                await self._tick()
                backoff = self.heartbeat_s
            except Unreachable:
                backoff = min(max(backoff * 2, 0.05), 2.0)

    async def _tick(self) -> None:
        async with self._ticking:  # the sync loop and a lease may both ask for one
            await self._tick_locked()

    async def _tick_locked(self) -> None:
        k, me = self.keys, self.member
        r = self.redis
        was_online = self._online
        if self._epoch is None:
            # Joining: a previous run under this name died with reservations; its trades are over.
            await self._rt(
                self._reap_script(keys=[k.risk, k.reservations(me), k.heartbeat(me), k.members], args=[me, 1])
            )
        info = {**self._info, "online": was_online, "pid": os.getpid(), "ts": time.time()}
        version = self._halt_version
        pipe = r.pipeline(transaction=False)
        pipe.set(k.heartbeat(me), _json(info), px=int(self.heartbeat_ttl_s * 1000))
        pipe.sadd(k.members, me)
        pipe.set(k.epoch, uuid.uuid4().hex, nx=True)
        pipe.get(k.epoch)
        pipe.get(k.halt)
        pipe.smembers(k.members)
        replies = await self._rt(pipe.execute())
        epoch, halt, members = replies[3], replies[4], replies[5]
        if self._epoch is not None and epoch != self._epoch:
            await self._reseed(epoch)
        elif self._halt_unsent:
            await self._publish_halt(self._halt_unsent)
            self._halt_unsent = ""
        elif version == self._halt_version and (halt or "") != self._halt_reason:
            self._set_halt(halt or "")  # changed while this member was not listening
        self._epoch = epoch
        self._set_online()
        await self._flush_settles()
        await self._reap(members - {me})
        if time.monotonic() - self._last_trim > _TRIM_EVERY_S:
            self._last_trim = time.monotonic()
            await self._rt(self._writer.trim(r, k.epoch, self._epoch))

    async def _reap(self, others: set[str]) -> None:
        k = self.keys
        if not others:
            self.members_seen = 1
            return
        names = sorted(others)
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.exists(k.heartbeat(name))
        alive = await self._rt(pipe.execute())
        self.members_seen = 1 + sum(1 for a in alive if a)
        if self.members_seen > self._max_members:
            log_kv(
                log,
                logging.ERROR,
                "fleet_too_large",
                members=self.members_seen,
                max_members=self._max_members,
            )
        for name, a in zip(names, alive, strict=True):
            if not a:
                released = await self._rt(
                    self._reap_script(
                        keys=[k.risk, k.reservations(name), k.heartbeat(name), k.members], args=[name, 0]
                    )
                )
                if int(released) >= 0:
                    self.reaped.append(name)
                    log_kv(log, logging.WARNING, "member_reaped", member=name, reservations=released)
                    self.emit("reaped", f"reaped:{name}:{time.time_ns()}", {"member": name})

    async def _reseed(self, epoch: str) -> None:
        """The server lost the fleet's state: put back this member's part of it."""
        k, me = self.keys, self.member
        log_kv(log, logging.WARNING, "fleet_reseed", member=me, reservations=len(self._open))
        args = {
            "member": me,
            "unhedged": self._unhedged,
            "reservations": [
                [r.id, r.at_risk, [[f"{v}:{a}", n] for v, a, n in r.legs]] for r in self._open.values()
            ],
            "base": self._base or {"_": 0},  # cjson: an empty table would encode as an array
            "mark": self._mark or {"_": 0},
            "cash": self._cash,
        }
        await self._rt(
            self._reseed_script(
                keys=[k.risk, k.unhedged, k.reservations(me), k.reseeded(epoch)], args=[_json(args)]
            )
        )
        await self._rt(self.redis.hdel(k.risk, "base:_", "mark:_"))
        reason = self._halt_unsent or self._halt_reason
        if reason:
            await self._rt(halt_fleet(self.redis, k, reason, only_if_clear=True))
            self._halt_unsent = ""
        # What the lost server granted counts at the venues until its span ends: grant
        # nothing new until then (the longest span of our pools; others extend it to theirs).
        grace_ms = int(max((b.span_s for b in self._budgets.values()), default=0.0) * 1000)
        if grace_ms:
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(k.grace, 1, px=grace_ms, nx=True)
            pipe.pexpire(k.grace, grace_ms, gt=True)
            await self._rt(pipe.execute())
        self._writer.resend_all()

    async def _control_loop(self) -> None:
        backoff = 0.05
        while not self._closing.is_set():
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.keys.control)
                # A message published while we were not subscribed is gone: read the key.
                version = self._halt_version
                halt = await self.redis.get(self.keys.halt)
                if halt is not None and version == self._halt_version:
                    self._set_halt(halt)
                backoff = 0.05
                while not self._closing.is_set():
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if msg is not None and msg.get("type") == "message":
                        self._apply_control(msg["data"])
            except _DOWN:
                await self._pause(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _event_loop(self) -> None:
        backoff = 0.05
        writer = self._writer
        while not self._closing.is_set():
            if not writer.queue:
                writer.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(writer.wake.wait(), 0.5)
                continue
            if len(writer.queue) < _EVENT_BATCH:
                await self._pause(_EVENT_LINGER_S)  # let a burst's events share one round trip
            try:
                self.round_trips += 1
                await writer.flush(self.redis)
                backoff = 0.05
            except _DOWN as exc:
                self._set_offline(exc)
                await self._pause(backoff)
                backoff = min(backoff * 2, 2.0)

    # -- plumbing -------------------------------------------------------------------------------
    async def _rt(self, awaitable):
        """One round trip: counted, and a server that is away becomes Unreachable (offline)."""
        self.round_trips += 1
        try:
            return await awaitable
        except _DOWN as exc:
            self._set_offline(exc)
            raise Unreachable(f"{type(exc).__name__}: {exc}") from None

    def _set_online(self) -> None:
        if not self._online:
            level = logging.WARNING if self.reconnects else logging.INFO
            log_kv(log, level, "coordinator_online", member=self.member, reconnects=self.reconnects)
            self._online = True

    def _set_offline(self, exc: BaseException) -> None:
        if self._online:
            self._online = False
            self.reconnects += 1
            log_kv(log, logging.ERROR, "coordinator_offline", member=self.member, error=type(exc).__name__)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
