"""The simulator in a process of its own, driven like the in-process `Simulator`.

`cexarb run` uses it by default so the engine's latency figures are the client's alone: in
the same event loop every frame the simulator publishes waits for the engine and the other
way round. The child is spawned (a fresh interpreter), runs a `Simulator` on its own event
loop and answers over a pipe: the client config, the ground truth of an account, and the
stop of funding settlements.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
from typing import Any

from cexarb import eventloop
from cexarb.config import Config
from cexarb.sim.harness import SimConfig, Simulator


def _child(conn, config: SimConfig, loop: str) -> None:
    # Ctrl-C reaches the whole process group: the parent stops its run, asks for the truth,
    # then ends this process; it must not die first. A parent that is gone closes the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    eventloop.run(_serve(conn, config), loop)


async def _serve(conn, config: SimConfig) -> None:
    loop = asyncio.get_running_loop()
    try:
        sim = Simulator(config)
        await sim.start()
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    try:
        conn.send(("up", sorted(sim.urls)))
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command is None:
                return
            name, args = command
            try:
                if name == "client_config":
                    result: Any = sim.client_config(*args)
                elif name == "truth":
                    result = sim.truth(*args)
                elif name == "stop_funding":
                    result = await sim.stop_funding()
                else:
                    raise ValueError(f"unknown command {name!r}")
            except Exception as exc:  # noqa: BLE001 - sent back, raised in the parent
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
            else:
                conn.send(("ok", result))
    finally:
        await sim.close()


class SimProcess:
    """`async with SimProcess(config) as sim:` the simulator serving in a child process."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.venue_names: list[str] = []
        self._conn = None
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._lock = asyncio.Lock()  # one command at a time on the pipe

    async def __aenter__(self) -> SimProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_child, args=(child, self.config, eventloop.loop_name()), name="cexarb-sim", daemon=True
        )
        self._proc.start()
        child.close()
        status, value = await self._recv()
        if status != "up":
            await self.close()
            raise RuntimeError(f"the simulator process did not start: {value}")
        self.venue_names = value

    async def _recv(self) -> tuple[str, Any]:
        try:
            return await asyncio.get_running_loop().run_in_executor(None, self._conn.recv)
        except EOFError:
            return "error", f"the simulator process ended (exit code {self._proc.exitcode})"

    async def _call(self, name: str, *args: Any) -> Any:
        async with self._lock:
            self._conn.send((name, args))
            status, value = await self._recv()
        if status != "ok":
            raise RuntimeError(f"simulator {name}: {value}")
        return value

    async def client_config(self, api_key: str) -> Config:
        """A cexarb Config pointed at the simulator's venues, with this key's credentials."""
        return await self._call("client_config", api_key)

    async def truth(self, venue: str, api_key: str) -> Any:
        """The account's ground truth on `venue` (the simulator's `AccountTruth`)."""
        return await self._call("truth", venue, api_key)

    async def stop_funding(self) -> None:
        """No more funding settlements (a finished run compares its books with truth)."""
        await self._call("stop_funding")

    async def close(self) -> None:
        """Stop the simulator (it closes its servers) and wait for the process to end."""
        proc, conn = self._proc, self._conn
        if proc is None:
            return
        self._proc = None
        with contextlib.suppress(OSError, ValueError):
            conn.send(None)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, proc.join, 10)
        if proc.is_alive():
            proc.kill()
            await loop.run_in_executor(None, proc.join, 5)
        conn.close()
