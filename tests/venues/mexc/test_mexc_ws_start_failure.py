"""A public stream whose first connection fails leaves no session open behind it."""

import socket

import aiohttp
import pytest

from cexarb.config import VenueConfig
from cexarb.model import Market, Venue
from cexarb.model.errors import NetworkError
from cexarb.venues.contracts import PublicWebsocketHandlers
from cexarb.venues.mexc.spot_ws import MexcSpotPublicWs


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ignore(*_args) -> None:
    return None


async def test_failed_start_leaks_no_session(monkeypatch):
    created: list[aiohttp.ClientSession] = []
    make_session = aiohttp.ClientSession

    def recorded_session(*args, **kwargs) -> aiohttp.ClientSession:
        created.append(make_session(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(aiohttp, "ClientSession", recorded_session)
    config = VenueConfig(
        venue=Venue.MEXC,
        market=Market.SPOT,
        rest_url="http://127.0.0.1:1",
        ws_url=f"ws://127.0.0.1:{closed_port()}/ws",
    )
    handlers = PublicWebsocketHandlers(
        book_diff=ignore,
        book_snapshot=ignore,
        book_ticker=ignore,
        trade=ignore,
        connection=ignore,
        error=ignore,
    )
    stream = MexcSpotPublicWs(config, handlers, {})
    with pytest.raises(NetworkError):
        await stream.start()
    assert not stream.is_connected
    assert created and all(session.closed for session in created)
    await stream.close()
