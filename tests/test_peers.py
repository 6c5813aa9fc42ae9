"""Real peers: specs, ports, and the gst-rtsp-server image started, used and stopped cleanly."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from harness.peers import (
    PeerUnavailable,
    UnknownPeer,
    all_specs,
    availability,
    get_spec,
    start_peer,
)
from harness.peers.ports import allocate, free_udp_pair
from tests.helpers import require_or_skip


def test_every_spec_names_urls_for_its_protocols_over_its_ports() -> None:
    for spec in all_specs():
        ports = {name: 10000 + i * 2 for i, name in enumerate(spec.ports)}
        for protocol in spec.protocols:
            assert spec.url(protocol, ports).startswith(f"{protocol}://127.0.0.1:")


def test_an_unknown_peer_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UnknownPeer, match="known peers: gst-rtsp-server, .*mediamtx, nginx-proxy"):
        start_peer("no-such", log_dir=Path("/tmp"))


def test_rtp_ports_come_as_an_even_odd_pair_on_loopback() -> None:
    port = free_udp_pair()
    assert port % 2 == 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as odd:
        odd.bind(("127.0.0.1", port + 1))
    assert set(allocate(("rtsp", "rtp"))) == {"rtsp", "rtp"}


def test_a_blocked_peer_says_why_and_what_would_unblock_it() -> None:
    reason = get_spec("mediamtx").blocked()
    if reason is None:
        pytest.skip("a mediamtx binary is installed here")
    assert "Go module proxy" in reason and "unblock" in reason
    assert availability("mediamtx") == reason
    with pytest.raises(PeerUnavailable, match="mediamtx"):
        start_peer("mediamtx", log_dir=Path("/tmp"))


def test_gst_rtsp_server_starts_answers_options_and_stops_without_leftovers(tmp_path: Path) -> None:
    problem = availability("gst-rtsp-server")
    require_or_skip(problem is None, f"gst-rtsp-server cannot start: {problem}")
    with start_peer("gst-rtsp-server", log_dir=tmp_path) as peer:
        url = peer.url("rtsp")
        with socket.create_connection(("127.0.0.1", peer.ports["rtsp"]), timeout=5) as sock:
            sock.sendall(f"OPTIONS {url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            sock.settimeout(5)
            reply = sock.recv(4096)
        assert reply.startswith(b"RTSP/1.0 200 OK") and b"CSeq: 1" in reply
        assert peer.alive()
    assert not peer.alive()
    if peer.backend == "docker":
        import docker

        mine = {"label": f"streamconform.owner={os.getpid()}"}  # other runs may have their own
        assert docker.from_env().containers.list(all=True, filters=mine) == []
    assert peer.log_path.exists()
