"""PNA client: what a pnm client sends, observed by a scripted reference server."""

from __future__ import annotations

import urllib.parse

import pytest

from harness.clients import ClientUnderTest, wait_for_client
from harness.evidence import TestEvidence
from harness.verdict import Conformance
from reference_impl.pna.server import ReferenceServer
from suites.pna.conftest import CLIENT_DEADLINE, scripted_server

pytestmark = [pytest.mark.pna, pytest.mark.client]


async def _observe(
    client: ClientUnderTest, evidence: TestEvidence, done: object, count: int = 150
) -> tuple[ReferenceServer, str]:
    async with scripted_server(count=count) as (server, url):
        async with client.run(url, evidence.directory) as run:
            await wait_for_client(server, done, run, CLIENT_DEADLINE)  # type: ignore[arg-type]
        if run.log_path:
            evidence.extra_files.append(run.log_path)
    return server, url


@pytest.mark.requirement(
    "PNA-REQ-SIGNATURE",
    "PNA-REQ-CHUNK-TLV",
    "PNA-REQ-CHALLENGE",
    "PNA-REQ-BANDWIDTH",
    "PNA-REQ-GUID",
    "PNA-REQ-CAPS",
    "PNA-REQ-CLIENT-STRING",
    "PNA-REQ-PATH",
    "PNA-REQ-TRAILER",
)
async def test_the_request_carries_the_signature_chunks_client_string_and_path(
    pna_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """PNA 00 0a, chunks ended by 00 00 (a 32-digit challenge, bandwidth, GUID, capabilities),
    the client string record, the URL's path, then yB."""
    server, url = await _observe(pna_client, evidence, lambda s: bool(s.requests))
    conformance.expect(
        bool(server.requests),
        "PNA-REQ-SIGNATURE",
        f"no PNA request arrived within {CLIENT_DEADLINE:g} s "
        f"({len(server.violations)} violations, {server.connections} connections)",
    )
    if not server.requests:
        return
    request = server.requests[0]
    wanted = urllib.parse.urlsplit(url).path
    conformance.expect(
        request.path.lstrip("/") == wanted.lstrip("/"),
        "PNA-REQ-PATH",
        f"the path record names {request.path!r}; the URL's path is {wanted!r}",
    )


@pytest.mark.requirement("PNA-CLIENT-CHALLENGE-RESPONSE")
async def test_the_client_answers_the_server_challenge(
    pna_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """The PNA chunk carries the challenge marker: the client answers 0x23 00 len response."""
    server, _ = await _observe(pna_client, evidence, lambda s: bool(s.challenge_responses))
    responses = server.challenge_responses
    conformance.expect(
        bool(responses) and all(len(r) == 32 for r in responses),
        "PNA-CLIENT-CHALLENGE-RESPONSE",
        f"challenge responses {responses!r}",
    )


@pytest.mark.requirement("PNA-CLIENT-KEEPALIVE", "PNA-CLIENT-READS-DATA")
async def test_the_client_reads_the_packets_and_sends_keepalives(
    pna_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """The client stays for the data packets (100 go out to it) and sends ! while
    it reads them."""
    server, _ = await _observe(pna_client, evidence, lambda s: s.keepalives >= 2)
    sent = max(server.packets_sent, default=0)
    conformance.expect(
        sent >= 100 or server.keepalives > 0,
        "PNA-CLIENT-READS-DATA",
        f"the client hung up after {sent} data packets",
    )
    conformance.expect(
        server.keepalives > 0,
        "PNA-CLIENT-KEEPALIVE",
        f"no keep-alive while {sent} packets went out",
    )
