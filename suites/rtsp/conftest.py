"""Fixtures of the RTSP suites: the server under test, and a scripted server for client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from harness.clients import ClientUnderTest
from harness.session import RunState
from harness.targets import ServerTarget
from reference_impl.rtsp.server import ReferenceServer


@pytest.fixture(scope="session")
def rtsp_server(streamconform: RunState) -> ServerTarget:
    """The RTSP server under test: --target, --peer, or the embedded reference server."""
    return streamconform.server_for("rtsp")


@pytest.fixture
def rtsp_client(streamconform: RunState) -> ClientUnderTest:
    """The RTSP client under test: --target-client, or the reference client."""
    return streamconform.client_for("rtsp")


@asynccontextmanager
async def scripted_server() -> AsyncIterator[tuple[ReferenceServer, str]]:
    """A conformant reference server in this test's loop that records what the client sends."""
    server = ReferenceServer()
    port = await server.start("127.0.0.1", 0)
    try:
        yield server, server.url("127.0.0.1", port)
    finally:
        await server.close()
