"""coord/ sits above transport/ and below exchange/: it imports model/, config, logs,
transport/ and itself, nothing above (and never the simulator)."""

from __future__ import annotations

import ast
from pathlib import Path

import cexarb.coord

ALLOWED = ("cexarb.coord", "cexarb.model", "cexarb.config", "cexarb.logs", "cexarb.transport")


def test_coord_imports_only_the_layers_below_it():
    root = Path(cexarb.coord.__file__).parent
    bad = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            bad += [
                f"{path.name}: {n}" for n in names if n.startswith("cexarb") and not n.startswith(ALLOWED)
            ]
    assert bad == []
