"""`python -m cexarb`: the same as the `cexarb` command."""

from cexarb.cli.main import app

if __name__ == "__main__":
    app(prog_name="cexarb")
