"""Interop matrix fixtures: servers (reference and real peers), started once and shared."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.evidence import TestEvidence
from harness.pytest_plugin import peer_unavailable
from harness.session import RunState
from harness.targets import ServerTarget, parse_server_url


class PeerPool:
    """Real servers started on first use and kept for the whole session."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.running: dict[str, object] = {}
        self.failed: dict[str, tuple[str, bool]] = {}

    def server(
        self, name: str, protocol: str, evidence: TestEvidence | None = None
    ) -> ServerTarget:
        """The server's target, started on first use; its log joins `evidence` if given."""
        if name == "reference":
            return self.state.server_for(protocol)
        from harness.peers import PeerBlocked, PeerUnavailable, start_peer

        if name in self.failed:
            message, blocked = self.failed[name]
            peer_unavailable(self.state, message, blocked)
        if name not in self.running:
            try:
                self.running[name] = start_peer(name, log_dir=self.state.run_dir / "peers")
            except PeerUnavailable as exc:
                self.failed[name] = (str(exc), isinstance(exc, PeerBlocked))
                peer_unavailable(self.state, str(exc), isinstance(exc, PeerBlocked))
        peer = self.running[name]
        if evidence is not None:
            evidence.extra_files.append(Path(peer.log_path))  # type: ignore[attr-defined]
        return parse_server_url(peer.url(protocol), kind="peer", label=f"peer:{name}")  # type: ignore[attr-defined]

    def close(self) -> None:
        for peer in self.running.values():
            peer.stop()  # type: ignore[attr-defined]


def require_program(state: RunState, command: str | None) -> None:
    """The cell needs the command's program: unavailable (a failure under
    STREAMCONFORM_REQUIRE_PEERS) when it is not installed. None is the reference: always there."""
    if command is None:
        return
    program = shlex.split(command)[0]
    if shutil.which(program) is None:
        peer_unavailable(state, f"{program} is not installed (see .ci/packages/)")


@pytest.fixture(scope="session")
def peer_pool(streamconform: RunState) -> Iterator[PeerPool]:
    pool = PeerPool(streamconform)
    try:
        yield pool
    finally:
        pool.close()
