"""The `cexarb` command line: `run` (the main job), `sim` (the simulator) and operator commands."""

from __future__ import annotations

import typer

from cexarb.cli import ops
from cexarb.cli.fleet_cmd import fleet_app
from cexarb.cli.journal_cmd import journal_app
from cexarb.cli.report import report_command
from cexarb.cli.runner import run_command
from cexarb.sim.cli import sim_command

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    # Help texts name TOML tables like [mexc.spot]; rich markup would swallow them.
    rich_markup_mode=None,
    help="cexarb: MEXC and Gate.io connectors, an exchange simulator and a cross-venue arbitrage engine.",
)

app.command("run")(run_command)
app.command("sim")(sim_command)
app.command("report")(report_command)
app.add_typer(journal_app, name="journal")
app.add_typer(fleet_app, name="fleet")
ops.register(app)


@app.command()
def version() -> None:
    """Print the version."""
    from cexarb import __version__

    typer.echo(__version__)
