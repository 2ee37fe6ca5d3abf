"""Loaders for the published MEXC samples and test vectors (tests/data/protocols, sources in SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path

PROTOCOLS = Path(__file__).resolve().parents[2] / "data" / "protocols"
SAMPLES = PROTOCOLS / "samples"


def load_sample(name: str) -> list[dict]:
    return json.loads((SAMPLES / name).read_text())


def responses(name: str, path: str) -> list:
    """Every response in sample file `name` whose request path ends with `path`."""
    return [
        e["response"] for e in load_sample(name) if (e.get("request") or {}).get("path", "").endswith(path)
    ]


def load_vectors() -> dict:
    return json.loads((PROTOCOLS / "test_vectors.json").read_text())
