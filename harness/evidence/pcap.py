"""pcapng from transcripts, with the TCP/UDP framing reconstructed (scapy writes the file).

Servers under test run on ephemeral ports, which Wireshark would not dissect as RTSP or RTMP;
the server port is shown as the protocol's well-known port, and the real ports are written in
a comment on the connection's first packet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.evidence.transcript import Transcript

#: protocol -> the port tshark dissects it on by default
WELL_KNOWN = {"rtsp": 554, "rtmp": 1935, "mms": 1755, "http": 80, "pna": 7070}
#: ports tshark already dissects for the protocol: kept as they are
DISSECTED = {"rtsp": {554, 8554}, "rtmp": {1935}, "mms": {1755}, "http": {80, 8080}, "pna": {7070}}
MAX_SEGMENT = 32000
CLIENT_ISN, SERVER_ISN = 1_000_000, 5_000_000


def write_pcapng(path: Path, transcripts: list[Transcript]) -> None:
    from scapy.utils import PcapNgWriter

    packets: list[Any] = []
    for transcript in transcripts:
        packets.extend(_packets(transcript))
    packets.sort(key=lambda p: float(p.time))
    writer = PcapNgWriter(str(path))
    try:
        for packet in packets:
            writer.write(packet)
    finally:
        writer.close()


def _packets(t: Transcript) -> list[Any]:
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.l2 import Ether

    server_port = t.server[1]
    shown = server_port
    if server_port not in DISSECTED.get(t.protocol, set()) and t.protocol in WELL_KNOWN:
        shown = WELL_KNOWN[t.protocol]
    ends = {"c2s": (t.client, (t.server[0], shown)), "s2c": ((t.server[0], shown), t.client)}
    comment = (
        f"streamconform {t.protocol} {t.transport}: client {t.client[0]}:{t.client[1]}, "
        f"server {t.server[0]}:{server_port}"
        + (f" (shown as port {shown})" if shown != server_port else "")
    )
    out: list[Any] = []

    def packet(direction: str, at: float, layer4: Any) -> None:
        (src, sport), (dst, dport) = ends[direction]
        layer4.sport, layer4.dport = sport, dport
        frame = (
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=src, dst=dst) / layer4
        )
        frame.time = t.started_at + at
        out.append(frame)

    if t.transport == "udp":
        for f in t.frames:
            packet(f.direction, f.t, UDP() / f.data)
    else:
        seq = {"c2s": CLIENT_ISN, "s2c": SERVER_ISN}
        other = {"c2s": "s2c", "s2c": "c2s"}
        packet("c2s", 0.0, TCP(flags="S", seq=seq["c2s"]))
        seq["c2s"] += 1
        packet("s2c", 0.0, TCP(flags="SA", seq=seq["s2c"], ack=seq["c2s"]))
        seq["s2c"] += 1
        packet("c2s", 0.0, TCP(flags="A", seq=seq["c2s"], ack=seq["s2c"]))
        last = 0.0
        for f in t.frames:
            for start in range(0, len(f.data), MAX_SEGMENT):
                chunk = f.data[start : start + MAX_SEGMENT]
                packet(
                    f.direction,
                    f.t,
                    TCP(flags="PA", seq=seq[f.direction], ack=seq[other[f.direction]]) / chunk,
                )
                seq[f.direction] += len(chunk)
            last = f.t
        closer = t.closed_by or "c2s"
        packet(closer, last, TCP(flags="FA", seq=seq[closer], ack=seq[other[closer]]))
        seq[closer] += 1
        packet(other[closer], last, TCP(flags="FA", seq=seq[other[closer]], ack=seq[closer]))
        seq[other[closer]] += 1
        packet(closer, last, TCP(flags="A", seq=seq[closer], ack=seq[other[closer]]))
    if out:
        out[0].comment = comment.encode()
    return out
