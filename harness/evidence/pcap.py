"""pcapng from transcripts, with the TCP/UDP framing reconstructed (scapy writes the file).

A transcript holds only payload bytes, so the framing is synthesized: for TCP a three-way
handshake, one PSH/ACK segment per frame (split when larger than an IP packet can carry) with
consistent sequence and acknowledgement numbers, and a FIN exchange at the end; for UDP one
datagram per frame. tshark then reassembles and dissects the streams without analysis warnings.

Servers under test run on ephemeral ports, which tshark would not dissect as RTSP or RTMP; the
server port is shown as the protocol's well-known port, and the real ports are written in a
comment on the connection's first packet (`tshark -T fields -e frame.comment` shows it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.evidence.transcript import Direction, Frame, Transcript

#: protocol -> the TCP port tshark dissects it on by default (PNA has no dissector; 7070 is
#: still its registered port, which tells a reader what the flow is)
TCP_WELL_KNOWN = {
    "rtsp": 554,
    "rtmp": 1935,
    "mms": 1755,
    "mmst": 1755,
    "http": 80,
    "mmsh": 80,
    "pna": 7070,
    "pnm": 7070,
}
#: UDP flows are mapped only where tshark has a UDP dissector on the port (MMS data over UDP);
#: RTP/RTCP flows of RTSP keep their ports, as mapping them to 554 would claim they are RTSP.
UDP_WELL_KNOWN = {"mms": 1755, "mmsu": 1755}
#: other ports tshark already dissects the protocol on: kept as they are
ALSO_DISSECTED = {"rtsp": {8554}, "http": {8080}, "mmsh": {8080}}
#: payload bytes per TCP segment: frames above this are split so that an IP packet can hold them
MAX_SEGMENT = 65000
CLIENT_ISN, SERVER_ISN = 1_000_000, 5_000_000
WINDOW = 65535
_OTHER: dict[Direction, Direction] = {"c2s": "s2c", "s2c": "c2s"}


@dataclass(frozen=True)
class _Ends:
    """The addresses a flow is shown with in the capture, and what the comment says of them."""

    client: tuple[str, int]
    server: tuple[str, int]
    comment: str


def write_pcapng(path: Path, transcripts: Iterable[Transcript]) -> None:
    """Write every transcript as one flow of `path`, in time order across flows."""
    from scapy.utils import PcapNgWriter  # scapy takes ~1 s to import: only when writing

    packets: list[Any] = []
    used: set[tuple[str, tuple[str, int], tuple[str, int]]] = set()
    seen: set[tuple[object, ...]] = set()
    for transcript in transcripts:
        identity = _identity(transcript)
        if identity in seen:  # the same connection recorded by both of its ends
            continue
        seen.add(identity)
        ends = _ends(transcript, used)
        packets.extend(_packets(transcript, ends))
    packets.sort(key=lambda p: float(p.time))  # stable: each flow keeps its own order
    writer = PcapNgWriter(str(path))
    try:
        for packet in packets:
            writer.write(packet)
    finally:
        writer.close()


def shown_port(protocol: str, transport: str, port: int) -> int:
    """The server port to write so that tshark dissects `protocol` (kept if it already does)."""
    table = TCP_WELL_KNOWN if transport == "tcp" else UDP_WELL_KNOWN
    well_known = table.get(protocol)
    if well_known is None or port == well_known or port in ALSO_DISSECTED.get(protocol, ()):
        return port
    return well_known


def _identity(t: Transcript) -> tuple[object, ...]:
    sent = b"".join(f.data for f in t.frames if f.direction == "c2s")
    got = b"".join(f.data for f in t.frames if f.direction == "s2c")
    return (t.transport, t.client, t.server, sent, got)


def _ends(t: Transcript, used: set[tuple[str, tuple[str, int], tuple[str, int]]]) -> _Ends:
    server = (t.server[0], shown_port(t.protocol, t.transport, t.server[1]))
    client = t.client
    # Two flows may share a client port once the server port is mapped (or when a port was
    # reused): tshark would merge them into one broken stream, so move the later one.
    while (t.transport, client, server) in used:
        client = (client[0], 49152 + (client[1] + 7919) % 16384)
    used.add((t.transport, client, server))
    notes = [
        f"streamconform {t.protocol} over {t.transport}: "
        f"client {t.client[0]}:{t.client[1]}, server {t.server[0]}:{t.server[1]}"
    ]
    if server != t.server:
        notes.append(f"server port shown as {server[1]} so that tshark dissects {t.protocol}")
    if client != t.client:
        notes.append(f"client port shown as {client[1]} to keep flows apart")
    return _Ends(client, server, "; ".join(notes))


def _packets(t: Transcript, ends: _Ends) -> list[Any]:
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.l2 import Ether

    out: list[Any] = []

    def emit(direction: Direction, at: float, layer4: Any) -> None:
        src, dst = (ends.client, ends.server) if direction == "c2s" else (ends.server, ends.client)
        mac_a, mac_b = "02:00:00:00:00:01", "02:00:00:00:00:02"
        macs = (mac_a, mac_b) if direction == "c2s" else (mac_b, mac_a)
        layer4.sport, layer4.dport = src[1], dst[1]
        packet = Ether(src=macs[0], dst=macs[1]) / IP(src=src[0], dst=dst[0]) / layer4
        packet.time = t.started_at + max(at, 0.0)
        out.append(packet)

    if t.transport == "udp":
        for frame in t.frames:
            emit(frame.direction, frame.t, UDP() / frame.data)
    else:
        _tcp_flow(t.frames, t.closed_by, emit, TCP)
    if out:
        out[0].comments = [ends.comment.encode()]
    return out


def _tcp_flow(
    frames: list[Frame],
    closed_by: Direction | None,
    emit: Callable[[Direction, float, Any], None],
    tcp: Any,
) -> None:
    """Handshake, data segments with consistent seq/ack, then FIN from the closing side."""
    seq: dict[Direction, int] = {"c2s": CLIENT_ISN, "s2c": SERVER_ISN}

    def segment(direction: Direction, at: float, flags: str, payload: bytes = b"") -> None:
        ack = seq[_OTHER[direction]] if "A" in flags else 0
        layer = tcp(flags=flags, seq=seq[direction], ack=ack, window=WINDOW)
        emit(direction, at, layer / payload if payload else layer)
        seq[direction] += len(payload) + (1 if ("S" in flags or "F" in flags) else 0)

    # The transcript opens when the connection is established: the handshake is at +0.
    segment("c2s", 0.0, "S")
    segment("s2c", 0.0, "SA")
    segment("c2s", 0.0, "A")
    for frame in frames:
        for offset in range(0, len(frame.data), MAX_SEGMENT):
            segment(frame.direction, frame.t, "PA", frame.data[offset : offset + MAX_SEGMENT])
    end = frames[-1].t if frames else 0.0
    closer: Direction = closed_by or "c2s"
    segment(closer, end, "FA")
    segment(_OTHER[closer], end, "FA")
    segment(closer, end, "A")
