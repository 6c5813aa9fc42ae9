"""RTSP client: what a client sends, observed by a scripted server (RFC 2326 §10, §12.17)."""

from __future__ import annotations

import pytest

from harness.clients import ClientUnderTest
from harness.evidence import TestEvidence
from harness.session import RunState
from harness.verdict import Conformance
from reference_impl.rtsp.messages import Request
from reference_impl.rtsp.server import ReferenceServer
from suites.rtsp.conftest import scripted_server

pytestmark = [pytest.mark.rtsp, pytest.mark.client]

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
        if cseq is None or not cseq.strip().isdigit():
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
    if "SETUP" not in methods:
        pytest.skip(f"the client never sent SETUP (it sent {', '.join(methods) or 'nothing'})")
    conformance.expect(
        "TEARDOWN" in methods,
        "RTSP-CLIENT-TEARDOWN",
        f"the client sent {', '.join(methods)} and no TEARDOWN",
    )
