"""HTTP streaming server: long polling versus polling (RFC 6202 §2), and multipart/x-mixed-replace
(RFC 2046 §5.1.1)."""

from __future__ import annotations

import asyncio
import json

import pytest

from harness.verdict import Conformance
from reference_impl.http.client import Stream
from reference_impl.http.connection import BodyData
from reference_impl.http.multipart import (
    Closed,
    MultipartParser,
    Part,
    boundary_is_valid,
    boundary_of,
)
from suites.http.conftest import HttpTarget, publish

pytestmark = [pytest.mark.http, pytest.mark.server]

#: a held long poll must not be answered (empty) within this window
HOLD_WINDOW = 0.5
LONGPOLL_TIMEOUT = 1
#: the reference makes a frame every FRAME_INTERVAL s; 3 frames written as made span 2 of them
FRAME_INTERVAL = 0.1
FRAME_SPREAD = FRAME_INTERVAL / 2


async def _poll(url: str, timeout: float) -> tuple[list[dict[str, object]], int] | None:
    async with await Stream.open(url, timeout=timeout) as stream:
        body, complete = await stream.body(timeout)
    if not complete:
        return None
    data = json.loads(body)
    return list(data["events"]), int(data["last"])


async def _last_id(http_target: HttpTarget) -> int:
    answer = await _poll(http_target.route("/poll?channel=quiet"), 3.0)
    assert answer is not None, "the short poll was not answered"
    return answer[1]


