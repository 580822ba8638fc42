"""A frontend's live-updates client for tests: the app served by uvicorn on a loopback port
(the WebSocket needs a real server), and a graphql-transport-ws client as graphql-ws (the
usual browser library) speaks it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"
WAIT_S = 15.0


@contextlib.asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[str]:
    """`app` (its lifespan already run) on a free loopback port: its WebSocket URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # it failed to start: say why
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}/graphql"
    finally:
        server.should_exit = True
        await task


class Subscriber:
    """One WebSocket connection, as graphql-ws (the usual browser library) would make it."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = iter(range(1, 1000))

    async def subscribe(self, query: str, variables: dict[str, Any]) -> str:
        sid = str(next(self.ids))
        await self.send({"id": sid, "type": "subscribe",
                         "payload": {"query": query, "variables": variables}})  # fmt: skip
        return sid

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        async with asyncio.timeout(WAIT_S):
            while True:
                message: dict[str, Any] = json.loads(await self.ws.recv())
                if message["type"] != "ping":
                    return message

    async def next(self, sid: str) -> dict[str, Any]:
        """The next answer of subscription `sid` (its `data`), which must carry no error."""
        message = await self.receive()
        assert (message["type"], message.get("id")) == ("next", sid), message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]

    async def until(self, sid: str, done: Any) -> dict[str, Any]:
        """Answers of `sid` until one satisfies `done` (changes may arrive coalesced)."""
        while not done(found := await self.next(sid)):
            pass
        return found

    async def complete(self, sid: str) -> None:
        message = await self.receive()
        assert message == {"id": sid, "type": "complete"}, message

    async def error_codes(self, sid: str) -> list[str]:
        """The codes of an answer with errors (a `next` with errors, or an `error`)."""
        message = await self.receive()
        assert message.get("id") == sid, message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        return [e["extensions"]["code"] for e in errors]

    async def quiet(self, within: float = 0.5) -> None:
        """Nothing more arrives for `within` seconds."""
        try:
            async with asyncio.timeout(within):
                message = await self.ws.recv()
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {message}")


@contextlib.asynccontextmanager
async def connected(
    url: str, payload: dict[str, Any] | None, **kw: Any
) -> AsyncIterator[Subscriber]:
    async with websockets.connect(url, subprotocols=[PROTOCOL], **kw) as ws:
        subscriber = Subscriber(ws)
        await subscriber.send({"type": "connection_init", "payload": payload or {}})
        ack = await subscriber.receive()
        assert ack["type"] == "connection_ack", ack
        yield subscriber


async def refused(url: str, payload: dict[str, Any] | None, **kw: Any) -> int:
    """The close code of a connection whose `connection_init` is refused."""
    async with websockets.connect(url, subprotocols=[PROTOCOL], **kw) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(WAIT_S):
                await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code
