import pytest
from gate_samples import gate_vectors as _gate_vectors


@pytest.fixture(scope="session")
def gate_vectors() -> dict:
    return _gate_vectors()