@pytest.mark.requirement("HTTP-POLL-IMMEDIATE")
async def test_a_short_poll_is_answered_at_once_even_with_nothing_new(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """Polling a channel with no new event is answered at once, with nothing."""
    since = await _last_id(http_target)
    answer = await _poll(http_target.route(f"/poll?channel=quiet&since={since}"), HOLD_WINDOW)
    conformance.expect(
        answer is not None,
        "HTTP-POLL-IMMEDIATE",
        f"a short poll was not answered within {HOLD_WINDOW:g} s",
    )


@pytest.mark.requirement("HTTP-LONGPOLL-HOLD")
async def test_a_long_poll_is_held_until_an_event_and_then_carries_it(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """A long poll with nothing new is held, and answered with the event once one occurs."""
    since = await _last_id(http_target)
    url = http_target.route(f"/longpoll?channel=quiet&since={since}&timeout=5")
    held = asyncio.create_task(_poll(url, 6.0))
    done, _ = await asyncio.wait({held}, timeout=HOLD_WINDOW)
    if done:
        answer = held.result()
        conformance.expect(
            False,
            "HTTP-LONGPOLL-HOLD",
            f"the long poll was answered within {HOLD_WINDOW:g} s with {answer!r} before any event",
        )
        return
    await publish(http_target.base, "wake up")
    answer = await held
    events = answer[0] if answer else []
    conformance.expect(
        any(e.get("data") == "wake up" for e in events),
        "HTTP-LONGPOLL-HOLD",
        f"the held long poll was answered with {events!r}, not the event",
    )


@pytest.mark.requirement("HTTP-LONGPOLL-TIMEOUT")
async def test_a_long_poll_is_answered_by_the_end_of_its_timeout(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """A long poll asking for a 1 s timeout, with no event, is answered within that time."""
    since = await _last_id(http_target)
    url = http_target.route(f"/longpoll?channel=quiet&since={since}&timeout={LONGPOLL_TIMEOUT}")
    try:
        answer = await _poll(url, LONGPOLL_TIMEOUT + 1.5)
    except TimeoutError:
        answer = None
    conformance.expect(
        answer is not None,
        "HTTP-LONGPOLL-TIMEOUT",
        f"a long poll with timeout={LONGPOLL_TIMEOUT} was still held after "
        f"{LONGPOLL_TIMEOUT + 1.5:g} s",
    )


@pytest.mark.requirement("HTTP-LONGPOLL-NO-LOSS")
async def test_events_between_two_long_polls_all_come_with_the_next_poll(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """Three events published between polls are all in the next poll's answer."""
    since = await _last_id(http_target)
    for n in range(3):
        await publish(http_target.base, f"missed {n}")
    answer = await _poll(http_target.route(f"/longpoll?channel=quiet&since={since}&timeout=2"), 3.0)
    got = [e.get("data") for e in answer[0]] if answer else []
    conformance.expect(
        got == ["missed 0", "missed 1", "missed 2"],
        "HTTP-LONGPOLL-NO-LOSS",
        f"the next poll brought {got!r}",
    )


@pytest.mark.requirement(
    "HTTP-MULTIPART-BOUNDARY-PARAM",
    "HTTP-MULTIPART-BOUNDARY-SYNTAX",
    "HTTP-MULTIPART-BOUNDARY",
    "HTTP-MULTIPART-DELIMITER",
    "HTTP-MULTIPART-PART-TYPE",
    "HTTP-MULTIPART-PART-LENGTH",
    "HTTP-MULTIPART-CLOSE",
    "HTTP-MULTIPART-INCREMENTAL",
)
async def test_a_mixed_replace_stream_has_typed_delimited_parts_and_a_close_delimiter(
    http_target: HttpTarget, conformance: Conformance
) -> None:
    """multipart/x-mixed-replace: a valid boundary, parts that state type and length, a close."""
    arrivals: list[float] = []
    body = b""
    async with await Stream.open(http_target.route("/mjpeg?count=3")) as stream:
        assert stream.head is not None
        while (arrival := await stream.next(5.0)) is not None:
            if isinstance(arrival.event, BodyData):
                body += arrival.event.data
                arrivals.append(arrival.at)
            else:
                break
    spread = arrivals[-1] - arrivals[0] if arrivals else 0.0
    conformance.expect(
        spread >= FRAME_SPREAD,
        "HTTP-MULTIPART-INCREMENTAL",
        f"3 frames made {FRAME_INTERVAL:g} s apart arrived within {spread * 1000:.0f} ms",
    )
    content_type = stream.head.header("Content-Type") or ""
    boundary = boundary_of(content_type)
    if not conformance.expect(
        boundary is not None,
        "HTTP-MULTIPART-BOUNDARY-PARAM",
        f"Content-Type: {content_type} has no boundary",
    ):
        return
    assert boundary is not None
    conformance.expect(
        boundary_is_valid(boundary),
        "HTTP-MULTIPART-BOUNDARY-SYNTAX",
        f"boundary {boundary!r} ({len(boundary)} characters) is not 1-70 boundary characters",
    )
    delimiter = b"--" + boundary.encode("latin-1")
    misplaced = [
        at
        for at in range(len(body))
        if body.startswith(delimiter, at) and at and body[at - 2 : at] != b"\r\n"
    ]
    conformance.expect(
        not misplaced,
        "HTTP-MULTIPART-DELIMITER",
        f"{len(misplaced)} delimiter(s) not at the start of a line",
    )
    parser = MultipartParser(boundary)
    parser.receive_data(body)
    events = parser.events()
    conformance.record(events)
    parts = [e for e in events if isinstance(e, Part)]
    conformance.expect(
        len(parts) == 3,
        "HTTP-MULTIPART-BOUNDARY",
        f"{len(parts)} part(s) delimited by --{boundary} in a body of 3 frames",
    )
    untyped = [p for p in parts if not p.header("Content-Type")]
    conformance.expect(not untyped, "HTTP-MULTIPART-PART-TYPE", f"{len(untyped)} untyped part(s)")
    unsized = [p for p in parts if p.header("Content-Length") is None]
    conformance.expect(
        not unsized, "HTTP-MULTIPART-PART-LENGTH", f"{len(unsized)} part(s) without length"
    )
    conformance.expect(
        any(isinstance(e, Closed) for e in events),
        "HTTP-MULTIPART-CLOSE",
        f"the finite body does not end with --{boundary}--",
    )
