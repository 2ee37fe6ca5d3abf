"""`python -m cexarb.sim`: the same as `cexarb sim`."""

import typer

from cexarb.sim.cli import sim_command

if __name__ == "__main__":
    typer.run(sim_command)
