import asyncio
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import WSMsgType, web

from cexarb.model.enums import ConnectionState
from cexarb.model.errors import NetworkError
from cexarb.transport.ws import WsClient
from tests.support import eventually

FAST = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05, "connect_timeout_s": 2.0}


@dataclass
class Conn:
    ws: web.WebSocketResponse
    request: web.Request
    received: list[str | bytes] = field(default_factory=list)


class WsServer:
    """A scriptable WebSocket endpoint: greets, records what it receives, can be silent or refuse."""

    def __init__(self) -> None:
        self.connections: list[Conn] = []
        self.greeting: list[str | bytes] = []
        self.rejections = 0  # answer this many handshakes with 503
        self.echo_pings = True

    async def handler(self, request: web.Request) -> web.StreamResponse:
        if self.rejections:
            self.rejections -= 1
            return web.Response(status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = Conn(ws, request)
        self.connections.append(conn)
        for frame in self.greeting:
            await (ws.send_str(frame) if isinstance(frame, str) else ws.send_bytes(frame))
        async for msg in ws:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                conn.received.append(msg.data)
                if msg.data == "ping" and self.echo_pings:
                    await ws.send_str("pong")
        return ws

    @property
    def last(self) -> Conn:
        return self.connections[-1]


@pytest.fixture
async def ws_server(serve):
    server = WsServer()
    app = web.Application()
    app.router.add_get("/ws", server.handler)
    http = await serve(app)
    server.url = str(http.make_url("/ws"))
    return server


@pytest.fixture
async def make_ws():
    made: list[WsClient] = []

    def make(url, **kw) -> WsClient:
        received: list[str | bytes] = kw.pop("received", [])
        states: list[ConnectionState] = kw.pop("states", [])
        kw.setdefault("on_message", received.append)
        client = WsClient("test", url, on_state=states.append, **{**FAST, **kw})
        client.received, client.states = received, states
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


async def test_text_and_binary_frames_arrive_in_order(ws_server, make_ws):
    ws_server.greeting = ["hello", b"\x01\x02", "bye"]
    client = make_ws(ws_server.url)
    await client.start()
    await eventually(lambda: len(client.received) == 3, what="three frames")
    assert client.received == ["hello", b"\x01\x02", "bye"]
    assert client.connected
    assert client.states == [ConnectionState.CONNECTED]
    assert client.stats.frames == 3


async def test_frames_are_never_dropped_under_a_burst(ws_server, make_ws):
    ws_server.greeting = [str(i) for i in range(5000)]
    client = make_ws(ws_server.url)
    await client.start()
    await eventually(lambda: len(client.received) == 5000, what="all frames")
    assert client.received == [str(i) for i in range(5000)]


@pytest.mark.parametrize("kill", ["close", "abort"])
async def test_killed_connection_reconnects_and_resubscribes_everything(ws_server, make_ws, kill):
    client = make_ws(ws_server.url)
    await client.start()
    calls = {"a": 0, "b": 0}

    def factory(key: str):
        def message() -> str:
            calls[key] += 1  # re-called on every reconnect: signed messages stay fresh
            return f"sub:{key}:{calls[key]}"

        return message

    await client.subscribe("a", factory("a"))
    await client.subscribe("b", factory("b"))
    await client.subscribe("list", lambda: ["sub:c", "sub:d"])
    await eventually(lambda: len(ws_server.last.received) == 4, what="subscriptions sent")
    assert ws_server.last.received == ["sub:a:1", "sub:b:1", "sub:c", "sub:d"]

    first = ws_server.last
    if kill == "close":
        await first.ws.close()
    else:
        first.request.transport.close()

    await eventually(
        lambda: len(ws_server.connections) == 2 and len(ws_server.last.received) == 4, what="resubscribed"
    )
    assert ws_server.last.received == ["sub:a:2", "sub:b:2", "sub:c", "sub:d"]
    await eventually(lambda: ConnectionState.RECONNECTED in client.states, what="reconnected")
    assert client.states == [
        ConnectionState.CONNECTED,
        ConnectionState.DISCONNECTED,
        ConnectionState.RECONNECTED,
    ]
    assert client.stats.reconnects == 1
    assert client.connected


async def test_watchdog_reconnects_a_silent_stream(ws_server, make_ws):
    ws_server.echo_pings = False  # the venue stops talking but keeps the socket open
    client = make_ws(ws_server.url, app_ping=lambda: "ping", ping_interval_s=0.05, silence_timeout_s=0.3)
    await client.start()
    await client.subscribe("s", lambda: "sub")
    await eventually(lambda: len(ws_server.connections) >= 2, what="second connection")
    await eventually(lambda: ConnectionState.RECONNECTED in client.states, what="reconnected")
    assert ws_server.connections[0].received.count("sub") == 1
    await eventually(lambda: "sub" in ws_server.last.received, what="resubscribed")
    assert client.stats.frames == 0


async def test_app_ping_replies_keep_a_quiet_stream_alive(ws_server, make_ws):
    client = make_ws(ws_server.url, app_ping=lambda: "ping", ping_interval_s=0.05, silence_timeout_s=0.3)
    await client.start()
    await eventually(
        lambda: client.received.count("pong") >= 12, what="pongs for longer than the silence timeout"
    )
    assert len(ws_server.connections) == 1
    assert client.states == [ConnectionState.CONNECTED]


async def test_a_frame_that_breaks_on_message_does_not_stop_the_stream(ws_server, make_ws):
    ws_server.greeting = ["good1", "bad", "bad", b"bad", "good2"]
    good: list[str | bytes] = []

    def on_message(frame: str | bytes) -> None:
        if frame in ("bad", b"bad"):
            raise ValueError("cannot parse")
        good.append(frame)

    client = make_ws(ws_server.url, on_message=on_message)
    await client.start()
    await eventually(lambda: len(good) == 2, what="good frames")
    assert good == ["good1", "good2"]
    assert client.stats.bad_frames == 3
    assert client.stats.errors_by_kind == {"ValueError": 3}
    assert client.connected
    assert len(ws_server.connections) == 1


async def test_on_connect_runs_before_subscriptions_on_every_connection(ws_server, make_ws):
    client = None

    async def login() -> None:
        await client.send("login")

    client = make_ws(ws_server.url, on_connect=login)
    await client.subscribe("s", lambda: "sub")  # remembered before start
    await client.start()
    await eventually(lambda: len(ws_server.last.received) == 2, what="login + sub")
    assert ws_server.last.received == ["login", "sub"]
    await client.reconnect()
    await eventually(
        lambda: len(ws_server.connections) == 2 and len(ws_server.last.received) == 2, what="again"
    )
    assert ws_server.last.received == ["login", "sub"]


async def test_url_factory_is_asked_on_every_connection(ws_server, make_ws):
    asked = 0

    async def url() -> str:
        nonlocal asked
        asked += 1
        return f"{ws_server.url}?listenKey={asked}"

    client = make_ws(url)
    await client.start()
    await client.reconnect()
    await eventually(lambda: len(ws_server.connections) == 2, what="reconnected")
    assert [c.request.query["listenKey"] for c in ws_server.connections] == ["1", "2"]


async def test_unsubscribe_sends_and_forgets(ws_server, make_ws):
    client = make_ws(ws_server.url)
    await client.start()
    await client.subscribe("a", lambda: "sub:a")
    await client.subscribe("b", lambda: "sub:b")
    await client.unsubscribe("a", "unsub:a")
    await eventually(lambda: len(ws_server.last.received) == 3, what="sent")
    assert ws_server.last.received == ["sub:a", "sub:b", "unsub:a"]
    await client.reconnect()
    await eventually(lambda: len(ws_server.connections) == 2 and ws_server.last.received, what="resubscribed")
    await asyncio.sleep(0.05)
    assert ws_server.last.received == ["sub:b"]


async def test_start_raises_network_error_when_nobody_listens(closed_port, make_ws):
    client = make_ws(f"ws://127.0.0.1:{closed_port}/ws")
    with pytest.raises(NetworkError):
        await client.start()
    assert not client.connected


async def test_reconnects_through_refused_handshakes(ws_server, make_ws):
    client = make_ws(ws_server.url)
    await client.start()
    await client.subscribe("s", lambda: "sub")
    ws_server.rejections = 3
    await ws_server.last.ws.close()
    await eventually(
        lambda: len(ws_server.connections) == 2 and ws_server.last.received == ["sub"], what="back"
    )
    await eventually(lambda: client.connected, what="connected")
    assert sum(client.stats.errors_by_kind.values()) == 3
    assert client.stats.reconnects == 1


async def test_send_while_disconnected_raises_network_error(ws_server, make_ws):
    client = make_ws(ws_server.url)
    with pytest.raises(NetworkError):
        await client.send("x")


async def test_close_stops_for_good(ws_server, make_ws):
    client = make_ws(ws_server.url)
    await client.start()
    await client.close()
    assert not client.connected
    assert client.states == [ConnectionState.CONNECTED, ConnectionState.CLOSED]
    await asyncio.sleep(0.1)
    assert len(ws_server.connections) == 1
    await client.close()  # idempotent
    assert client.states[-1] is ConnectionState.CLOSED and client.states.count(ConnectionState.CLOSED) == 1


async def test_default_headers_go_on_every_handshake_even_through_a_shared_session(ws_server, make_ws):
    async with aiohttp.ClientSession() as shared:
        client = make_ws(ws_server.url, session=shared, headers={"X-Default": "1"})
        await client.start()
        await ws_server.last.ws.close()  # the reconnect handshake carries them too
        await eventually(lambda: len(ws_server.connections) == 2 and client.connected, what="reconnected")
        assert [c.request.headers.get("X-Default") for c in ws_server.connections] == ["1", "1"]
        await client.close()


async def test_a_failed_start_closes_the_session_it_created(closed_port, monkeypatch):
    created: list[aiohttp.ClientSession] = []
    make_session = aiohttp.ClientSession

    def recorded_session(*args, **kwargs) -> aiohttp.ClientSession:
        created.append(make_session(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(aiohttp, "ClientSession", recorded_session)
    client = WsClient("test", f"ws://127.0.0.1:{closed_port}/ws", on_message=print, **FAST)
    with pytest.raises(NetworkError):
        await client.start()
    assert len(created) == 1
    assert created[0].closed
    assert not client.connected
