"""The event loop choice: uvloop by default where installed, asyncio on request, typed errors."""

from __future__ import annotations

import asyncio

import pytest

from cexarb import eventloop

uvloop = pytest.importorskip("uvloop", reason="uvloop not installed here (it is a Linux dependency)")


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_default_is_uvloop_and_asyncio_on_request(monkeypatch):
    monkeypatch.delenv("CEXARB_LOOP", raising=False)
    assert eventloop.run(_loop_type()) is uvloop.Loop
    assert eventloop.loop_name() == "uvloop"
    assert eventloop.run(_loop_type(), "asyncio") is not uvloop.Loop
    monkeypatch.setenv("CEXARB_LOOP", "asyncio")
    assert eventloop.loop_factory() is None and eventloop.loop_name() == "asyncio"
    assert eventloop.run(_loop_type()) is not uvloop.Loop


def test_auto_falls_back_without_uvloop_and_uvloop_insists(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "uvloop", None)  # as if not installed
    assert eventloop.loop_factory("auto") is None
    with pytest.raises(ImportError):
        eventloop.loop_factory("uvloop")


def test_unknown_choice_names_the_valid_ones(monkeypatch):
    monkeypatch.setenv("CEXARB_LOOP", "tokio")
    with pytest.raises(ValueError, match="auto, uvloop, asyncio"):
        eventloop.loop_factory()


# ---- start_eager: a task that runs at once up to its first real wait ------------------------

LOOPS = ("asyncio", "uvloop")
_where = __import__("contextvars").ContextVar("where", default="outside")


@pytest.mark.parametrize("loop", LOOPS)
def test_start_eager_runs_now_up_to_the_first_wait_then_as_its_own_task(loop):
    async def main():
        steps: list[str] = []
        gate = asyncio.get_running_loop().create_future()
        me = asyncio.current_task()
        seen: dict[str, object] = {}

        async def work():
            steps.append("started")
            seen["task"] = asyncio.current_task()
            _where.set("inside")
            await gate
            steps.append(f"resumed:{_where.get()}")
            seen["later"] = asyncio.current_task()
            return 42

        task = eventloop.start_eager(work(), name="eager")
        assert steps == ["started"]  # before any loop pass
        assert asyncio.current_task() is me  # the caller is its own task again
        assert seen["task"] is task and task.get_name() == "eager"
        assert _where.get() == "outside"  # the eager part's context is the task's, not ours
        gate.set_result(None)
        assert await task == 42
        assert steps == ["started", "resumed:inside"] and seen["later"] is task

    eventloop.run(main(), loop)


@pytest.mark.parametrize("loop", LOOPS)
def test_start_eager_keeps_outcomes_of_a_coroutine_that_never_waits(loop):
    async def returns():
        return "done"

    async def raises():
        raise ValueError("bad leg")

    async def main():
        ok = eventloop.start_eager(returns())
        failed = eventloop.start_eager(raises())  # not raised here: it is the task's
        assert await ok == "done"
        with pytest.raises(ValueError, match="bad leg"):
            await failed
        # Cancelled before its task ran, after it had already ended: the result stands.
        late = eventloop.start_eager(returns())
        late.cancel()
        assert await late == "done"

    eventloop.run(main(), loop)


@pytest.mark.parametrize("loop", LOOPS)
def test_start_eager_timeout_and_cancel_reach_the_new_task_not_the_caller(loop):
    async def main():
        loop_ = asyncio.get_running_loop()
        waited = loop_.create_future()
        outcome: list[str] = []

        async def slow():
            try:
                async with asyncio.timeout(0.01):
                    await loop_.create_future()  # never resolved
            except TimeoutError:
                outcome.append("timed out")

        async def cancellable():
            try:
                await waited
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise

        timed = eventloop.start_eager(slow())
        await timed  # the caller is not cancelled by the timeout set in the eager part
        assert outcome == ["timed out"]
        task = eventloop.start_eager(cancellable())
        task.cancel()  # before the task's first pass: the coroutine sees it at its wait
        with pytest.raises(asyncio.CancelledError):
            await task
        assert outcome == ["timed out", "cancelled"] and waited.cancelled()

    eventloop.run(main(), loop)


@pytest.mark.parametrize("loop", LOOPS)
def test_start_eager_from_a_plain_callback(loop):
    async def main():
        loop_ = asyncio.get_running_loop()
        started = loop_.create_future()

        async def work():
            assert asyncio.current_task() is not None
            await asyncio.sleep(0)
            return "ran"

        loop_.call_soon(lambda: started.set_result(eventloop.start_eager(work())))
        assert await (await started) == "ran"

    eventloop.run(main(), loop)
