"""The repository is self-contained: no source, test or document refers to a path outside the
checkout, so `git clone <repo> x && cd x && make test` works with nothing beside the clone.

Data the tests need lives under tests/data/ (published payloads, sources in
tests/data/protocols/SOURCES.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve()

# Scanned: code, tests, build files and prose a user reads. tests/data holds third-party payloads
# quoted verbatim (their URL paths are the venues', not ours).
SCANNED = ["src", "tests", "bench", "docs", "README.md", "Makefile", "pyproject.toml"]
SKIPPED = [ROOT / "tests" / "data"]
SUFFIXES = {".py", ".md", ".toml", ".proto", ".cfg", ".ini", ".txt", ".sh", ".json", ""}

# A relative path that climbs (`../x`): resolved against the file's folder, it must stay inside.
CLIMB = re.compile(r"(?:\.\./)+[\w.\-/]*")
# The team's spec folder beside the checkout, however it is spelled.
SPEC_FOLDER = re.compile(r"shared/(?:protocols|DESIGN|seeds)|[/(,]\s*[\"']shared[\"']")
# Absolute paths into a particular machine's folders.
ABSOLUTE = re.compile(r"(?<![\w:/.])/(?:work|home|root|Users|mnt|srv|opt)/\w")
# Path arithmetic on __file__: `Path(__file__).resolve().parents[2].parent` and friends.
FILE_ARITH = re.compile(r"Path\(__file__\)(?:\.resolve\(\)|\.absolute\(\))?((?:\.parents\[\d+\]|\.parent)+)")


def _climbs_out(base: Path, steps: str) -> bool:
    here = base
    for part in re.findall(r"\.parents\[(\d+)\]|\.parent", steps):
        here = here.parents[int(part)] if part else here.parent
    return not here.is_relative_to(ROOT)


def outside_references(path: Path, text: str) -> list[str]:
    """Every place in `text` (the content of `path`) that points outside the repository."""
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in CLIMB.finditer(line):
            if not (path.parent / m.group(0)).resolve().is_relative_to(ROOT):
                found.append(f"{lineno}: {m.group(0)!r} leaves the repository")
        for m in SPEC_FOLDER.finditer(line):
            found.append(f"{lineno}: {m.group(0)!r} names a folder outside the repository")
        for m in ABSOLUTE.finditer(line):
            found.append(f"{lineno}: {line[m.start() : m.start() + 30]!r} is an absolute path on one machine")
        for m in FILE_ARITH.finditer(line):
            if _climbs_out(path, m.group(1)):
                found.append(f"{lineno}: {m.group(0)!r} climbs above the repository")
    return found


def scanned_files() -> list[Path]:
    files = []
    for name in SCANNED:
        top = ROOT / name
        candidates = [top] if top.is_file() else sorted(top.rglob("*")) if top.is_dir() else []
        for f in candidates:
            if not f.is_file() or f.suffix not in SUFFIXES or f == THIS:
                continue
            if any(f.is_relative_to(s) for s in SKIPPED) or "__pycache__" in f.parts:
                continue
            files.append(f)
    return files


def test_no_file_refers_to_a_path_outside_the_repository():
    files = scanned_files()
    assert len(files) > 100  # the scan really ran over the tree
    problems = {
        str(f.relative_to(ROOT)): hits
        for f in files
        if (hits := outside_references(f, f.read_text(encoding="utf-8", errors="replace")))
    }
    assert not problems, problems


SHARED = "sha" + "red"


@pytest.mark.parametrize(
    "where, text",
    [
        ("tests/sim/gateio/t.py", 'S = Path(__file__).resolve().parents[3].parent / "x" / "protocols"'),
        # Written in pieces so that a plain grep for such references finds none in this file.
        ("tests/sim/gateio/t.py", 'S = Path(__file__).resolve().parents[2] / "' + SHARED + '" / "protocols"'),
        ("tests/t.py", "S = Path(__file__).parent.parent.parent"),
        ("README.md", "The design is in `../" + SHARED + "/DESIGN.md`."),
        ("README.md", "see ../other-repo/notes.md"),
        ("src/cexarb/x.py", "# codes follow shared/protocols/mexc_spot.md"),
        ("src/cexarb/x.py", 'open("/work/data/x.json")'),
    ],
)
def test_the_check_catches_references_outside(where, text):
    assert outside_references(ROOT / where, text)


@pytest.mark.parametrize(
    "where, text",
    [
        ("tests/sim/gateio/t.py", 'S = Path(__file__).resolve().parents[2] / "data" / "protocols"'),
        ("docs/x.md", "see [the README](../README.md)"),
        ("src/cexarb/x.py", 'await self.signed("GET", "/spot/accounts")'),
        ("src/cexarb/x.py", '"wss://api.gateio.ws/ws/v4/"'),
    ],
)
def test_the_check_lets_paths_inside_the_repository_pass(where, text):
    assert not outside_references(ROOT / where, text)
