"""Steps shared by the media tests: DESCRIBE, SETUP of the first track, PLAY."""

from __future__ import annotations

from dataclasses import dataclass

from reference_impl.rtsp.client import RTSPClient
from reference_impl.rtsp.messages import Response
from reference_impl.rtsp.sdp import parse_sdp, resolve_control

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
