"""The Transport header (RFC 2326 §12.39): parse a client's request, write the server's answer."""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class TransportSpec:
    """One transport choice: protocol/profile/lower, delivery, and its parameters."""

    protocol: str  # e.g. RTP/AVP or RTP/AVP/TCP
    unicast: bool
    params: dict[str, str]

    @property
    def tcp(self) -> bool:
        return self.protocol.upper().endswith("/TCP")

    def pair(self, name: str) -> tuple[int, int] | None:
        """A `a-b` port or channel pair parameter (a single value means a, a+1)."""
        value = self.params.get(name)
        if value is None:
            return None
        first, _, second = value.partition("-")
        if not (first.isascii() and first.isdigit()) or (
            second and not (second.isascii() and second.isdigit())
        ):
            return None
        return int(first), int(second) if second else int(first) + 1


def parse_transports(header: str) -> list[TransportSpec]:
    """Every comma-separated choice, in the client's order of preference."""
    out = []
    for choice in header.split(","):
        parts = [p.strip() for p in choice.split(";") if p.strip()]
        if not parts:
            continue
        params: dict[str, str] = {}
        unicast = True
        for part in parts[1:]:
            key, _, value = part.partition("=")
            if key.lower() == "multicast":
                unicast = False
            elif key.lower() != "unicast":
                params[key.lower()] = value
        out.append(TransportSpec(parts[0], unicast, params))
    return out


def format_transport(spec: TransportSpec, extra: dict[str, str]) -> str:
    params = {**spec.params, **extra}
    fields = [spec.protocol, "unicast" if spec.unicast else "multicast"]
    fields += [f"{k}={v}" if v else k for k, v in params.items()]
    return ";".join(fields)


def bind_rtp_pair(
    host: str = "127.0.0.1", attempts: int = 100
) -> tuple[socket.socket, socket.socket]:
    """Bound UDP sockets on an even RTP port and the odd RTCP port above it (RFC 3550 §11).

    The RTP socket is non-blocking, ready for asyncio's sock_recv. This is the adapters'
    helper (server and suites); the sans-IO parts above never touch sockets.
    """
    for _ in range(attempts):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind((host, 0))
        port = rtp.getsockname()[1]
        if port % 2 == 0:
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind((host, port + 1))
            except OSError:
                rtcp.close()
            else:
                rtp.setblocking(False)
                return rtp, rtcp
        rtp.close()
    raise OSError(f"no free even/odd UDP port pair on {host}")
