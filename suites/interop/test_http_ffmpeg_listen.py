"""HTTP streaming from ffmpeg as a listening server (`ffmpeg -listen 1`): MPEG-TS and mpjpeg.

ffmpeg serves a single connection, so it cannot stand behind the server suite; these cells read
its live response with the reference reader, whose framing checks report any deviation, and
check that the stream arrives as it is made rather than all at once.
"""

from __future__ import annotations

import asyncio

import pytest

from harness.clients import ClientUnderTest
from harness.evidence import TestEvidence
from harness.netwait import free_port, wait_listening
from harness.session import RunState
from harness.targets import ClientCommand
from harness.verdict import Conformance
from reference_impl.http.client import Stream, StreamClosed
from reference_impl.http.connection import BodyData
from reference_impl.http.multipart import MultipartParser, Part, boundary_of
from suites.interop.conftest import require_program

DEADLINE = 15.0
SOURCE = "-v error -re -f lavfi -i testsrc=size=160x120:rate=10 -t 20"
READ_SECONDS = 2.5


async def _read_live(url: str, port: int, seconds: float) -> tuple[Stream | None, list[bytes]]:
    if not await wait_listening(port, DEADLINE):
        pytest.fail(f"ffmpeg did not listen on port {port} within {DEADLINE:g} s", pytrace=False)
    pieces: list[bytes] = []
    try:
        stream = await Stream.open(url, timeout=5.0)
    except (OSError, StreamClosed, TimeoutError) as exc:
        pytest.fail(f"ffmpeg -listen did not answer: {exc}", pytrace=False)
    async with stream:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            arrival = await stream.next(end - loop.time())
            if arrival is None:
                break
            if isinstance(arrival.event, BodyData):
                pieces.append(arrival.event.data)
    return stream, pieces


@pytest.mark.interop(protocol="http", client="reference", server="ffmpeg-listen-ts")
@pytest.mark.requirement("HTTP-MESSAGE-FRAMING", "HTTP-STREAM-INCREMENTAL", "HTTP-STATUS-LINE")
async def test_ffmpeg_listening_streams_mpeg_ts_as_it_is_made(
    streamconform: RunState, conformance: Conformance, evidence: TestEvidence
) -> None:
    """A live MPEG-TS response: well framed, and arriving piece by piece over seconds."""
    require_program(streamconform, "ffmpeg")
    port = free_port()
    url = f"http://127.0.0.1:{port}/live.ts"
    command = f"ffmpeg {SOURCE} -c:v libx264 -preset ultrafast -f mpegts -listen 1 {{url}}"
    async with ClientUnderTest("http", ClientCommand(command)).run(url, evidence.directory) as run:
        stream, pieces = await _read_live(url, port, READ_SECONDS)
    if run.log_path:
        evidence.extra_files.append(run.log_path)
    assert stream is not None and stream.head is not None
    data = b"".join(pieces)
    conformance.expect(
        len(pieces) >= 3 and data[:1] == b"\x47",
        "HTTP-STREAM-INCREMENTAL",
        f"{len(pieces)} pieces, {len(data)} bytes in {READ_SECONDS:g} s "
        f"(first byte {data[:1].hex() or 'none'}, 47 is the TS sync byte)",
    )


@pytest.mark.interop(protocol="http", client="reference", server="ffmpeg-listen-mpjpeg")
@pytest.mark.requirement(
    "HTTP-MULTIPART-BOUNDARY-PARAM",
    "HTTP-MULTIPART-BOUNDARY-SYNTAX",
    "HTTP-MULTIPART-DELIMITER",
    "HTTP-MULTIPART-PART-TYPE",
    "HTTP-MULTIPART-INCREMENTAL",
)
async def test_ffmpeg_listening_streams_mpjpeg_as_multipart_parts(
    streamconform: RunState, conformance: Conformance, evidence: TestEvidence
) -> None:
    """multipart/x-mixed-replace with a boundary; each part an image/jpeg, parts as they come."""
    require_program(streamconform, "ffmpeg")
    port = free_port()
    url = f"http://127.0.0.1:{port}/live.mjpg"
    # Left alone, ffmpeg labels the response application/octet-stream (its http default),
    # which no multipart reader takes: a server set up for MJPEG states the type.
    command = (
        f"ffmpeg {SOURCE} -f mpjpeg -content_type multipart/x-mixed-replace;boundary=ffmpeg "
        "-listen 1 {url}"
    )
    async with ClientUnderTest("http", ClientCommand(command)).run(url, evidence.directory) as run:
        stream, pieces = await _read_live(url, port, READ_SECONDS)
    if run.log_path:
        evidence.extra_files.append(run.log_path)
    assert stream is not None and stream.head is not None
    content_type = stream.head.header("content-type") or ""
    boundary = boundary_of(content_type)
    conformance.expect(
        content_type.lower().startswith("multipart/") and boundary is not None,
        "HTTP-MULTIPART-BOUNDARY-PARAM",
        f"Content-Type {content_type!r}",
    )
    if boundary is None:
        return
    parser = MultipartParser(boundary)
    for piece in pieces:
        parser.receive_data(piece)
    parts = [e for e in parser.events() if isinstance(e, Part)]
    types = {p.header("content-type") for p in parts}
    conformance.expect(
        len(parts) >= 3 and types == {"image/jpeg"},
        "HTTP-MULTIPART-PART-TYPE",
        f"{len(parts)} parts in {READ_SECONDS:g} s with types {sorted(map(str, types))}",
    )
