"""HTTP streaming server: framing of long-lived responses (RFC 9112 §6, §7.1; RFC 9110 §9.3.2)."""

from __future__ import annotations

import asyncio
import re

import pytest

from harness.verdict import Conformance
from reference_impl.common import observe
from reference_impl.http.client import Stream, StreamClosed
from reference_impl.http.connection import BodyData, ResponseEnd
from suites.http.conftest import HttpTarget, open_event_stream

pytestmark = [pytest.mark.http, pytest.mark.server]

#: how long a test waits for bytes that must not come (a body after HEAD)
QUIET_WINDOW = 0.3
_STATUS_LINE = re.compile(rb"^HTTP/1\.[01] [1-5][0-9]{2} [\t -~\x80-\xff]*$")


@pytest.mark.requirement(
    "HTTP-CHUNKED-LAST-CHUNK", "HTTP-MESSAGE-FRAMING", "HTTP-STREAM-CHUNK-PER-EVENT"
)
async def test_a_finite_stream_is_chunked_one_event_per_chunk_and_ends_with_the_last_chunk(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """Over HTTP/1.1 each event is its own chunk, and the body ends with the zero-size chunk."""
    async with await Stream.open(http_target.route("/stream?count=3")) as stream:
        assert stream.head is not None
        chunks, complete = 0, False
        while (arrival := await stream.next()) is not None:
            if isinstance(arrival.event, BodyData) and arrival.event.chunk_end:
                chunks += 1
            elif isinstance(arrival.event, ResponseEnd):
                complete = arrival.event.complete
                break
    conformance.expect(
        complete, "HTTP-CHUNKED-LAST-CHUNK", "the stream of 3 events ended without a last chunk"
    )
    conformance.expect(
        stream.head.chunked and chunks >= 3,
        "HTTP-STREAM-CHUNK-PER-EVENT",
        f"3 events came in {chunks} chunk(s) (chunked: {stream.head.chunked})",
    )


@pytest.mark.requirement("HTTP-HTTP10-NO-CHUNKED", "HTTP-HTTP10-CLOSE-DELIMITED")
async def test_an_http_1_0_client_gets_a_close_delimited_stream_never_chunked(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """A stream asked for over HTTP/1.0 comes without chunked coding, ended by the close."""
    url = http_target.route("/stream?count=3") if http_target.routes else http_target.url
    async with await Stream.open(url, http10=True) as stream:
        assert stream.head is not None
        body, _ = await stream.body(5.0)
    has_length = stream.head.header("Content-Length") is not None
    conformance.expect(
        not stream.head.chunked,
        "HTTP-HTTP10-NO-CHUNKED",
        "the response to an HTTP/1.0 request is chunked",
    )
    conformance.expect(
        stream.head.chunked or has_length or bool(body),
        "HTTP-HTTP10-CLOSE-DELIMITED",
        "no body arrived before the connection closed",
    )


@pytest.mark.requirement("HTTP-HEAD-NO-BODY")
async def test_a_head_request_gets_the_header_fields_and_no_body(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """HEAD of a stream is answered with its header section only (RFC 9110 §9.3.2)."""
    async with await Stream.open(http_target.url, method="HEAD") as stream:
        await stream.body(QUIET_WINDOW)
        try:
            late = await asyncio.wait_for(stream.reader.read(64), QUIET_WINDOW)
        except TimeoutError:
            late = b""
        data = stream.response.leftover + late
    conformance.expect(not data, "HTTP-HEAD-NO-BODY", f"HEAD was followed by body bytes {data!r}")


@pytest.mark.requirement("HTTP-HOST-400")
async def test_an_http_1_1_request_without_host_is_answered_400(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """An HTTP/1.1 request with no Host field is answered 400 Bad Request (RFC 9112 §3.2)."""
    path = http_target.url.split("/", 3)[3] if http_target.url.count("/") >= 3 else ""
    raw = f"GET /{path} HTTP/1.1\r\nUser-Agent: streamconform\r\n\r\n".encode()
    try:
        async with await Stream.open(http_target.url, raw=raw) as stream:
            status = stream.head.status if stream.head else 0
    except StreamClosed:
        status = 0  # closing without an answer is not a 400 either
    conformance.expect(status == 400, "HTTP-HOST-400", f"a request without Host got {status}")


async def _raw_head(http_target: HttpTarget, path: str) -> bytes:
    """The response's header section exactly as sent (h11 would refuse to parse a bad one)."""
    host, port = http_target.base.split("//")[1].rsplit(":", 1)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 5.0)
    local, remote = writer.get_extra_info("sockname"), writer.get_extra_info("peername")
    wire = observe.recorder("http", "tcp", local[:2], remote[:2], "client")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    wire.sent(request)
    writer.write(request)
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        head = b""
    wire.received(head)
    wire.closed(by_peer=False)
    writer.close()
    return head


@pytest.mark.requirement("HTTP-STATUS-LINE")
async def test_the_status_line_is_version_three_digit_code_and_reason(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """A response starts with HTTP/1.x, a space, a three-digit code, a space, a reason, CRLF."""
    # A finite response where there is one: a proxy may hold a stream's head (a latency matter).
    path = http_target.url.split(http_target.base, 1)[-1] or "/"
    head = await _raw_head(http_target, "/poll?channel=quiet" if http_target.routes else path)
    line = head.split(b"\r\n", 1)[0]
    conformance.expect(
        bool(_STATUS_LINE.match(line)), "HTTP-STATUS-LINE", f"status line {line[:80]!r}"
    )


@pytest.mark.requirement("HTTP-CL-AND-TE")
async def test_a_chunked_stream_carries_no_content_length(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """A response with Transfer-Encoding has no Content-Length beside it (RFC 9112 §6.1)."""
    head = (await _raw_head(http_target, "/stream?count=1" if http_target.routes else "/")).lower()
    both = b"\r\ntransfer-encoding:" in head and b"\r\ncontent-length:" in head
    conformance.expect(not both, "HTTP-CL-AND-TE", "Content-Length beside Transfer-Encoding")


@pytest.mark.requirement("HTTP-STREAM-INCREMENTAL", "HTTP-STREAM-LATENCY")
async def test_events_keep_coming_on_one_long_lived_response(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """Three events of an endless stream arrive as parts of one response, which stays open."""
    stream = await open_event_stream(http_target.route("/stream"), conformance)
    if stream is None:
        return
    async with stream:
        lines, ended = 0, False
        while lines < 3 and (arrival := await stream.next(3.0)) is not None:
            if isinstance(arrival.event, ResponseEnd):
                ended = True
                break
            if isinstance(arrival.event, BodyData):
                lines += arrival.event.data.count(b"\n")
    conformance.expect(
        lines >= 3 and not ended,
        "HTTP-STREAM-INCREMENTAL",
        f"{lines} event(s) before the response {'ended' if ended else 'went quiet'}",
    )
