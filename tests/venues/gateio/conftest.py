import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def load_samples(name: str) -> list[dict]:
    """One `samples/gate_*.json` file (copied from shared/protocols/samples)."""
    return json.loads((DATA / f"{name}.json").read_text())


def sample(name: str, description_start: str) -> dict:
    """The response of the entry whose description starts with `description_start`."""
    for entry in load_samples(name):
        if entry["description"].startswith(description_start):
            return entry["response"]
    raise KeyError(f"{name}: no entry starting with {description_start!r}")


@pytest.fixture(scope="session")
def gate_vectors() -> dict:
    return json.loads((DATA / "test_vectors_gate.json").read_text())["gate_v4"]
