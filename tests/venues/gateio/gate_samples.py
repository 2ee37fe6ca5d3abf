"""Gate sample payloads (copied from shared/protocols/samples) and signing vectors."""

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"


def load_samples(name: str) -> list[dict]:
    """One `gate_*.json` sample file: a list of {description, request, response}."""
    return json.loads((DATA / f"{name}.json").read_text())


def sample(name: str, description_start: str) -> dict:
    """The response of the entry whose description starts with `description_start`."""
    for entry in load_samples(name):
        if entry["description"].startswith(description_start):
            return entry["response"]
    raise KeyError(f"{name}: no entry starting with {description_start!r}")


def gate_vectors() -> dict:
    return json.loads((DATA / "test_vectors_gate.json").read_text())["gate_v4"]
