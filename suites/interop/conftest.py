"""Interop matrix fixtures: servers (reference and real peers), started once and shared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.pytest_plugin import peer_unavailable
from harness.session import RunState
from harness.targets import ServerTarget, parse_server_url


class PeerPool:
    """Real servers started on first use and kept for the whole session."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.running: dict[str, object] = {}
        self.failed: dict[str, tuple[str, bool]] = {}

    def server(self, name: str, protocol: str) -> ServerTarget:
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
        return parse_server_url(peer.url(protocol), kind="peer", label=f"peer:{name}")  # type: ignore[attr-defined]

    def log_of(self, name: str) -> str | None:
        peer = self.running.get(name)
        return str(peer.log_path) if peer is not None else None  # type: ignore[attr-defined]

    def close(self) -> None:
        for peer in self.running.values():
            peer.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def peer_pool(streamconform: RunState) -> Iterator[PeerPool]:
    pool = PeerPool(streamconform)
    try:
        yield pool
    finally:
        pool.close()
