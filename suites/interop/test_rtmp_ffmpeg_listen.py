"""RTMP against ffmpeg as a listening server (`ffmpeg -listen 1`): one publisher, one connection.

ffmpeg in listen mode takes a single connection and then exits, so it cannot stand behind the
server suite. This cell checks what it can: the reference client's handshake (digest offered)
with it, and that ffmpeg reads the stream the reference client publishes.
"""

from __future__ import annotations

import pytest

from harness.clients import ClientUnderTest
from harness.evidence import TestEvidence
from harness.netwait import free_port, wait_listening
from harness.session import RunState
from harness.targets import ClientCommand
from harness.verdict import Conformance
from reference_impl.rtmp import media
from reference_impl.rtmp.client import RTMPClient, RTMPError
from reference_impl.rtmp.messages import Command, DataMessage
from suites.interop.conftest import require_program

DEADLINE = 15.0


async def _open_when_listening(url: str, port: int, deadline: float) -> RTMPClient:
    if not await wait_listening(port, deadline):
        raise RTMPError(f"nothing listens on port {port} after {deadline:g} s")
    return await RTMPClient.open(url, timeout=5.0, digest=True)


@pytest.mark.interop(protocol="rtmp", client="reference>ffmpeg", server="ffmpeg-listen")
@pytest.mark.requirement(
    "RTMP-HS-VERSION", "RTMP-HS-DIGEST", "RTMP-HS-RESPONSE-DIGEST", "RTMP-INTEROP-PLAY"
)
async def test_ffmpeg_listening_reads_what_the_reference_client_publishes(
    streamconform: RunState, conformance: Conformance, evidence: TestEvidence
) -> None:
    """The handshake completes (its kind is recorded), connect and publish are answered, and
    ffmpeg ends cleanly having read the stream."""
    require_program(streamconform, "ffmpeg")
    port = free_port()
    url = f"rtmp://127.0.0.1:{port}/live/stream"
    listener = ClientUnderTest(
        "rtmp", ClientCommand("ffmpeg -v error -listen 1 -timeout 15 -i {url} -f null -")
    )
    async with listener.run(url, evidence.directory) as ffmpeg:
        try:
            client = await _open_when_listening(url, port, DEADLINE)
        except (OSError, RTMPError) as exc:
            pytest.fail(f"ffmpeg -listen never accepted: {exc}", pytrace=False)
        async with client:
            done = client.conn.handshake
            assert done is not None
            kind = "digest" if done.digest else "plain"
            if evidence.directory:
                note = evidence.directory / "handshake.txt"
                note.write_text(f"handshake with ffmpeg -listen: {kind}\n")
                evidence.extra_files.append(note)
            await client.connect()
            stream_id = await client.create_stream()
            client.publish(stream_id, "stream")
            status = await client.status(stream_id)
            meta = ("@setDataFrame", "onMetaData", media.metadata())
            client.send(DataMessage(meta, stream_id))
            for item in media.generate(media.Source(), stream_id, 150):
                client.send(item)
            client.send(Command("deleteStream", 0.0, None, (float(stream_id),)))
            await client.writer.drain()
        ended = await ffmpeg.wait(DEADLINE)
    if ffmpeg.log_path:
        evidence.extra_files.append(ffmpeg.log_path)
    code = status.info().get("code") if status else None
    conformance.expect(
        ended and ffmpeg.returncode == 0,
        "RTMP-INTEROP-PLAY",
        f"ffmpeg -listen ended {'with ' + str(ffmpeg.returncode) if ended else 'not at all'} "
        f"after the reference client published (publish answered {code}); "
        f"output {ffmpeg.output()[-300:]!r}",
    )
