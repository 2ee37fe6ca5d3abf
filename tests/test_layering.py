"""Imports point down the layers, checked on the source text of every module under src/cexarb.

The stack, bottom to top: model <- transport <- coord <- venues <- exchange <- journal <- arb <- cli.
A layer imports itself and the layers below it, never one above. Foundation modules (config,
logs, eventloop, the package root) may be imported by every layer and import only model.
sim/ stands apart: it imports model, transport and the foundation only, and nothing but cli
imports it. One read goes the other way at run time: config reads each venue package's `spec`
module (cexarb.config.venue_specs finds them by path), so those import only config and model. Every import statement counts, including those inside functions (lazy imports),
so a late `import cexarb.exchange...` in a transport helper fails here just the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cexarb

SRC = Path(cexarb.__file__).parent

STACK = ("model", "transport", "coord", "venues", "exchange", "journal", "arb", "cli")
FOUNDATION = ("config", "logs", "eventloop", "cexarb")  # "cexarb": the package root (__version__)
SIM_MAY_IMPORT = ("model", "transport")
# __main__ is the `python -m cexarb` entry point: the top of the stack, like cli.
ALIASES = {"__main__": "cli"}


def allowed(src: str, dst: str) -> bool:
    """May a module of layer `src` import one of layer `dst`?"""
    if src == dst:
        return True
    if src in FOUNDATION:
        return dst in FOUNDATION or dst == "model"
    if dst in FOUNDATION:
        return True
    if src == "sim":
        return dst in SIM_MAY_IMPORT
    if dst == "sim":
        return src == "cli"
    return STACK.index(dst) < STACK.index(src)


def layer_of(module: str) -> str:
    """`cexarb.venues.gateio.spot_ws` -> "venues"; `cexarb` (the root) -> "cexarb"."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "cexarb"
    return ALIASES.get(name, name)


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module) for every cexarb import in `path`, at any depth, relative ones resolved."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return [(line, m) for line, m in found if m == "cexarb" or m.startswith("cexarb.")]


def violations(root: Path = SRC) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        package = ".".join(("cexarb", *rel.parts[:-1]))
        src = layer_of(".".join(("cexarb", *rel.with_suffix("").parts)))
        for line, module in imported_modules(path, package):
            if not allowed(src, layer_of(module)):
                bad.append(f"src/cexarb/{rel}:{line} -> {module}")
    return bad


def test_every_import_points_down_the_layers():
    bad = violations()
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_every_layer_in_the_tree_has_a_rule():
    """A new top-level package or module must be placed in the stack, the foundation or sim."""
    known = set(STACK) | set(FOUNDATION) | {"sim"} | set(ALIASES)
    present = {
        p.stem if p.is_file() else p.name
        for p in SRC.iterdir()
        if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    assert present - {"__init__"} <= known, sorted(present - known - {"__init__"})


def test_the_scan_catches_lazy_relative_and_sim_imports(tmp_path):
    """The checker itself: a function-level import, a relative import upward and an import of the
    simulator from the composite layer are each reported with file and line."""
    (tmp_path / "transport").mkdir()
    (tmp_path / "transport" / "late.py").write_text("def f():\n    import cexarb.exchange.public\n")
    (tmp_path / "venues").mkdir()
    (tmp_path / "venues" / "rel.py").write_text("import os\n\nfrom ..arb import engine\n")
    (tmp_path / "exchange").mkdir()
    (tmp_path / "exchange" / "sim_user.py").write_text("from cexarb.sim.venue import SimVenue\n")
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "ok.py").write_text("from cexarb.sim import harness\nfrom cexarb.arb import engine\n")
    assert violations(tmp_path) == [
        "src/cexarb/exchange/sim_user.py:1 -> cexarb.sim.venue",
        "src/cexarb/transport/late.py:2 -> cexarb.exchange.public",
        "src/cexarb/venues/rel.py:3 -> cexarb.arb",
    ]


def test_the_rules_forbid_the_upward_and_sim_pairs():
    assert not allowed("venues", "exchange")
    assert not allowed("transport", "coord")
    assert not allowed("journal", "arb")
    assert not allowed("sim", "venues") and not allowed("sim", "coord")
    assert not allowed("arb", "sim") and allowed("cli", "sim")
    assert not allowed("config", "transport") and allowed("venues", "config")
    assert allowed("exchange", "venues") and allowed("arb", "journal")


def test_venue_specs_import_only_config_and_the_model():
    """config reads every venues/<venue>/spec.py: a spec importing anything above the foundation
    would put that layer under config."""
    specs = sorted(SRC.glob("venues/*/spec.py"))
    assert specs
    for path in specs:
        package = ".".join(("cexarb", *path.relative_to(SRC).parts[:-1]))
        bad = [m for _, m in imported_modules(path, package) if layer_of(m) not in ("config", "model")]
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"
