"""The RTSP row of the interop matrix: each client plays a stream from each server."""

from __future__ import annotations

import pytest
from _pytest.mark.structures import ParameterSet

from harness.clients import ClientUnderTest
from harness.evidence import TestEvidence
from harness.session import RunState
from harness.targets import ClientCommand
from harness.verdict import Conformance
from suites.interop.conftest import PeerPool, require_program

#: client name -> command template (None: the reference client)
CLIENTS: dict[str, str | None] = {
    "reference": None,
    "ffprobe-tcp": "ffprobe -v error -rtsp_transport tcp -timeout 5000000 "
    "-show_entries stream=codec_name -of csv=p=0 {url}",
    "ffprobe-udp": "ffprobe -v error -rtsp_transport udp -timeout 5000000 "
    "-show_entries stream=codec_name -of csv=p=0 {url}",
    # rtspsrc exits 0 only once its sink has taken 50 buffers of media.
    "gst-rtspsrc-tcp": "gst-launch-1.0 -q rtspsrc location={url} protocols=tcp "
    "! fakesink num-buffers=50",
    "gst-rtspsrc-udp": "gst-launch-1.0 -q rtspsrc location={url} protocols=udp "
    "! fakesink num-buffers=50",
}
#: clients that prove playing by what they print (the stream's codecs), not by exit code alone
PRINTS_CODECS = {"ffprobe-tcp", "ffprobe-udp"}
SERVERS = ["reference", "mediamtx", "gst-rtsp-server", "vlc-rtsp"]
#: pairs that cannot work, and why (kept out of the matrix rather than failing it)
NOT_YET: dict[tuple[str, str], str] = {
    (client, "vlc-rtsp"): "VLC's RTSP output offers only UDP; this client asks for TCP"
    for client in ("reference", "ffprobe-tcp", "gst-rtspsrc-tcp")
}
PLAY_DEADLINE = 20.0


def _cells() -> list[ParameterSet]:
    cells: list[ParameterSet] = []
    for client in CLIENTS:
        for server in SERVERS:
            if (client, server) in NOT_YET:
                continue
            mark = pytest.mark.interop(protocol="rtsp", client=client, server=server)
            cells.append(pytest.param(client, server, marks=mark, id=f"{client}_x_{server}"))
    return cells


@pytest.mark.parametrize(("client", "server"), _cells())
@pytest.mark.requirement("RTSP-INTEROP-PLAY")
async def test_client_plays_a_stream_from_server(
    client: str,
    server: str,
    peer_pool: PeerPool,
    streamconform: RunState,
    conformance: Conformance,
    evidence: TestEvidence,
) -> None:
    """The client completes DESCRIBE, SETUP and PLAY with the server and sees the stream."""
    template = CLIENTS[client]
    require_program(streamconform, template)
    target = peer_pool.server(server, "rtsp", evidence)
    under_test = ClientUnderTest(
        "rtsp",
        ClientCommand(template) if template else None,
        streamconform.faults_for("rtsp") if server == "reference" else (),
    )
    async with under_test.run(target.url, evidence.directory) as run:
        ended = await run.wait(PLAY_DEADLINE)
    if run.log_path:
        evidence.extra_files.append(run.log_path)
    output = run.output()
    if template is None:
        ok, why = run.returncode == 0, run.error or ""
    else:
        ok = ended and run.returncode == 0 and (client not in PRINTS_CODECS or bool(output.strip()))
        why = f"exit code {run.returncode}" if ended else f"still running after {PLAY_DEADLINE:g} s"
        why += f"; output: {output.strip()[-300:]!r}"
    conformance.expect(ok, "RTSP-INTEROP-PLAY", f"{client} could not play from {server}: {why}")
