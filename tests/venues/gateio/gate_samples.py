"""Loaders for the published Gate samples and signing vectors (tests/data/protocols, sources in SOURCES.md)."""

import json
from pathlib import Path

PROTOCOLS = Path(__file__).resolve().parents[2] / "data" / "protocols"
SAMPLES = PROTOCOLS / "samples"


def load_samples(name: str) -> list[dict]:
    """One `gate_*.json` sample file: a list of {description, request, response}."""
    return json.loads((SAMPLES / f"{name}.json").read_text())


def sample(name: str, description_start: str) -> dict:
    """The response of the entry whose description starts with `description_start`."""
    for entry in load_samples(name):
        if entry["description"].startswith(description_start):
            return entry["response"]
    raise KeyError(f"{name}: no entry starting with {description_start!r}")


def gate_vectors() -> dict:
    return json.loads((PROTOCOLS / "test_vectors.json").read_text())["gate_v4"]
