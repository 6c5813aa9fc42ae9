"""The PNA row of the interop matrix: each pnm client plays the reference server's stream.

There is no open-source PNA server, so the row has one server. A client has played when it
read past the first keep-alive point (43 packets); MPlayer's dump file must hold the stream.
"""

from __future__ import annotations

import pytest
from _pytest.mark.structures import ParameterSet

from harness.clients import ClientUnderTest, wait_for_client
from harness.evidence import TestEvidence
from harness.session import RunState
from harness.targets import ClientCommand
from harness.verdict import Conformance
from reference_impl.pna.server import ReferenceServer
from suites.interop.conftest import require_program

CLIENTS: dict[str, str | None] = {
    "reference": None,
    "mplayer": "mplayer -really-quiet -noconsolecontrols -nolirc -dumpstream "
    "-dumpfile {dir}/mplayer.dump -endpos 60kb {url}",
    "xine": "aaxine -driver stdout -A none -N {url}",
}
DEADLINE = 15.0


def _cells() -> list[ParameterSet]:
    return [
        pytest.param(
            client,
            marks=pytest.mark.interop(protocol="pna", client=client, server="reference"),
            id=f"{client}_x_reference" if client != "reference" else "reference_x_reference",
        )
        for client in CLIENTS
    ]


@pytest.mark.parametrize("client", _cells())
@pytest.mark.requirement("PNA-INTEROP-PLAY")
async def test_the_client_plays_the_stream_of_the_server(
    client: str, streamconform: RunState, conformance: Conformance, evidence: TestEvidence
) -> None:
    """The client completes the handshake and reads the data packets (a keep-alive shows it)."""
    template = CLIENTS[client]
    require_program(streamconform, template)
    server = ReferenceServer(streamconform.faults_for("pna"), count=300)
    port = await server.start("127.0.0.1", 0)
    under_test = ClientUnderTest(
        "pna",
        ClientCommand(template) if template else None,
        streamconform.faults_for("pna"),
    )
    try:
        async with under_test.run(server.url("127.0.0.1", port), evidence.directory) as run:
            await wait_for_client(server, lambda s: s.keepalives >= 1, run, DEADLINE)
        if run.log_path:
            evidence.extra_files.append(run.log_path)
    finally:
        await server.close()
    why = f"{server.keepalives} keep-alives, packets sent {server.packets_sent}"
    ok = server.keepalives >= 1
    if client == "mplayer" and evidence.directory:
        dump = evidence.directory / "mplayer.dump"
        head = dump.read_bytes()[:4] if dump.exists() else b""
        ok = ok and head == b".RMF"
        why += f"; dump file starts {head!r}"
    conformance.expect(ok, "PNA-INTEROP-PLAY", f"{client} did not play: {why}")
