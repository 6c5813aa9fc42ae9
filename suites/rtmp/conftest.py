"""Fixtures of the RTMP suites: the server under test, a scripted server, and session helpers.

A server test works on stream names of its own (`<stream>-<random>` in the target URL's app),
so tests never see each other's publishers even when they share one server.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from harness.clients import ClientUnderTest
from harness.session import RunState
from harness.targets import ServerTarget
from reference_impl.rtmp.client import RTMPURL, RTMPClient, RTMPError
from reference_impl.rtmp.messages import Command, Media
from reference_impl.rtmp.server import ReferenceServer

#: how long a client under test gets for what a local server asks of it
CLIENT_DEADLINE = 8.0
STEP_TIMEOUT = 5.0


@dataclass(frozen=True)
class RtmpTarget:
    """The server under test: its URL (app and stream name) and fresh names for each test."""

    url: str

    def fresh_url(self, label: str = "t") -> str:
        where = RTMPURL.parse(self.url)
        name = f"{where.stream or 'stream'}-{label}-{secrets.token_hex(3)}"
        return f"rtmp://{where.host}:{where.port}/{where.app}/{name}"


@pytest.fixture(scope="session")
def rtmp_server(streamconform: RunState) -> ServerTarget:
    """The RTMP server under test: --target, --peer, or the embedded reference server."""
    return streamconform.server_for("rtmp")


@pytest.fixture(scope="session")
def rtmp_target(rtmp_server: ServerTarget) -> RtmpTarget:
    return RtmpTarget(rtmp_server.url)


@pytest.fixture
def rtmp_client(streamconform: RunState) -> ClientUnderTest:
    """The RTMP client under test: --target-client, or the reference client."""
    return streamconform.client_for("rtmp")


@asynccontextmanager
async def session(url: str, **options: Any) -> AsyncIterator[RTMPClient]:
    """An RTMP connection to `url`, handshake done (unless told otherwise), closed at the end."""
    try:
        client = await RTMPClient.open(url, timeout=STEP_TIMEOUT, **options)
    except (OSError, TimeoutError, RTMPError) as exc:
        pytest.fail(f"cannot open an RTMP session to {url}: {exc}", pytrace=False)
    try:
        yield client
    finally:
        await client.close()


async def connected(client: RTMPClient, **options: Any) -> Command:
    try:
        return await client.connect(**options)
    except RTMPError as exc:
        pytest.fail(f"connect failed: {exc}", pytrace=False)


async def new_stream(client: RTMPClient) -> int:
    try:
        return await client.create_stream()
    except RTMPError as exc:
        pytest.fail(f"createStream failed: {exc}", pytrace=False)


async def start_publishing(client: RTMPClient, name: str) -> tuple[int, Command | None]:
    """connect, createStream, publish: returns the stream ID and the server's onStatus."""
    await connected(client)
    stream_id = await new_stream(client)
    client.publish(stream_id, name)
    return stream_id, await client.status(stream_id)


async def start_playing(client: RTMPClient, name: str) -> tuple[int, list[Command]]:
    """connect, createStream, play: returns the stream ID and the onStatus up to Play.Start."""
    await connected(client)
    stream_id = await new_stream(client)
    client.play(stream_id, name)
    statuses: list[Command] = []
    while True:
        status = await client.status(stream_id)
        if status is None:
            return stream_id, statuses
        statuses.append(status)
        if status.info().get("level") == "error" or status.info().get("code") in (
            "NetStream.Play.Start",
            None,
        ):
            return stream_id, statuses


async def barrier(client: RTMPClient) -> bool:
    """True once the server answered a command sent after everything before it."""
    return await client.call("createStream") is not None


async def collect_media(client: RTMPClient, count: int, timeout: float) -> list[Media]:
    got: list[Media] = []

    def enough(event: object) -> bool:
        if isinstance(event, Media):
            got.append(event)
        return len(got) >= count

    await client.wait_for(enough, timeout)
    return got


@asynccontextmanager
async def scripted_server(**options: Any) -> AsyncIterator[tuple[ReferenceServer, str]]:
    """A conformant reference server in this test's loop that records what the client sends."""
    server = ReferenceServer(source=True, **options)
    port = await server.start("127.0.0.1", 0)
    try:
        yield server, server.url("127.0.0.1", port)
    finally:
        await server.close()
