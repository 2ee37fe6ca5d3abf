"""`cexarb fleet ...`: a fleet of engines seen from outside (no membership needed).

`cexarb fleet --coordinator URL` shows members, heartbeats, leases, budgets, exposures
and the kill switch; `kill` and `resume` flip the kill switch for every member.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Annotated

import typer
from rich.console import Console

from cexarb.cli.exits import typed_errors_exit
from cexarb.coord.base import FleetStatus
from cexarb.model.errors import CoordinatorUnavailable

fleet_app = typer.Typer(help="A fleet of engines sharing accounts through Redis.", rich_markup_mode=None)

CoordinatorUrl = Annotated[
    str, typer.Option("--coordinator", help="The fleet's Redis: redis://HOST:PORT/DB (rediss:// for TLS).")
]
FleetName = Annotated[str, typer.Option("--fleet", help="The fleet's name.")]


async def _with_redis(url: str, fleet: str, action):
    from redis.exceptions import RedisError

    from cexarb.coord.keys import FleetKeys, check_name, redact_url
    from cexarb.coord.redis import connect_redis

    check_name("fleet", fleet)
    redis = connect_redis(url, timeout_s=3.0)
    try:
        return await action(redis, FleetKeys(fleet))
    except (RedisError, OSError) as exc:
        raise CoordinatorUnavailable(f"coordinator {redact_url(url)}: {type(exc).__name__}: {exc}") from None
    finally:
        await redis.aclose()


@fleet_app.callback(invoke_without_command=True)
def fleet_command(ctx: typer.Context, coordinator: CoordinatorUrl = "", fleet: FleetName = "default") -> None:
    """Show the fleet: members and heartbeats, leases and budgets, reservations, exposure
    per venue and asset, PnL, the kill switch.

      cexarb fleet --coordinator redis://127.0.0.1:6379/0
      cexarb fleet kill --coordinator redis://127.0.0.1:6379/0 --reason "desk closed"
      cexarb fleet resume --coordinator redis://127.0.0.1:6379/0
    """
    if ctx.invoked_subcommand is not None:
        return
    if not coordinator:
        raise typer.BadParameter("required", param_hint="--coordinator")
    from cexarb.coord.control import read_status

    with typed_errors_exit():
        status = asyncio.run(_with_redis(coordinator, fleet, read_status))
    show_status(Console(), status)


@fleet_app.command("kill")
def kill_command(
    coordinator: CoordinatorUrl,
    fleet: FleetName = "default",
    reason: Annotated[
        str, typer.Option("--reason", help="Shown by every member and in the journal.")
    ] = "operator",
) -> None:
    """Halt new orders on every member now (members keep managing open orders and hedges).
    The switch stays on, for members that restart too, until `cexarb fleet resume`."""
    from cexarb.coord.control import halt_fleet

    with typed_errors_exit():
        asyncio.run(_with_redis(coordinator, fleet, lambda r, k: halt_fleet(r, k, f"operator: {reason}")))
    typer.echo(f"fleet {fleet}: kill switch ON ({reason})")


@fleet_app.command("resume")
def resume_command(coordinator: CoordinatorUrl, fleet: FleetName = "default") -> None:
    """Clear the kill switch: every member may open positions again."""
    from cexarb.coord.control import resume_fleet

    with typed_errors_exit():
        asyncio.run(_with_redis(coordinator, fleet, resume_fleet))
    typer.echo(f"fleet {fleet}: kill switch off")


def show_status(console: Console, s: FleetStatus) -> None:
    out = functools.partial(console.print, highlight=False, soft_wrap=True)
    out(f"fleet {s.fleet}: {'KILL SWITCH ON: ' + s.halt_reason if s.halted else 'trading allowed'}")
    out(f"members ({len(s.members)}):")
    for m in s.members:
        state = "alive" if m.alive else "EXPIRED"
        leases = ", ".join(f"{k}={v}" for k, v in sorted(m.leases.items())) or "-"
        pnl = m.info.get("pnl")
        pnl_text = f"{pnl:.4f}" if isinstance(pnl, int | float) else "-"
        online = "" if m.info.get("online", True) else "  (coordinator offline)"
        out(
            f"  {m.name:<16} {state:<8} heartbeat {m.age_s:6.2f}s ago  pnl {pnl_text:>10}  "
            f"taken {m.info.get('taken', '-')}  reservations {m.reservations}  unhedged {m.unhedged:.2f}  "
            f"leases {leases}{online}"
        )
    out("budgets (tokens counted / shared capacity):")
    for scope, (used, cap) in sorted(s.budgets.items()):
        out(f"  {scope:<28} {used:>5} / {cap}")
    out(
        f"risk: at risk {s.at_risk:.2f}  unhedged {s.unhedged:.2f}  pnl {s.pnl:.4f} (at the fleet's last prices)"
    )
    out("exposure per venue:asset (notional; pending = reserved by trades under way):")
    for key in sorted(set(s.exposure) | set(s.pending)):
        out(f"  {key:<24} {s.exposure.get(key, 0.0):>12.2f}  pending {s.pending.get(key, 0.0):>10.2f}")
    out(f"events in the stream: {s.events}")
