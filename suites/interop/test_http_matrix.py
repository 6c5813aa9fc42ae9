"""The HTTP streaming row of the interop matrix: each client reads an event stream from each
server, across a reconnect the server forces, and must see every event once, in order."""

from __future__ import annotations

import json
import secrets
import sys

import pytest
from _pytest.mark.structures import ParameterSet

from harness.clients import ClientUnderTest
from harness.evidence import TestEvidence
from harness.session import RunState
from harness.targets import ClientCommand
from harness.verdict import Conformance
from reference_impl.http.client import run_session
from suites.interop.conftest import PeerPool, require_program

#: client name -> command template (None: the reference EventSource, run in this process)
CLIENTS: dict[str, str | None] = {
    "reference": None,
    "chromium": f"{sys.executable} -m harness.browser eventsource {{url}}",
    "curl": "curl -sSN --max-time 8 {url}",
    "ffmpeg-mjpeg": "ffmpeg -v error -rw_timeout 5000000 -f mpjpeg -i {url} -f null -",
    "gst-souphttpsrc": "gst-launch-1.0 -q souphttpsrc location={url} ! fakesink",
}
#: media clients read a finite stream of the reference's routes; exit 0 means they read it all
MEDIA_PATHS = {"ffmpeg-mjpeg": "/mjpeg?count=5", "gst-souphttpsrc": "/stream?count=5"}
SERVERS = ["reference", "nginx-proxy-xaccel"]
#: events per connection before the server breaks the stream off, and connections before 204
PER_STREAM, STREAMS = 3, 2
DEADLINE = 30.0  # Chromium may take seconds to start on a busy machine


def _cells() -> list[ParameterSet]:
    return [
        pytest.param(
            client,
            server,
            marks=pytest.mark.interop(protocol="http", client=client, server=server),
            id=f"{client}_x_{server}",
        )
        for client in CLIENTS
        for server in SERVERS
    ]


def _consecutive(ids: list[int]) -> bool:
    return bool(ids) and ids == list(range(ids[0], ids[0] + len(ids)))


@pytest.mark.parametrize(("client", "server"), _cells())
@pytest.mark.requirement("HTTP-INTEROP-STREAM")
async def test_client_reads_every_event_of_a_stream_from_server(
    client: str,
    server: str,
    peer_pool: PeerPool,
    streamconform: RunState,
    conformance: Conformance,
    evidence: TestEvidence,
) -> None:
    """The client gets each event once and in order, also across the reconnect."""
    template = CLIENTS[client]
    require_program(streamconform, template)
    target = peer_pool.server(server, "http", evidence)
    url = (
        f"{target.url}?close_after={PER_STREAM}&stop_after={STREAMS}&retry=300"
        f"&session={secrets.token_hex(4)}"
    )
    if client in MEDIA_PATHS:
        assert template is not None
        base = target.url.rsplit("/", 1)[0]
        async with ClientUnderTest("http", ClientCommand(template)).run(
            base + MEDIA_PATHS[client], evidence.directory
        ) as run:
            ended = await run.wait(DEADLINE)
        ok = ended and run.returncode == 0
        why = f"exit code {run.returncode}; output tail {run.output()[-200:]!r}"
    elif template is None:
        events = await run_session(url, deadline=DEADLINE)
        ids = [
            int(e.last_event_id)
            for e in events
            if e.last_event_id.isascii() and e.last_event_id.isdigit()
        ]
        why = f"ids {ids}"
        ok = len(ids) == PER_STREAM * STREAMS and _consecutive(ids)
    elif client == "curl":
        # curl is no EventSource: it reads the first stream to its break, and that is all.
        async with ClientUnderTest("http", ClientCommand(template)).run(
            url, evidence.directory
        ) as run:
            await run.wait(DEADLINE)
        ids = [int(line[3:]) for line in run.output().splitlines() if line.startswith("id:")]
        why = f"ids {ids}; output tail {run.output()[-200:]!r}"
        ok = len(ids) == PER_STREAM and _consecutive(ids)
    else:
        async with ClientUnderTest("http", ClientCommand(template)).run(
            url, evidence.directory
        ) as run:
            await run.wait(DEADLINE)
        received = [json.loads(line) for line in run.output().splitlines() if line.startswith("{")]
        ids = [
            int(e["lastEventId"])
            for e in received
            if str(e["lastEventId"]).isascii() and str(e["lastEventId"]).isdigit()
        ]
        why = f"ids {ids}; exit code {run.returncode}"
        ok = len(ids) == PER_STREAM * STREAMS and _consecutive(ids)
    if evidence.directory:
        evidence.extra_files.extend(p for p in evidence.directory.glob("client.log"))
    conformance.expect(ok, "HTTP-INTEROP-STREAM", f"{client} from {server}: {why}")
