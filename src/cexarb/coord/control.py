"""The operator's side of a fleet (no membership needed): the kill switch and the status.

`cexarb fleet` and `cexarb fleet kill/resume` use these directly; members use the
same functions, so a member and an operator trip the switch the same way.
"""

from __future__ import annotations

import time

import msgspec
from redis.asyncio import Redis

from cexarb.coord.base import FleetStatus, MemberStatus
from cexarb.coord.keys import FleetKeys

# Messages on the control channel.
HALT_PREFIX, RESUME = "halt|", "resume"
# "pause|<scope>|<ms>": a venue's 429 pauses that pool for every member (coord/scripts.py PAUSE).
PAUSE_PREFIX = "pause|"


async def halt_fleet(redis: Redis, keys: FleetKeys, reason: str, *, only_if_clear: bool = False) -> None:
    """Trip the kill switch: the persisted key first (a member restarting reads it), then the
    push that reaches every running member at once."""
    pipe = redis.pipeline(transaction=True)
    pipe.set(keys.halt, reason, nx=only_if_clear)
    pipe.publish(keys.control, HALT_PREFIX + reason)
    await pipe.execute()


async def resume_fleet(redis: Redis, keys: FleetKeys) -> None:
    pipe = redis.pipeline(transaction=True)
    pipe.delete(keys.halt)
    pipe.publish(keys.control, RESUME)
    await pipe.execute()


async def read_status(redis: Redis, keys: FleetKeys) -> FleetStatus:
    """Everything `cexarb fleet` shows, read in three pipelined round trips."""
    pipe = redis.pipeline(transaction=False)
    pipe.smembers(keys.members)
    pipe.get(keys.halt)
    pipe.hgetall(keys.risk)
    pipe.hgetall(keys.unhedged)
    pipe.hgetall(keys.budgets)
    pipe.exists(keys.events)
    names, halt, risk, unhedged, budgets, has_events = await pipe.execute()
    names = sorted(names)
    scopes = sorted(budgets)
    pipe = redis.pipeline(transaction=False)
    for name in names:
        pipe.get(keys.heartbeat(name))
        pipe.pttl(keys.heartbeat(name))
        pipe.hlen(keys.reservations(name))
    for scope in scopes:
        pipe.zrangebyscore(keys.bucket(scope), "(" + str(int(time.time() * 1000)), "+inf")
    if has_events:
        pipe.xlen(keys.events)
    replies = await pipe.execute()
    members: list[MemberStatus] = []
    for i, name in enumerate(names):
        raw, ttl_ms, nres = replies[3 * i : 3 * i + 3]
        info = msgspec.json.decode(raw) if raw else {}
        age = max(0.0, time.time() - float(info.get("ts", 0.0))) if info else float("inf")
        members.append(
            MemberStatus(
                name, raw is not None and ttl_ms > 0, age, info, int(nres), float(unhedged.get(name, 0))
            )
        )
    by_name = {m.name: m for m in members}
    budget_use: dict[str, tuple[int, int]] = {}
    base = 3 * len(names)
    for j, scope in enumerate(scopes):
        # Entries are "member|seq|count"; the score (server ms) says until when they count.
        # The ZRANGEBYSCORE bound uses this host's clock: a display, not a decision.
        used = 0
        for entry in replies[base + j]:
            holder, _, count = entry.split("|")
            used += int(count)
            m = by_name.get(holder)
            if m is not None:
                m.leases[scope] = m.leases.get(scope, 0) + int(count)
        budget_use[scope] = (used, int(budgets[scope]))
    events = int(replies[-1]) if has_events else 0
    fl = {k: float(v) for k, v in risk.items()}
    exposure = {
        k[5:]: b * fl.get("mark:" + k.rpartition(":")[2], 0.0)
        for k, b in fl.items()
        if k.startswith("base:") and k != "base:_"
    }
    pending = {k[8:]: v for k, v in fl.items() if k.startswith("pending:") and abs(v) > 1e-9}
    pnl = fl.get("cash", 0.0) + sum(exposure.values())
    return FleetStatus(
        fleet=keys.fleet,
        halted=halt is not None,
        halt_reason=halt or "",
        members=members,
        budgets=budget_use,
        at_risk=fl.get("at_risk", 0.0),
        unhedged=sum(float(v) for v in unhedged.values()),
        exposure=exposure,
        pending=pending,
        pnl=pnl,
        events=events,
    )
