"""HTTP streaming server: ICY metadata, as Icecast and SHOUTcast interleave it with audio."""

from __future__ import annotations

import asyncio

import pytest

from harness.verdict import Conformance
from reference_impl.common.events import NeedData, Violation
from reference_impl.http.client import Stream
from reference_impl.http.connection import BodyData
from reference_impl.http.icy import IcyMetadata, IcyReader
from suites.http.conftest import HttpTarget

pytestmark = [pytest.mark.http, pytest.mark.server]

BLOCKS = 2
DEADLINE = 10.0  # Icecast's default interval (16000 bytes) takes 2 s at 64 kbit/s


@pytest.mark.requirement("HTTP-ICY-FRAMING")
async def test_icy_metadata_blocks_come_after_every_metaint_bytes_of_audio(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """Asked with Icy-MetaData: 1, a server that answers icy-metaint: N puts a well-formed
    metadata block after every N bytes of audio."""
    url = http_target.route("/radio?count=4") if http_target.routes else http_target.url
    async with await Stream.open(url, [("Icy-MetaData", "1")], timeout=5.0) as stream:
        assert stream.head is not None
        metaint = stream.head.header("icy-metaint") or ""
        if not (metaint.isascii() and metaint.isdigit() and int(metaint) > 0):
            pytest.skip("the server offers no ICY metadata here (no icy-metaint in its answer)")
        reader = IcyReader(int(metaint))
        blocks: list[IcyMetadata] = []
        problems: list[Violation] = []
        loop = asyncio.get_running_loop()
        end = loop.time() + DEADLINE
        while len(blocks) < BLOCKS and not problems and loop.time() < end:
            arrival = await stream.next(end - loop.time())
            if arrival is None:
                break
            if isinstance(arrival.event, BodyData):
                reader.receive_data(arrival.event.data)
            while not isinstance(event := reader.next_event(), NeedData):
                if isinstance(event, IcyMetadata):
                    blocks.append(event)
                elif isinstance(event, Violation):
                    problems.append(event)
    seen = (
        f"{len(blocks)} metadata blocks in {reader.audio_total} audio bytes (icy-metaint {metaint})"
    )
    conformance.expect(
        not problems and len(blocks) >= BLOCKS,
        "HTTP-ICY-FRAMING",
        problems[0].detail if problems else seen,
    )
