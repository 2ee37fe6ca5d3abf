"""`eventually` returns once its condition holds and fails naming what it waited for."""

import pytest

from tests.support import eventually


async def test_returns_true_once_the_condition_holds() -> None:
    calls = []
    assert await eventually(lambda: calls.append(1) or len(calls) >= 3, interval=0)
    assert len(calls) == 3


async def test_awaits_an_async_condition() -> None:
    async def ready() -> bool:
        return True

    assert await eventually(ready)


async def test_a_timeout_fails_with_the_detail_computed_then() -> None:
    state = {"left": 1}
    with pytest.raises(AssertionError, match="still 2 left"):
        await eventually(lambda: False, timeout=0, what=lambda: f"still {state['left'] + 1} left")
