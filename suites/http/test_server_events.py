"""HTTP streaming server: Server-Sent Events and event latency (WHATWG HTML §9.2, RFC 6202 §3)."""

from __future__ import annotations

import asyncio
import re

import pytest

from harness.session import RunState
from harness.verdict import Conformance
from reference_impl.http.client import Stream, read_events
from reference_impl.http.connection import BodyData
from suites.http.conftest import HttpTarget, open_event_stream, publish

pytestmark = [pytest.mark.http, pytest.mark.server]

EVENT_DEADLINE = 3.0
#: the heartbeat interval the suite asks the reference for (its default is WHATWG's 15 s)
HEARTBEAT_ASKED_MS = 200


async def _raw_events(stream: Stream, size: int, timeout: float) -> bytes:
    loop = asyncio.get_running_loop()
    deadline, data = loop.time() + timeout, bytearray()
    while len(data) < size:
        arrival = await stream.next(max(0.0, deadline - loop.time()))
        if arrival is None or not isinstance(arrival.event, BodyData):
            break
        data += arrival.event.data
    return bytes(data)


@pytest.mark.requirement("HTTP-SSE-CONTENT-TYPE", "HTTP-SSE-NO-CACHE", "HTTP-STREAM-LATENCY")
async def test_an_event_stream_is_text_event_stream_and_not_cached(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """The stream is served as text/event-stream, with Cache-Control: no-cache."""
    stream = await open_event_stream(http_target.route("/events"), conformance)
    if stream is None:
        return
    async with stream:
        assert stream.head is not None
    content_type = (stream.head.header("Content-Type") or "").split(";")[0].strip().lower()
    conformance.expect(
        content_type == "text/event-stream",
        "HTTP-SSE-CONTENT-TYPE",
        f"the event stream is served as {content_type or '(no Content-Type)'}",
    )
    cache = (stream.head.header("Cache-Control") or "").lower()
    conformance.expect(
        "no-cache" in cache or "no-store" in cache,
        "HTTP-SSE-NO-CACHE",
        f"Cache-Control: {cache or '(none)'}",
    )


@pytest.mark.requirement(
    "HTTP-SSE-EVENT-END",
    "HTTP-SSE-UTF8",
    "HTTP-SSE-RETRY-DIGITS",
    "HTTP-SSE-ID",
    "HTTP-SSE-ID-NO-NUL",
    "HTTP-STREAM-LATENCY",
)
async def test_events_are_well_formed_fields_each_with_an_id_and_ended_by_a_blank_line(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """UTF-8 text; retry is digits; each event has an id free of NULL and ends with a blank line."""
    stream = await open_event_stream(http_target.route("/events"), conformance)
    if stream is None:
        return
    async with stream:
        data = await _raw_events(stream, 120, EVENT_DEADLINE)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        conformance.expect(False, "HTTP-SSE-UTF8", f"the stream is not UTF-8: {exc}")
        return
    lines = re.split(r"\r\n|\r|\n", text)[:-1]  # the last piece may be an unfinished line
    for line in lines:
        if line.startswith("retry:"):
            value = line[6:].lstrip(" ")
            conformance.expect(
                value.isascii() and value.isdigit(),
                "HTTP-SSE-RETRY-DIGITS",
                f"retry value {value!r} is not ASCII digits",
            )
        if line.startswith("id:"):
            conformance.expect(
                "\x00" not in line, "HTTP-SSE-ID-NO-NUL", f"an id with NULL: {line!r}"
            )
    blocks = [b for b in re.split(r"(?:\r\n|\r|\n){2}", text)[:-1] if "data:" in b]
    conformance.expect(
        len(blocks) >= 2 and all(b.count("data:") == 1 for b in blocks),
        "HTTP-SSE-EVENT-END",
        f"{len(blocks)} blank-line-ended event(s) in {len(data)} bytes; "
        "a ticking event of one data line each was expected",
    )
    missing = [b for b in blocks if not re.search(r"(^|\n)id:", b)]
    conformance.expect(not missing, "HTTP-SSE-ID", f"events without an id: {missing[:2]!r}")


@pytest.mark.requirement("HTTP-SSE-RESUME", "HTTP-STREAM-LATENCY")
async def test_a_client_resuming_with_last_event_id_gets_the_events_after_it(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """Reconnecting with Last-Event-ID: N, the first event the client gets is the one after N."""
    url = http_target.route("/events")
    stream = await open_event_stream(url, conformance)
    if stream is None:
        return
    async with stream:
        first = await read_events(stream, 3, EVENT_DEADLINE)
    if len(first) < 3 or not (
        first[1][0].last_event_id.isascii() and first[1][0].last_event_id.isdigit()
    ):
        conformance.expect(False, "HTTP-SSE-RESUME", f"no numbered events to resume: {first!r}")
        return
    resume_from = first[1][0].last_event_id
    stream = await open_event_stream(url, conformance, [("Last-Event-ID", resume_from)])
    if stream is None:
        return
    async with stream:
        again = await read_events(stream, 1, EVENT_DEADLINE)
    got = again[0][0].last_event_id if again else "(nothing)"
    conformance.expect(
        got == first[2][0].last_event_id,
        "HTTP-SSE-RESUME",
        f"after Last-Event-ID: {resume_from} the first event was {got}, "
        f"not {first[2][0].last_event_id}",
    )


@pytest.mark.requirement("HTTP-STREAM-LATENCY")
async def test_an_event_reaches_a_connected_client_within_the_latency_bound(
    http_target: HttpTarget, conformance: Conformance, streamconform: RunState
) -> None:
    """An event published to a quiet channel arrives on the open stream within the bound."""
    url = http_target.route("/events?channel=quiet")
    bound = streamconform.latency_bound
    worst = 0.0
    loop = asyncio.get_running_loop()
    stream = await open_event_stream(url, conformance)
    if stream is None:
        return
    async with stream:
        for n in range(3):
            published = loop.time()
            await publish(http_target.base, f"latency probe {n}")
            got = await read_events(stream, 1, EVENT_DEADLINE)
            if not got:
                conformance.expect(
                    False,
                    "HTTP-STREAM-LATENCY",
                    f"probe {n} did not arrive within {EVENT_DEADLINE:g} s",
                )
                return
            worst = max(worst, got[0][1] - published)
    conformance.measure("event_latency_ms", round(worst * 1000, 1))
    conformance.expect(
        worst <= bound,
        "HTTP-STREAM-LATENCY",
        f"an event took {worst * 1000:.0f} ms to reach the client (bound {bound * 1000:.0f} ms)",
    )


@pytest.mark.requirement("HTTP-SSE-HEARTBEAT", "HTTP-STREAM-LATENCY")
async def test_an_idle_event_stream_sends_comments_to_keep_it_open(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """With no event to send, the stream carries a comment line now and then (asked: 200 ms)."""
    url = http_target.route(f"/events?channel=quiet&heartbeat={HEARTBEAT_ASKED_MS}")
    stream = await open_event_stream(url, conformance)
    if stream is None:
        return
    async with stream:
        data = await _raw_events(stream, 1, HEARTBEAT_ASKED_MS / 1000 * 4)
        while data and not re.search(rb"(^|\n):", data):
            more = await _raw_events(stream, 1, HEARTBEAT_ASKED_MS / 1000 * 4)
            if not more:
                break
            data += more
    conformance.expect(
        bool(re.search(rb"(^|\n):", data)),
        "HTTP-SSE-HEARTBEAT",
        f"no comment on an idle stream within {HEARTBEAT_ASKED_MS * 4} ms",
    )
