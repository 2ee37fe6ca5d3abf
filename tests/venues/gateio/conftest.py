import pytest
from gate_e2e_rig import GATE_VENUES
from gate_samples import gate_vectors as _gate_vectors


@pytest.fixture(scope="session")
def gate_vectors() -> dict:
    return _gate_vectors()


@pytest.fixture
async def closing():
    """Register clients to close when the test ends, last opened first."""
    clients = []
    yield clients.append
    for client in reversed(clients):
        await client.close()


@pytest.fixture
async def sim_flow():
    from cexarb.sim import SimConfig, Simulator

    async with Simulator(SimConfig(venues=GATE_VENUES, flow=True, flow_interval_s=0.02)) as sim:
        yield sim
