"""Free loopback ports, chosen at start so peers and tests can run side by side."""

from __future__ import annotations

import socket


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_pair() -> int:
    """An even port whose odd neighbour is free too (RTP and RTCP, RFC 3550 §11)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as even:
            even.bind(("127.0.0.1", 0))
            port = int(even.getsockname()[1])
            if port % 2 or port + 1 > 65535:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as odd:
                try:
                    odd.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise OSError("no free even/odd UDP port pair on 127.0.0.1")


def allocate(names: tuple[str, ...]) -> dict[str, int]:
    return {
        name: (free_udp_pair() if name.startswith("rtp") else free_tcp_port()) for name in names
    }
