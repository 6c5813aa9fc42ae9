"""Steps shared by the media tests: DESCRIBE, SETUP of the first track, PLAY."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from reference_impl.rtsp.client import RTSPClient
from reference_impl.rtsp.messages import Response
from reference_impl.rtsp.sdp import parse_sdp, resolve_control
from reference_impl.rtsp.transport import bind_rtp_pair

TCP_INTERLEAVED = "RTP/AVP/TCP;unicast;interleaved=0-1"


class NotPlaying(AssertionError):
    """The server would not go as far as the test needs; the message says where it stopped."""


@dataclass
class Playing:
    """A session set up on the first track of the presentation."""

    session: str
    track: str
    setup: Response


async def setup_first_track(client: RTSPClient, url: str, transport: str) -> Playing:
    """DESCRIBE, then SETUP of the first track with `transport`; a TCP-only test skips on 461."""
    return await _setup(client, url, transport, skip_on_461=True)


async def setup_first_track_any(client: RTSPClient, url: str) -> Playing:
    """SETUP of the first track over interleaved TCP, or over UDP when TCP is not offered.

    For tests that need a session but not a particular transport. The UDP ports offered are a
    free even/odd pair at the time of the offer; no test here reads media from them.
    """
    try:
        return await _setup(client, url, TCP_INTERLEAVED, skip_on_461=False)
    except TransportRefused:
        rtp, rtcp = bind_rtp_pair()
        port = rtp.getsockname()[1]
        rtp.close()
        rtcp.close()
        return await _setup(client, url, f"RTP/AVP;unicast;client_port={port}-{port + 1}", True)


class TransportRefused(NotPlaying):
    """SETUP answered 461 Unsupported Transport."""


async def _setup(client: RTSPClient, url: str, transport: str, skip_on_461: bool) -> Playing:
    described = await client.request("DESCRIBE", url, [("Accept", "application/sdp")])
    if described.status != 200:
        raise NotPlaying(f"DESCRIBE answered {described.status} {described.reason}")
    sdp, _ = parse_sdp(described.body.decode("utf-8", "replace"))
    if not sdp.media:
        raise NotPlaying("the description has no media section")
    track = resolve_control(
        sdp.media[0].attribute("control"),
        described.header("Content-Base"),
        described.header("Content-Location"),
        url,
    )
    reply = await client.request("SETUP", track, [("Transport", transport)])
    if reply.status == 461 and transport == TCP_INTERLEAVED:
        if skip_on_461:
            # Interleaved TCP is optional (RFC 2326 §10.12): a server may offer only UDP.
            pytest.skip(f"the server does not offer RTP/AVP/TCP (SETUP answered 461): {track}")
        raise TransportRefused(f"SETUP {track} with {transport} answered 461")
    if reply.status != 200:
        raise NotPlaying(f"SETUP {track} with {transport} answered {reply.status} {reply.reason}")
    session = (reply.header("Session") or "").split(";")[0].strip()
    return Playing(session, track, reply)


async def play(client: RTSPClient, url: str, session: str) -> Response:
    reply = await client.request("PLAY", url, [("Session", session), ("Range", "npt=0.000-")])
    if reply.status != 200:
        raise NotPlaying(f"PLAY answered {reply.status} {reply.reason}")
    return reply


async def play_over_tcp(client: RTSPClient, url: str) -> Playing:
    """SETUP of the first track on interleaved channels 0-1, then PLAY."""
    playing = await setup_first_track(client, url, TCP_INTERLEAVED)
    await play(client, url, playing.session)
    return playing
