"""Fixtures of the PNA suites: the server under test, a scripted server, session helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from harness.clients import ClientUnderTest
from harness.session import RunState
from harness.targets import ServerTarget
from reference_impl.pna.client import PNAError, Session, open_session
from reference_impl.pna.server import ReferenceServer

#: how long a client under test gets to read what a local server sends it
CLIENT_DEADLINE = 10.0
#: packets a session test reads: enough for a keep-alive (every 43) and then some
PACKETS = 60


@pytest.fixture(scope="session")
def pna_server(streamconform: RunState) -> ServerTarget:
    """The PNA server under test: --target, --peer, or the embedded reference server."""
    return streamconform.server_for("pna")


@pytest.fixture
def pna_client(streamconform: RunState) -> ClientUnderTest:
    """The PNA client under test: --target-client, or the reference client."""
    return streamconform.client_for("pna")


async def session(url: str, *, count: int = PACKETS, request: bytes | None = None) -> Session:
    try:
        return await open_session(url, count=count, request=request, timeout=CLIENT_DEADLINE)
    except (OSError, TimeoutError, PNAError) as exc:
        pytest.fail(f"cannot open a PNA session to {url}: {exc}", pytrace=False)


@asynccontextmanager
async def scripted_server(**options: int) -> AsyncIterator[tuple[ReferenceServer, str]]:
    """A conformant reference server in this test's loop that records what the client sends."""
    server = ReferenceServer(**options)
    port = await server.start("127.0.0.1", 0)
    try:
        yield server, server.url("127.0.0.1", port)
    finally:
        await server.close()
