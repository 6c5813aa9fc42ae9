"""The RTMP row of the interop matrix: a publisher sends a live stream through a server and a
player must receive it.

Every publisher is paired with the reference player, and every player with the reference
publisher, through each server; ffmpeg also plays what ffmpeg publishes. Each cell runs the
publisher until the player is done, so a live server has something to pass on.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from _pytest.mark.structures import ParameterSet

from harness.clients import ClientUnderTest
from harness.evidence import TestEvidence
from harness.session import RunState
from harness.targets import ClientCommand
from harness.verdict import Conformance
from suites.interop.conftest import PeerPool, require_program

#: publisher name -> command (None: the reference client publishing)
PUBLISHERS: dict[str, str | None] = {
    "reference": None,
    "ffmpeg": "ffmpeg -v error -re -f lavfi -i testsrc=size=160x120:rate=25 -f lavfi -i sine "
    "-t 20 -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -c:a aac -f flv {url}",
    "gst-rtmp2sink": "gst-launch-1.0 -q videotestsrc is-live=true num-buffers=500 "
    "! video/x-raw,width=160,height=120 ! x264enc tune=zerolatency speed-preset=ultrafast "
    "key-int-max=25 ! h264parse ! flvmux streamable=true ! rtmp2sink location={url}",
}
#: player name -> command that exits 0 once it has received media (None: the reference client)
PLAYERS: dict[str, str | None] = {
    "reference": None,
    "ffmpeg": "ffmpeg -v error -rw_timeout 8000000 -i {url} -t 1 -f null -",
    # rtmpdump's --stop counts stream time, which a late joiner of a server that keeps the
    # publisher's timestamps (nginx-rtmp) is already past: count 20 kB of FLV instead.
    "rtmpdump": 'sh -c \'test $(rtmpdump -q --live -r "$0" -o - | head -c 20000 | wc -c) '
    "-eq 20000' {url}",
    "gst-rtmp2src": "gst-launch-1.0 -q rtmp2src location={url} ! fakesink num-buffers=20",
}
SERVERS = ["reference", "nginx-rtmp", "node-media-server"]
DEADLINE = 25.0


def _cells() -> list[ParameterSet]:
    pairs = [(p, "reference") for p in PUBLISHERS] + [("reference", p) for p in PLAYERS]
    pairs.append(("ffmpeg", "ffmpeg"))
    cells = []
    for publisher, player in dict.fromkeys(pairs):
        for server in SERVERS:
            mark = pytest.mark.interop(
                protocol="rtmp", client=f"{publisher}>{player}", server=server
            )
            cells.append(
                pytest.param(
                    publisher, server, player, marks=mark, id=f"{publisher}_x_{server}_x_{player}"
                )
            )
    return cells


@pytest.mark.parametrize(("publisher", "server", "player"), _cells())
@pytest.mark.requirement("RTMP-INTEROP-PLAY")
async def test_a_player_receives_through_the_server_what_a_publisher_sends(
    publisher: str,
    server: str,
    player: str,
    peer_pool: PeerPool,
    streamconform: RunState,
    conformance: Conformance,
    evidence: TestEvidence,
) -> None:
    """The publisher's live stream reaches the player through the server."""
    require_program(streamconform, PUBLISHERS[publisher])
    require_program(streamconform, "rtmpdump" if player == "rtmpdump" else PLAYERS[player])
    target = peer_pool.server(server, "rtmp", evidence)
    base = target.url.rsplit("/", 1)[0]
    url = f"{base}/matrix-{secrets.token_hex(3)}"
    faults = streamconform.faults_for("rtmp") if server == "reference" else ()
    source = PUBLISHERS[publisher]
    # The reference publisher sends a live-paced stream (about 20 s) so slow players can join.
    pub_url = f"{url}?mode=publish&pace=live&count=1500" if source is None else url
    pub = ClientUnderTest("rtmp", ClientCommand(source) if source else None)
    sink = PLAYERS[player]
    play = ClientUnderTest("rtmp", ClientCommand(sink) if sink else None, faults)
    pub_dir = evidence.directory / "publisher" if evidence.directory else Path("/tmp")
    async with pub.run(pub_url, pub_dir) as publishing:
        async with play.run(url, evidence.directory) as playing:
            ended = await playing.wait(DEADLINE)
        publisher_state = f"publisher exit {publishing.returncode}"
        if publishing.error:
            publisher_state += f" ({publishing.error})"
    if playing.log_path:
        evidence.extra_files.append(playing.log_path)
    if sink is None:
        ok, why = playing.returncode == 0, playing.error or ""
    else:
        ok = ended and playing.returncode == 0
        why = f"exit code {playing.returncode}" if ended else f"still running after {DEADLINE:g} s"
        why += f"; output: {playing.output().strip()[-300:]!r}"
    conformance.expect(
        ok,
        "RTMP-INTEROP-PLAY",
        f"{player} got nothing from {publisher} through {server}: {why}; {publisher_state}",
    )
