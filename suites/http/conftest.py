"""Fixtures of the HTTP streaming suites: the server under test, its routes, a scripted server.

The reference server's routes (/events, /stream, /poll, /longpoll, /mjpeg, POST /publish) are
what the route-specific tests need. A server under test that has them (the reference, or a
proxy in front of it) gets every test; any other streaming server gets the tests that apply to
the URL it was given, and the rest are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from harness.clients import ClientUnderTest
from harness.session import RunState
from harness.targets import ServerTarget
from harness.verdict import Conformance
from reference_impl.http.client import NoResponse, Stream, StreamClosed
from reference_impl.http.server import ReferenceServer

#: an event stream's response head must come within this (it carries no event yet)
HEAD_TIMEOUT = 2.0


@dataclass(frozen=True)
class HttpTarget:
    """The server under test: its URL, its origin, and whether it has the reference's routes."""

    url: str
    base: str
    routes: bool

    def route(self, path: str) -> str:
        """The URL of one of the reference's routes; skips the test when the server has none."""
        if not self.routes:
            pytest.skip(f"{self.base} has no {path.split('?')[0]} route (the reference's routes)")
        return self.base + path


async def _has_routes(base: str) -> bool:
    try:
        async with await Stream.open(base + "/poll?channel=quiet", timeout=3.0) as stream:
            body, _ = await stream.body(3.0)
    except (OSError, StreamClosed, TimeoutError):
        return False
    try:
        return "events" in json.loads(body)
    except ValueError:
        return False


@pytest.fixture(scope="session")
def http_target(streamconform: RunState) -> HttpTarget:
    """The HTTP streaming server under test: --target, --peer, or the embedded reference."""
    server: ServerTarget = streamconform.server_for("http")
    parts = urllib.parse.urlsplit(server.url)
    base = f"{parts.scheme}://{parts.hostname}:{server.port}"
    routes = server.kind == "reference" or asyncio.run(_has_routes(base))
    return HttpTarget(server.url, base, routes)


@pytest.fixture
def http_client(streamconform: RunState) -> ClientUnderTest:
    """The HTTP streaming client under test: --target-client, or the reference EventSource."""
    return streamconform.client_for("http")


@asynccontextmanager
async def scripted_server() -> AsyncIterator[tuple[ReferenceServer, str]]:
    """A conformant reference server in this test's loop, recording what the client sends."""
    server = ReferenceServer()
    port = await server.start("127.0.0.1", 0)
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        await server.close()


async def publish(base: str, data: str, channel: str = "quiet") -> None:
    """POST an event to the reference's route, so a test knows when it occurred."""
    async with await Stream.open(
        f"{base}/publish?channel={channel}", method="POST", body=data.encode()
    ) as stream:
        await stream.body(2.0)


async def open_event_stream(
    url: str, conformance: Conformance, headers: list[tuple[str, str]] | None = None
) -> Stream | None:
    """Ask for an event stream; a response held back past the timeout is a latency violation."""
    try:
        return await Stream.open(
            url, [("Accept", "text/event-stream"), *(headers or [])], timeout=HEAD_TIMEOUT
        )
    except NoResponse as exc:
        conformance.expect(
            False,
            "HTTP-STREAM-LATENCY",
            f"the event stream was held back: {exc} (a buffering intermediary?)",
        )
        return None
