"""HTTP streaming client: what an EventSource client sends and how it reconnects (WHATWG HTML
§9.2.3), observed by a scripted server."""

from __future__ import annotations

import json

import pytest

from harness.clients import ClientRun, ClientUnderTest, wait_for_client
from harness.evidence import TestEvidence
from harness.verdict import Conformance
from reference_impl.http.media import TRICKY_EVENTS
from reference_impl.http.server import ReferenceServer
from suites.http.conftest import scripted_server

pytestmark = [pytest.mark.http, pytest.mark.client]

#: how long a client gets to connect, read, reconnect and stop against a local server
SESSION_DEADLINE = 10.0
RETRY_MS = 400
#: a client that reconnects after a 204 would do so within about its reconnection time
AFTER_204_WINDOW = 1.0


def _event_requests(server: ReferenceServer) -> list[tuple[float, dict[str, str]]]:
    out = []
    for at, request in server.requests:
        if request.target.decode("latin-1").split("?")[0] == "/events":
            headers = {k.decode().lower(): v.decode("latin-1") for k, v in request.headers}
            out.append((at, headers))
    return out


@pytest.mark.requirement(
    "HTTP-CLIENT-REQUEST-LINE", "HTTP-HOST", "HTTP-SSE-CLIENT-ACCEPT", "HTTP-SSE-CLIENT-NO-CACHE"
)
async def test_an_event_stream_request_carries_host_accept_and_no_cache(
    http_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """The client names the Host, accepts text/event-stream and asks for an uncached stream."""
    async with scripted_server() as (server, base):
        url = f"{base}/events?count=2&stop_after=1&retry={RETRY_MS}"
        async with http_client.run(url, evidence.directory) as run:
            await wait_for_client(
                server, lambda s: bool(_event_requests(s) or s.rejected), run, SESSION_DEADLINE
            )
        if run.log_path:
            evidence.extra_files.append(run.log_path)
    requests = _event_requests(server)
    if not conformance.expect(
        bool(requests) or not server.rejected,
        "HTTP-CLIENT-REQUEST-LINE",
        f"{server.rejected} request(s) of the client could not be parsed (answered 400)",
    ):
        return
    assert requests, f"the client sent no request for the stream within {SESSION_DEADLINE:g} s"
    _, headers = requests[0]
    conformance.expect("host" in headers, "HTTP-HOST", "the request has no Host field")
    accept = headers.get("accept", "")
    conformance.expect(
        "text/event-stream" in accept,
        "HTTP-SSE-CLIENT-ACCEPT",
        f"Accept: {accept or '(none)'}",
    )
    cache = headers.get("cache-control", "")
    conformance.expect(
        "no-cache" in cache or "no-store" in cache,
        "HTTP-SSE-CLIENT-NO-CACHE",
        f"Cache-Control: {cache or '(none)'}",
    )


@pytest.mark.requirement(
    "HTTP-SSE-CLIENT-RECONNECT", "HTTP-SSE-CLIENT-LAST-EVENT-ID", "HTTP-SSE-CLIENT-RETRY"
)
async def test_a_broken_stream_is_resumed_after_the_retry_time_with_last_event_id(
    http_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """After the stream breaks, the client waits `retry` ms and asks again with Last-Event-ID."""
    async with scripted_server() as (server, base):
        url = f"{base}/events?close_after=3&stop_after=2&retry={RETRY_MS}"
        async with http_client.run(url, evidence.directory) as run:
            await wait_for_client(
                server, lambda s: len(_event_requests(s)) >= 2, run, SESSION_DEADLINE
            )
        if run.log_path:
            evidence.extra_files.append(run.log_path)
    requests = _event_requests(server)
    assert requests, f"the client sent no request for the stream within {SESSION_DEADLINE:g} s"
    assert server.breaks, "the scripted server never broke the stream off"
    broke_at, last_id = server.breaks[0]
    if not conformance.expect(
        len(requests) >= 2,
        "HTTP-SSE-CLIENT-RECONNECT",
        f"no reconnection within {SESSION_DEADLINE:g} s after the stream broke",
    ):
        return
    again_at, headers = requests[1]
    sent = headers.get("last-event-id")
    conformance.expect(
        sent == str(last_id),
        "HTTP-SSE-CLIENT-LAST-EVENT-ID",
        f"the reconnection carried Last-Event-ID: {sent} after event {last_id}",
    )
    waited_ms = (again_at - broke_at) * 1000
    conformance.measure("reconnect_after_ms", round(waited_ms, 1))
    conformance.expect(
        waited_ms >= RETRY_MS * 0.9,
        "HTTP-SSE-CLIENT-RETRY",
        f"reconnected {waited_ms:.0f} ms after the break; retry was {RETRY_MS} ms",
    )


@pytest.mark.requirement("HTTP-SSE-CLIENT-204-STOP")
async def test_a_204_no_content_stops_the_client_from_reconnecting(
    http_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """Answered 204 No Content, the client does not ask for the stream again."""
    # The first stream sets a short reconnection time and breaks; the reconnection gets 204.
    async with scripted_server() as (server, base):
        url = f"{base}/events?close_after=1&stop_after=1&retry=200"
        async with http_client.run(url, evidence.directory) as run:
            asked = await wait_for_client(
                server, lambda s: len(_event_requests(s)) >= 2, run, SESSION_DEADLINE
            )
            again = asked and await server.wait_until(
                lambda s: len(_event_requests(s)) >= 3, AFTER_204_WINDOW
            )
        if run.log_path:
            evidence.extra_files.append(run.log_path)
    if not asked:
        pytest.skip(
            "the client did not come back after the stream broke (see HTTP-SSE-CLIENT-RECONNECT), "
            "so there was no 204 for it to obey"
        )
    conformance.expect(
        not again,
        "HTTP-SSE-CLIENT-204-STOP",
        f"the client asked again within {AFTER_204_WINDOW:g} s of a 204",
    )


def _parsed_events(run: ClientRun) -> list[tuple[str, str, str]] | None:
    """(type, data, last event id) of what the client reports it got; None if it reports none."""
    if isinstance(run.result, list):
        return [(e.type, e.data, e.last_event_id) for e in run.result]
    lines = [line for line in run.output().splitlines() if line.startswith("{")]
    if not lines:
        return None
    events = [json.loads(line) for line in lines]
    return [(e.get("type", ""), e.get("data", ""), e.get("lastEventId", "")) for e in events]


@pytest.mark.requirement(
    "HTTP-SSE-PARSE-BOM",
    "HTTP-SSE-PARSE-LINE-ENDS",
    "HTTP-SSE-PARSE-DATA",
    "HTTP-SSE-PARSE-EVENT-TYPE",
    "HTTP-SSE-PARSE-ID-NUL",
    "HTTP-SSE-PARSE-UNKNOWN-FIELD",
    "HTTP-SSE-PARSE-EMPTY-DATA",
    "HTTP-SSE-PARSE-INCOMPLETE",
)
async def test_a_stream_of_parsing_traps_gives_exactly_the_events_the_algorithm_says(
    http_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """BOM, CR, CRLF, multi-line data, a type, a NULL id, unknown fields, no data, a cut event."""
    async with scripted_server() as (server, base):
        async with http_client.run(f"{base}/tricky", evidence.directory) as run:
            await wait_for_client(
                server, lambda s: len(_tricky_requests(s)) >= 2, run, SESSION_DEADLINE
            )
            await run.wait(AFTER_204_WINDOW)  # a client that stops on 204 ends now
        if run.log_path:
            evidence.extra_files.append(run.log_path)
    got = _parsed_events(run)
    if got is None:
        pytest.skip("the client does not report the events it parsed (JSON lines or a list)")
    want = TRICKY_EVENTS
    checks = [
        ("HTTP-SSE-PARSE-BOM", want[0] in got, "the event after the BOM"),
        ("HTTP-SSE-PARSE-LINE-ENDS", want[1] in got and want[2] in got, "the CR and CRLF events"),
        ("HTTP-SSE-PARSE-DATA", want[3] in got, "two data lines joined by LF"),
        ("HTTP-SSE-PARSE-EVENT-TYPE", want[4] in got, "the event of type custom"),
        ("HTTP-SSE-PARSE-ID-NUL", want[5] in got, "the id with NULL ignored"),
        ("HTTP-SSE-PARSE-UNKNOWN-FIELD", want[6] in got, "data untouched by foo: and a comment"),
        ("HTTP-SSE-PARSE-EMPTY-DATA", want[7] in got and len(got) <= len(want), "no empty event"),
        ("HTTP-SSE-PARSE-INCOMPLETE", all(d != "incomplete" for _, d, _ in got), "no cut event"),
    ]
    for requirement, ok, what in checks:
        conformance.expect(ok, requirement, f"expected {what}; the client got {got!r}")


def _tricky_requests(server: ReferenceServer) -> list[object]:
    return _paths(server, "/tricky")


@pytest.mark.requirement("HTTP-CHUNKED-EXTENSIONS-IGNORED", "HTTP-CHUNKED-TRAILERS")
async def test_chunk_extensions_and_a_trailer_section_do_not_cost_the_client_any_event(
    http_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """Events in chunks with extensions, ended by a trailer, all reach the client."""
    async with scripted_server() as (server, base):
        async with http_client.run(f"{base}/chunky", evidence.directory) as run:
            await wait_for_client(
                server, lambda s: len(_paths(s, "/chunky")) >= 2, run, SESSION_DEADLINE
            )
            await run.wait(AFTER_204_WINDOW)
        if run.log_path:
            evidence.extra_files.append(run.log_path)
    got = _parsed_events(run)
    if got is None:
        pytest.skip("the client does not report the events it parsed (JSON lines or a list)")
    data = [d for _, d, _ in got]
    for requirement in ("HTTP-CHUNKED-EXTENSIONS-IGNORED", "HTTP-CHUNKED-TRAILERS"):
        conformance.expect(
            data == ["chunk 0", "chunk 1", "chunk 2"],
            requirement,
            f"3 events in chunks with extensions and a trailer; the client got {data!r}",
        )


def _paths(server: ReferenceServer, path: str) -> list[object]:
    return [r for _, r in server.requests if r.target.decode("latin-1").split("?")[0] == path]
