"""RTSP server: the description and the media after PLAY (RFC 2326 §10.2, §10.5; RFC 3550; 4566)."""

from __future__ import annotations

import asyncio

import pytest

from harness.targets import ServerTarget
from harness.verdict import Conformance
from reference_impl.rtsp.client import RTSPClient
from reference_impl.rtsp.rtcp import compound_violations, parse_rtcp, sender_violations
from reference_impl.rtsp.rtp import StreamChecker, parse_rtp
from reference_impl.rtsp.sdp import check_sdp, parse_sdp
from reference_impl.rtsp.transport import bind_rtp_pair
from suites.rtsp.playing import play, play_over_tcp, setup_first_track

pytestmark = [pytest.mark.rtsp, pytest.mark.server]

PACKETS = 10
MEDIA_DEADLINE = 5.0
RTP_IDS = (
    "RTSP-RTP-VERSION",
    "RTSP-RTP-LENGTH",
    "RTSP-RTP-SEQ-CONTINUOUS",
    "RTSP-RTP-TIMESTAMP-MONOTONIC",
    "RTSP-RTP-SSRC-STABLE",
)


def check_stream(datagrams: list[bytes], conformance: Conformance) -> None:
    checker = StreamChecker()
    for data in datagrams:
        packet, violations = parse_rtp(data)
        conformance.record(violations)
        conformance.record(checker.check(packet))


@pytest.mark.requirement(
    "RTSP-SDP-VERSION",
    "RTSP-SDP-REQUIRED",
    "RTSP-SDP-SYNTAX",
    "RTSP-SDP-ORDER",
    "RTSP-SDP-MEDIA",
    "RTSP-SDP-CRLF",
)
async def test_describe_answers_a_session_description_that_follows_rfc_4566(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """DESCRIBE returns an SDP whose lines are complete, well-formed and in order."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        reply = await client.request("DESCRIBE", rtsp_server.url, [("Accept", "application/sdp")])
    assert reply.status == 200, f"DESCRIBE answered {reply.status} {reply.reason}"
    description, violations = parse_sdp(reply.body.decode("utf-8", "replace"))
    conformance.record(violations)
    # Rules across lines (c= coverage, rtpmap and fmtp per format, controls): observed here,
    # counted by the tests that declare them.
    conformance.record(check_sdp(description))


@pytest.mark.requirement("RTSP-PLAY-MEDIA", *RTP_IDS)
async def test_play_over_tcp_sends_rtp_on_the_interleaved_channel(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """After PLAY, RTP packets arrive as `$` frames on the RTP channel SETUP negotiated."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        playing = await play_over_tcp(client, rtsp_server.url)
        frames = await client.interleaved(0, PACKETS, MEDIA_DEADLINE)
        await client.request("TEARDOWN", rtsp_server.url, [("Session", playing.session)])
    conformance.expect(
        len(frames) >= PACKETS,
        "RTSP-PLAY-MEDIA",
        f"{len(frames)} RTP packets on channel 0 within {MEDIA_DEADLINE:g} s of PLAY",
    )
    check_stream([f.data for f in frames], conformance)


@pytest.mark.requirement("RTSP-PLAY-MEDIA", *RTP_IDS)
async def test_play_over_udp_sends_rtp_to_the_client_port(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """After PLAY, RTP datagrams arrive at the client_port the client offered in SETUP."""
    rtp, rtcp = bind_rtp_pair("127.0.0.1")
    port = rtp.getsockname()[1]
    try:
        loop = asyncio.get_running_loop()
        datagrams: list[bytes] = []
        async with await RTSPClient.connect(rtsp_server.url) as client:
            transport = f"RTP/AVP;unicast;client_port={port}-{port + 1}"
            playing = await setup_first_track(client, rtsp_server.url, transport)
            await play(client, rtsp_server.url, playing.session)
            deadline = loop.time() + MEDIA_DEADLINE
            while len(datagrams) < PACKETS and loop.time() < deadline:
                try:
                    data = await asyncio.wait_for(
                        loop.sock_recv(rtp, 65536), deadline - loop.time()
                    )
                except TimeoutError:
                    break
                datagrams.append(data)
            await client.request("TEARDOWN", rtsp_server.url, [("Session", playing.session)])
    finally:
        rtp.close()
        rtcp.close()
    conformance.expect(
        len(datagrams) >= PACKETS,
        "RTSP-PLAY-MEDIA",
        f"{len(datagrams)} RTP datagrams at client port {port} within {MEDIA_DEADLINE:g} s",
    )
    check_stream(datagrams, conformance)


@pytest.mark.requirement(
    "RTSP-PAUSE-RESUME", "RTSP-RTP-SEQ-CONTINUOUS", "RTSP-RTP-TIMESTAMP-MONOTONIC"
)
async def test_play_after_pause_continues_the_rtp_sequence(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """PLAY after PAUSE resumes the stream: sequence numbers go on by one, timestamps forward."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        playing = await play_over_tcp(client, rtsp_server.url)
        await client.interleaved(0, 5, MEDIA_DEADLINE)
        paused = await client.request("PAUSE", rtsp_server.url, [("Session", playing.session)])
        assert paused.status == 200, f"PAUSE answered {paused.status}"
        before = len([f for f in client.frames if f.channel == 0])
        resumed = await client.request("PLAY", rtsp_server.url, [("Session", playing.session)])
        if not conformance.expect(
            resumed.status == 200,
            "RTSP-PAUSE-RESUME",
            f"PLAY after PAUSE answered {resumed.status} {resumed.reason}",
        ):
            return
        frames = await client.interleaved(0, before + 5, MEDIA_DEADLINE)
        await client.request("TEARDOWN", rtsp_server.url, [("Session", playing.session)])
    assert len(frames) > before, "no RTP packet after the second PLAY"
    checker = StreamChecker()
    for frame in frames:
        packet, _ = parse_rtp(frame.data)
        for violation in checker.check(packet):
            if violation.requirement_id in (
                "RTSP-RTP-SEQ-CONTINUOUS",
                "RTSP-RTP-TIMESTAMP-MONOTONIC",
            ):
                conformance.violation(violation)


RTCP_IDS = (
    "RTSP-RTCP-COMPOUND-FIRST",
    "RTSP-RTCP-CNAME",
    "RTSP-RTCP-SR-ACTIVE-SENDER",
    "RTSP-RTCP-SR-SSRC",
)
RTCP_DEADLINE = 6.0  # RFC 3550 §6.2: the first report within about 5 s at the minimum interval


@pytest.mark.requirement(*RTCP_IDS)
async def test_a_playing_server_sends_compound_rtcp_sender_reports(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """While it sends RTP, the server sends compound RTCP: an SR for its SSRC, then SDES CNAME."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        playing = await play_over_tcp(client, rtsp_server.url)
        reports = await client.interleaved(1, 1, RTCP_DEADLINE)
        media = await client.interleaved(0, 1, MEDIA_DEADLINE)
        await client.request("TEARDOWN", rtsp_server.url, [("Session", playing.session)])
    assert media, "no RTP packet after PLAY"
    media_ssrc = parse_rtp(media[0].data)[0].ssrc
    if not conformance.expect(
        bool(reports),
        "RTSP-RTCP-SR-ACTIVE-SENDER",
        f"no RTCP on channel 1 within {RTCP_DEADLINE:g} s while RTP flowed",
    ):
        return
    for frame in reports:
        packets, violations = parse_rtcp(frame.data)
        conformance.record(violations)
        conformance.record(compound_violations(packets))
        conformance.record(sender_violations(packets, media_ssrc, sent=True))
