"""RTSP client: what a client sends, observed by a scripted server (RFC 2326 §10, §12.17)."""

from __future__ import annotations

import re

import pytest

from harness.clients import ClientUnderTest
from harness.evidence import TestEvidence
from harness.session import RunState
from harness.verdict import Conformance
from reference_impl.rtsp.messages import Request
from reference_impl.rtsp.server import ReferenceServer
from reference_impl.rtsp.transport import parse_transports
from suites.rtsp.conftest import scripted_server

pytestmark = [pytest.mark.rtsp, pytest.mark.client]

_TRANSPORT_SPEC = re.compile(r"^RTP/AVP(/(TCP|UDP))?$", re.IGNORECASE)

#: how long a client gets to go from connect to PLAY and TEARDOWN against a local server
SESSION_DEADLINE = 8.0


def _requests(server: ReferenceServer) -> list[Request]:
    return [r for r in server.requests if isinstance(r, Request)]


def _session_over(server: ReferenceServer) -> bool:
    methods = [r.method for r in _requests(server)]
    return "TEARDOWN" in methods or (bool(methods) and server.connections_closed > 0)


@pytest.mark.requirement("RTSP-CSEQ-PRESENT", "RTSP-CSEQ-INCREASE", "RTSP-MSG-CRLF")
async def test_client_requests_carry_a_cseq_that_grows_by_one(
    rtsp_client: ClientUnderTest,
    conformance: Conformance,
    evidence: TestEvidence,
    streamconform: RunState,
) -> None:
    """Every request a client sends carries a CSeq, one greater than its previous request's."""
    async with scripted_server() as (server, url):
        async with rtsp_client.run(url, evidence.directory) as run:
            await server.wait_until(_session_over, SESSION_DEADLINE)
        if run.log_path:
            evidence.extra_files.append(run.log_path)
    requests = _requests(server)
    assert requests, f"the client sent no RTSP request within {SESSION_DEADLINE:g} s"
    previous: int | None = None
    for request in requests:
        cseq = request.header("CSeq")
        if cseq is None or not (cseq.strip().isascii() and cseq.strip().isdigit()):
            continue  # a missing CSeq is reported by the connection as RTSP-CSEQ-PRESENT
        number = int(cseq)
        conformance.expect(
            previous is None or number == previous + 1,
            "RTSP-CSEQ-INCREASE",
            f"{request.method} has CSeq {number} after CSeq {previous}",
        )
        previous = number


@pytest.mark.requirement("RTSP-CLIENT-TEARDOWN")
async def test_client_ends_the_session_it_set_up_with_teardown(
    rtsp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """A client that set up a session sends TEARDOWN for it before it goes (§10.7)."""
    async with scripted_server() as (server, url):
        async with rtsp_client.run(url, evidence.directory):
            await server.wait_until(_session_over, SESSION_DEADLINE)
    methods = [r.method for r in _requests(server)]
    set_up = any(
        isinstance(request, Request) and request.method == "SETUP" and response.status == 200
        for request, response in server.exchanges
    )
    if not set_up:
        pytest.skip(f"the client set up no session (it sent {', '.join(methods) or 'nothing'})")
    conformance.expect(
        "TEARDOWN" in methods,
        "RTSP-CLIENT-TEARDOWN",
        f"the client sent {', '.join(methods)} and no TEARDOWN",
    )


async def _observe(rtsp_client: ClientUnderTest, evidence: TestEvidence) -> ReferenceServer:
    """Run the client against a scripted server until its session is over; return the server."""
    async with scripted_server() as (server, url):
        async with rtsp_client.run(url, evidence.directory) as run:
            await server.wait_until(_session_over, SESSION_DEADLINE)
        if run.log_path and run.log_path not in evidence.extra_files:
            evidence.extra_files.append(run.log_path)
    assert _requests(server), f"the client sent no RTSP request within {SESSION_DEADLINE:g} s"
    return server


@pytest.mark.requirement("RTSP-SESSION-ECHO", "RTSP-SESSION-TIMEOUT-RESPONSE-ONLY")
async def test_client_sends_the_session_it_was_given_without_timeout(
    rtsp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """After SETUP, every request for the session carries its identifier as given (§12.37)."""
    server = await _observe(rtsp_client, evidence)
    given: str | None = None
    for request, response in server.exchanges:
        if not isinstance(request, Request):
            continue
        sent = request.header("Session")
        if sent is not None:
            conformance.expect(
                ";timeout" not in sent.lower(),
                "RTSP-SESSION-TIMEOUT-RESPONSE-ONLY",
                f"{request.method} carries Session: {sent}",
            )
        if given is not None and request.method in ("PLAY", "PAUSE", "TEARDOWN", "SETUP"):
            conformance.expect(
                sent is not None and sent.split(";")[0].strip() == given,
                "RTSP-SESSION-ECHO",
                f"{request.method} carries Session {sent!r}, the server gave {given!r}",
            )
        if request.method == "SETUP" and response.status == 200 and given is None:
            given = (response.header("Session") or "").split(";")[0].strip() or None
    if given is None:
        pytest.skip("the client never completed a SETUP, so it had no session to echo")


@pytest.mark.requirement(
    "RTSP-SETUP-TRANSPORT-PRESENT",
    "RTSP-TRANSPORT-SYNTAX",
    "RTSP-REQUEST-URI-ABSOLUTE",
    "RTSP-CLIENT-USER-AGENT",
)
async def test_client_requests_name_absolute_urls_and_well_formed_transports(
    rtsp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """Requests name `*` or an absolute rtsp URL; each SETUP carries a valid Transport (§12.39)."""
    server = await _observe(rtsp_client, evidence)
    for request in _requests(server):
        uri = request.uri
        conformance.expect(
            uri == "*" or uri.lower().startswith(("rtsp://", "rtspu://")),
            "RTSP-REQUEST-URI-ABSOLUTE",
            f"{request.method} names {uri!r}",
        )
        conformance.expect(
            request.header("User-Agent") is not None,
            "RTSP-CLIENT-USER-AGENT",
            f"{request.method} has no User-Agent",
        )
        if request.method != "SETUP":
            continue
        transport = request.header("Transport")
        if not conformance.expect(
            transport is not None, "RTSP-SETUP-TRANSPORT-PRESENT", f"SETUP {uri} has no Transport"
        ):
            continue
        assert transport is not None
        specs = parse_transports(transport)
        conformance.expect(
            bool(specs) and all(_TRANSPORT_SPEC.match(spec.protocol) for spec in specs),
            "RTSP-TRANSPORT-SYNTAX",
            f"Transport: {transport!r} is not RTP/AVP[/TCP|/UDP];parameters",
        )
