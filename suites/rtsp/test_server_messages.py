"""RTSP server: message syntax, CSeq, OPTIONS and error responses (RFC 2326 §4, §7, §10, §12)."""

from __future__ import annotations

import pytest

from harness.targets import ServerTarget
from harness.verdict import Conformance
from reference_impl.rtsp.client import RTSPClient, ServerClosed

pytestmark = [pytest.mark.rtsp, pytest.mark.server]


@pytest.mark.requirement("RTSP-CSEQ-PRESENT", "RTSP-CSEQ-ECHO")
async def test_every_response_carries_the_cseq_of_its_request(rtsp_server: ServerTarget) -> None:
    """Every response carries a CSeq equal to the CSeq of the request it answers (§12.17)."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        await client.request("OPTIONS", rtsp_server.url)
        await client.request("OPTIONS", "*")
        await client.request("DESCRIBE", rtsp_server.url, [("Accept", "application/sdp")])
        # A CSeq that does not start at 1 must be echoed too, not counted by the server.
        await client.send_raw(f"OPTIONS {rtsp_server.url} RTSP/1.0\r\nCSeq: 4711\r\n\r\n".encode())


@pytest.mark.requirement("RTSP-MSG-CRLF", "RTSP-STATUS-LINE", "RTSP-RESPONSE-VERSION")
async def test_response_status_line_is_rtsp_1_0_and_lines_end_in_crlf(
    rtsp_server: ServerTarget,
) -> None:
    """A response starts with `RTSP/1.0 <code> <reason>` and its lines end in CRLF (§4.1, §7.1)."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        await client.request("OPTIONS", rtsp_server.url)
        await client.request("DESCRIBE", rtsp_server.url, [("Accept", "application/sdp")])


@pytest.mark.requirement("RTSP-OPTIONS-PUBLIC", "RTSP-PUBLIC-MINIMAL")
async def test_options_is_answered_with_public_listing_the_required_methods(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """OPTIONS is answered 200 with a Public header naming SETUP, TEARDOWN and PLAY or RECORD."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        response = await client.request("OPTIONS", rtsp_server.url)
    public = response.header("Public")
    if not conformance.expect(
        response.status == 200 and public is not None,
        "RTSP-OPTIONS-PUBLIC",
        f"OPTIONS answered {response.status} "
        + ("without a Public header" if public is None else f"with Public: {public}"),
    ):
        return
    assert public is not None
    methods = {m.strip().upper() for m in public.split(",")}
    missing = {"SETUP", "TEARDOWN"} - methods
    if not methods & {"PLAY", "RECORD"}:
        missing.add("PLAY or RECORD")
    conformance.expect(
        not missing,
        "RTSP-PUBLIC-MINIMAL",
        f"Public: {public} lacks {', '.join(sorted(missing))}",
    )


@pytest.mark.requirement("RTSP-METHOD-UNKNOWN-501")
async def test_unknown_method_is_answered_501_not_implemented(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """A request with a method the server does not implement is answered 501 (§7.1.1, §11.5.2)."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        response = await client.request("FROBNICATE", rtsp_server.url)
    conformance.expect(
        response.status == 501,
        "RTSP-METHOD-UNKNOWN-501",
        f"FROBNICATE answered {response.status} {response.reason}, not 501",
    )


@pytest.mark.requirement("RTSP-VERSION-505")
async def test_rtsp_2_0_request_is_answered_505(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """A request in RTSP/2.0, if the server does not speak it, is answered 505 (§11.5.6)."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        try:
            response = await client.send_raw(
                f"OPTIONS {rtsp_server.url} RTSP/2.0\r\nCSeq: 1\r\n\r\n".encode()
            )
        except ServerClosed:
            conformance.expect(False, "RTSP-VERSION-505", "the server closed without answering")
            return
    if response.version == "RTSP/2.0" and response.status < 400:
        # The server speaks RTSP/2.0 (RFC 7826) and answered in it: the version is supported.
        conformance.measure("speaks_rtsp_2_0", 1.0)
        return
    conformance.expect(
        response.status == 505,
        "RTSP-VERSION-505",
        f"an RTSP/2.0 OPTIONS was answered {response.version} {response.status} "
        f"{response.reason}, not 505",
    )


@pytest.mark.parametrize(
    "request_line",
    [
        "OPTIONS",
        "OPTIONS rtsp://127.0.0.1/",
        "OPTIONS * RTSP/1.0 trailing-garbage",
        "\x01\x02\x03 * RTSP/1.0",
    ],
    ids=["method-only", "no-version", "extra-token", "control-bytes"],
)
@pytest.mark.requirement("RTSP-BAD-REQUEST-400")
async def test_malformed_request_line_is_answered_400_bad_request(
    rtsp_server: ServerTarget, conformance: Conformance, request_line: str
) -> None:
    """A request line that cannot be parsed is answered 400, never with success (§11.4.1)."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        try:
            response = await client.send_raw(f"{request_line}\r\nCSeq: 7\r\n\r\n".encode("latin-1"))
        except (ServerClosed, TimeoutError) as exc:
            conformance.expect(
                False, "RTSP-BAD-REQUEST-400", f"{request_line!r}: no response ({exc})"
            )
            return
    conformance.expect(
        response.status == 400,
        "RTSP-BAD-REQUEST-400",
        f"{request_line!r} answered {response.status} {response.reason}, not 400",
    )
