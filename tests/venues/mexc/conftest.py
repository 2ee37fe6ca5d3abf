from __future__ import annotations

import pytest
from mexc_samples import load_vectors


@pytest.fixture(scope="session")
def vectors() -> dict:
    return load_vectors()
