"""The `cexarb` command line."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="cexarb: MEXC and Gate.io connectors, simulator, arbitrage.")


@app.command()
def run(duration: float = typer.Option(0.0, help="Stop after N seconds (0: run until Ctrl-C).")) -> None:
    """Run the main job on the embedded simulator."""
    typer.echo("cexarb: nothing to run yet")


@app.command()
def version() -> None:
    """Print the version."""
    from cexarb import __version__

    typer.echo(__version__)
