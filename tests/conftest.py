"""Suite-wide guard: tests may only reach this machine.

Every connection attempt and name lookup for a host outside loopback fails at
once with a clear message, so no test (nor a third-party client it drives, such
as ccxt with a default URL left in) can ever reach a real exchange.
"""

from __future__ import annotations

import gc
import ipaddress
import logging
import socket

import pytest

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host)
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


class OffMachineConnection(RuntimeError):
    pass


@pytest.fixture(autouse=True, scope="session")
def _loopback_only():
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host):
            raise OffMachineConnection(f"tests may only reach 127.0.0.1; tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def _check(address):
        if isinstance(address, tuple) and not _is_local(address[0]):
            raise OffMachineConnection(f"tests may only reach 127.0.0.1; tried to connect to {address!r}")

    def connect(self, address):
        _check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        _check(address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    try:
        yield
    finally:
        socket.getaddrinfo = real_getaddrinfo
        socket.socket.connect = real_connect
        socket.socket.connect_ex = real_connect_ex


class _NeverRetrieved(logging.Handler):
    """Collects asyncio's reports of a task whose exception nobody retrieved."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "exception was never retrieved" in message:
            exc = record.exc_info[1] if record.exc_info else None
            self.reports.append(f"{message} ({exc!r})" if exc is not None else message)


_never_retrieved = _NeverRetrieved()
logging.getLogger("asyncio").addHandler(_never_retrieved)


@pytest.fixture(autouse=True)
def _no_lost_task_exceptions():
    """Fail a test during which a background task died unseen ("Task exception was never
    retrieved"): every background task must log, release and retry or give up visibly."""
    _never_retrieved.reports.clear()
    # Everything alive now predates the test: frozen, the collection below walks only the test's
    # own objects (a full walk of the ~300k imported ones took 0.2-0.5 s a test, half the suite).
    gc.freeze()
    try:
        yield
        gc.collect()  # a task is reported when collected
    finally:
        gc.unfreeze()
    reports, _never_retrieved.reports[:] = list(_never_retrieved.reports), []
    assert not reports, "background task exceptions nobody retrieved:\n" + "\n".join(reports)
