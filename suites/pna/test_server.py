"""PNA server: the response a pnm client takes, and the data packets after it.

The rules come from the pnm client MPlayer and xine-lib share (see reference_impl/pna/wire.py):
a server that breaks one is a server those clients cannot play from.
"""

from __future__ import annotations

import urllib.parse

import pytest

from harness.targets import ServerTarget
from harness.verdict import Conformance
from reference_impl.pna.connection import (
    ChallengeBlock,
    HeaderReceived,
    PacketReceived,
    PnaChunkReceived,
    ServerMessage,
)
from suites.pna.conftest import session

pytestmark = [pytest.mark.pna, pytest.mark.server]


@pytest.mark.requirement(
    "PNA-RESP-PNA-CHUNK",
    "PNA-RESP-SUBCHUNKS",
    "PNA-RESP-HEADERS",
    "PNA-RESP-PROP-SIZE",
    "PNA-RESP-MDPR",
    "PNA-RESP-DATA-HEADER",
    "PNA-RESP-HEADER-BOUND",
)
async def test_the_response_is_a_pna_chunk_then_the_realmedia_headers(
    pna_server: ServerTarget, conformance: Conformance
) -> None:
    """PNA chunk, then .RMF, PROP (50 bytes), an MDPR per stream, CONT, DATA (18 bytes), all
    within the clients' 4096-byte header buffer."""
    got = await session(pna_server.url, count=1)
    kinds = [type(e).__name__ for e in got.events]
    conformance.expect(
        any(isinstance(e, PnaChunkReceived) for e in got.events),
        "PNA-RESP-PNA-CHUNK",
        f"the response gave {kinds[:4] or 'nothing'} and no PNA chunk",
    )
    conformance.expect(
        any(isinstance(e, HeaderReceived) for e in got.events),
        "PNA-RESP-HEADERS",
        f"no RealMedia header chunk arrived (events {kinds[:6]})",
    )


@pytest.mark.requirement("PNA-RESP-CHALLENGE-BLOCK", "PNA-RESP-SUBCHUNKS")
async def test_a_72_byte_challenge_block_comes_before_the_first_packet(
    pna_server: ServerTarget, conformance: Conformance
) -> None:
    """After DATA: 72 bytes, then the first data packet starts with Z."""
    got = await session(pna_server.url, count=1)
    block = next((e for e in got.events if isinstance(e, ChallengeBlock)), None)
    first = next((e for e in got.events if isinstance(e, PacketReceived)), None)
    conformance.expect(
        block is not None and not block.data.startswith(b"Z") and first is not None,
        "PNA-RESP-CHALLENGE-BLOCK",
        "the 72 bytes after the headers "
        + ("are missing" if block is None else f"start {block.data[:8]!r}")
        + ("" if first else "; no data packet followed"),
    )


@pytest.mark.requirement(
    "PNA-DATA-FRAMING", "PNA-DATA-INDEX", "PNA-DATA-TIMESTAMP", "PNA-DATA-LENGTH-MIN"
)
async def test_data_packets_are_framed_numbered_and_stamped_in_order(
    pna_server: ServerTarget, conformance: Conformance
) -> None:
    """Each packet: Z, length twice, index, Z; indices count up from 0; time never goes back."""
    got = await session(pna_server.url)
    conformance.expect(
        got.packets > 0, "PNA-DATA-FRAMING", "no data packet could be read from the stream"
    )


@pytest.mark.requirement("PNA-SERVER-KEEPALIVE")
async def test_keepalives_from_the_client_leave_the_stream_running(
    pna_server: ServerTarget, conformance: Conformance
) -> None:
    """A client's ! every 43 packets does not disturb the stream: packets keep coming."""
    got = await session(pna_server.url, count=100)
    conformance.expect(
        got.packets >= 100,
        "PNA-SERVER-KEEPALIVE",
        f"the stream stopped after {got.packets} packets, after the client's keep-alives",
    )


@pytest.mark.requirement("PNA-SERVER-MESSAGE")
async def test_an_unknown_path_is_refused_with_a_server_message(
    pna_server: ServerTarget, conformance: Conformance
) -> None:
    """A request for a path the server does not have gets X (message) or F (error)."""
    parts = urllib.parse.urlsplit(pna_server.url)
    url = f"pnm://{parts.netloc}/streamconform-no-such-stream.rm"
    got = await session(url, count=1)
    refusal = next((e for e in got.events if isinstance(e, ServerMessage)), None)
    if any(isinstance(e, PacketReceived) for e in got.events):
        pytest.skip("the server streams any path it is asked for")
    conformance.expect(
        refusal is not None,
        "PNA-SERVER-MESSAGE",
        "an unknown path got a bare close, not a server message or error",
    )


@pytest.mark.requirement("PNA-SERVER-BAD-REQUEST")
async def test_a_request_without_the_signature_gets_no_pna_response(
    pna_server: ServerTarget, conformance: Conformance
) -> None:
    """GET / HTTP/1.0 on the PNA port is not answered with a PNA chunk."""
    got = await session(pna_server.url, count=1, request=b"GET / HTTP/1.0\r\n\r\n")
    answered = any(isinstance(e, PnaChunkReceived) for e in got.events)
    conformance.expect(
        not answered,
        "PNA-SERVER-BAD-REQUEST",
        "a request without the PNA signature was answered with a PNA response",
    )
