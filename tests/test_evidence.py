"""Evidence: readable transcripts, and pcapng files that tshark dissects as the right protocol."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.evidence import TestEvidence
from harness.evidence.pcap import shown_port, write_pcapng
from harness.evidence.render import render_text
from harness.evidence.transcript import ConnectionRecorder, Transcript, load_transcripts
from tests.helpers import require_or_skip

OPTIONS = b"OPTIONS rtsp://127.0.0.1:40123/test RTSP/1.0\r\nCSeq: 1\r\n\r\n"
REPLY = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, SETUP, PLAY, TEARDOWN\r\n\r\n"
RTP = b"\x80\x60\x00\x01" + b"\x00" * 8 + b"payload"
HTTP_GET = b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
BIG_DOWN = bytes(range(256)) * 600  # 153600 bytes: three segments
BIG_UP = b"\xff\x00" * 35000
SERVER = "127.0.0.1"


def rtsp_exchange(evidence: TestEvidence, client_port: int, server_port: int) -> None:
    wire = evidence.open_connection(
        "rtsp", "tcp", (SERVER, client_port), (SERVER, server_port), "client"
    )
    wire.sent(OPTIONS)
    wire.received(REPLY)
    wire.closed(by_peer=False)


def capture_evidence(directory: Path) -> TestEvidence:
    """One test's worth of flows: every protocol mapping, a UDP flow, a large binary stream,
    the same connection recorded by both ends, and two flows that collide once mapped."""
    evidence = TestEvidence(directory)
    rtsp_exchange(evidence, 51000, 40123)
    udp = evidence.open_connection("rtsp", "udp", (SERVER, 51002), (SERVER, 40124), "client")
    udp.received(RTP)
    udp.sent(b"\x81\xc9\x00\x01" + b"\x00" * 4)
    rtmp = evidence.open_connection("rtmp", "tcp", (SERVER, 51004), (SERVER, 40125), "client")
    rtmp.sent(b"\x03" + bytes(1536))
    rtmp.received(b"\x03" + bytes(3072))
    mms = evidence.open_connection("mmst", "tcp", (SERVER, 51006), (SERVER, 40126), "client")
    mms.sent(bytes.fromhex("01000000cefa0bb0") + bytes(32))
    http = evidence.open_connection("http", "tcp", (SERVER, 51008), (SERVER, 40127), "client")
    http.sent(HTTP_GET)
    http.received(HTTP_OK)
    http.closed(by_peer=True)
    big = evidence.open_connection("pna", "tcp", (SERVER, 51010), (SERVER, 40128), "client")
    big.sent(BIG_UP)
    big.received(BIG_DOWN)
    # The reference server saw the first RTSP connection too: the same flow, from its end.
    server_side = evidence.open_connection(
        "rtsp", "tcp", (SERVER, 40123), (SERVER, 51000), "server"
    )
    server_side.received(OPTIONS)
    server_side.sent(REPLY)
    # Same client port, another ephemeral server: both become 127.0.0.1:554 in the capture.
    rtsp_exchange(evidence, 51000, 40200)
    return evidence


def tshark_fields(pcap: str, *fields: str) -> list[dict[str, str]]:
    require_or_skip(shutil.which("tshark") is not None, "tshark is missing: apt-get install tshark")
    args = ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a"]
    for name in fields:
        args += ["-e", name]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    return [dict(zip(fields, line.split("|"), strict=True)) for line in done.stdout.splitlines()]


def test_transcripts_are_written_readable_and_reloadable(tmp_path: Path) -> None:
    evidence = TestEvidence(tmp_path / "ev")
    rtsp_exchange(evidence, 51000, 40123)
    log = tmp_path / "client.log"
    log.write_text("ffmpeg said hello")
    evidence.extra_files.append(log)
    paths = evidence.write(with_pcap=False)
    ev = tmp_path / "ev"
    assert paths == {
        "transcripts": [str(ev / "transcript.txt"), str(ev / "transcripts.json")],
        "files": [str(log)],
    }
    text = (tmp_path / "ev" / "transcript.txt").read_text()
    assert text.startswith("tcp 127.0.0.1:51000 -> 127.0.0.1:40123 (rtsp)\n")
    assert re.search(rf"^\+0\.\d{{6}}s C->S {len(OPTIONS)} bytes$", text, re.M)
    assert "    OPTIONS rtsp://127.0.0.1:40123/test RTSP/1.0\\r\\n\n" in text
    assert re.search(rf"^\+0\.\d{{6}}s S->C {len(REPLY)} bytes$", text, re.M)
    assert text.rstrip().endswith("closed by client")
    (tcp,) = load_transcripts(tmp_path / "ev" / "transcripts.json")
    assert [f.data for f in tcp.frames] == [OPTIONS, REPLY] and tcp.closed_by == "c2s"


def test_binary_frames_are_hexdumped_with_repeats_folded() -> None:
    t = Transcript("rtmp", "tcp", (SERVER, 1), (SERVER, 2), 0.0)
    ConnectionRecorder(t, "client").sent(b"\x03" + bytes(100) + b"\xff")
    text = render_text(t)
    assert "    00000000  03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................" in text
    assert "\n    *\n" in text and "    00000060  00 00 00 00 00 ff" in text
    silence = Transcript("rtmp", "tcp", (SERVER, 1), (SERVER, 2), 0.0)
    ConnectionRecorder(silence, "client").sent(bytes(64))
    assert render_text(silence).rstrip().endswith("    *\n    00000040")  # where it ends


def test_no_pcap_without_a_frame(tmp_path: Path) -> None:
    evidence = TestEvidence(tmp_path)
    evidence.open_connection("rtsp", "tcp", (SERVER, 1), (SERVER, 2), "client")
    assert set(evidence.write(with_pcap=True)) == {"transcripts"}


def test_server_ports_map_to_what_tshark_dissects() -> None:
    assert shown_port("rtsp", "tcp", 40123) == 554 and shown_port("rtsp", "tcp", 8554) == 8554
    assert shown_port("rtmp", "tcp", 40123) == 1935 and shown_port("mmsh", "tcp", 40123) == 80
    assert shown_port("mmst", "tcp", 40123) == 1755 and shown_port("mmsu", "udp", 40123) == 1755
    assert shown_port("rtsp", "udp", 40124) == 40124  # RTP is not RTSP: no claim made
    assert shown_port("pna", "tcp", 40123) == 7070 and shown_port("http", "tcp", 8080) == 8080


def test_pcapng_is_dissected_by_tshark_without_tcp_analysis_warnings(tmp_path: Path) -> None:
    paths = capture_evidence(tmp_path).write(with_pcap=True)
    (pcap,) = paths["pcap"]
    rows = tshark_fields(
        pcap,
        "tcp.stream",
        "udp.stream",
        "tcp.srcport",
        "tcp.dstport",
        "udp.dstport",
        "frame.protocols",
        "rtsp.request",
        "rtsp.response",
        "http.response.code",
        "tcp.analysis.flags",
        "tcp.payload",
        "udp.payload",
        "frame.comment",
    )
    assert [r for r in rows if r["tcp.analysis.flags"]] == []  # no retransmission, gap, ...
    assert any("OPTIONS rtsp://127.0.0.1:40123/test RTSP/1.0" in r["rtsp.request"] for r in rows)
    assert any("RTSP/1.0 200 OK" in r["rtsp.response"] for r in rows)
    protocols = " ".join(r["frame.protocols"] for r in rows)
    assert ":rtmpt" in protocols and ":msmms" in protocols
    assert any(r["http.response.code"] == "200" for r in rows)
    # RTP over UDP keeps its ports and its bytes
    udp = [r for r in rows if r["udp.stream"]]
    assert [bytes.fromhex(r["udp.payload"]) for r in udp][0] == RTP
    assert {r["udp.dstport"] for r in udp} == {"40124", "51002"}
    # the real ports are in the comments; the duplicate flow is dropped, the colliding one moved
    comments = " ".join(r["frame.comment"] for r in rows)
    assert "server 127.0.0.1:40123; server port shown as 554" in comments
    assert "client port shown as" in comments
    streams = {r["tcp.stream"] for r in rows if r["tcp.stream"]}
    assert len(streams) == 6  # rtsp, rtmp, mmst, http, pna, the moved rtsp
    # a large binary stream, split into segments, reads back byte for byte
    pna = [r for r in rows if "7070" in (r["tcp.srcport"], r["tcp.dstport"])]
    up = b"".join(bytes.fromhex(r["tcp.payload"]) for r in pna if r["tcp.dstport"] == "7070")
    down = b"".join(bytes.fromhex(r["tcp.payload"]) for r in pna if r["tcp.srcport"] == "7070")
    assert up == BIG_UP and down == BIG_DOWN


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    transport=st.sampled_from(["tcp", "udp"]),
    frames=st.lists(
        st.tuples(st.booleans(), st.binary(min_size=1, max_size=70000)), min_size=1, max_size=4
    ),
    closed_by_client=st.none() | st.booleans(),
)
def test_any_payload_survives_the_pcap_byte_for_byte(
    transport: str, frames: list[tuple[bool, bytes]], closed_by_client: bool | None
) -> None:
    from scapy.layers.inet import TCP, UDP
    from scapy.utils import rdpcap

    if transport == "udp":  # a datagram is at most 65507 bytes
        frames = [(o, d[:65000]) for o, d in frames]
    layer = TCP if transport == "tcp" else UDP
    with tempfile.TemporaryDirectory() as directory:
        evidence = TestEvidence(Path(directory))
        wire = evidence.open_connection(
            "rtmp",
            "tcp" if transport == "tcp" else "udp",
            (SERVER, 50000),
            (SERVER, 1935),
            "client",
        )
        for outgoing, data in frames:
            (wire.sent if outgoing else wire.received)(data)
        if closed_by_client is not None:
            wire.closed(by_peer=not closed_by_client)
        path = Path(directory) / "c.pcapng"
        write_pcapng(path, evidence.transcripts)
        packets = rdpcap(str(path))
    sent = b"".join(bytes(p[layer].payload) for p in packets if p[layer].sport == 50000)
    got = b"".join(bytes(p[layer].payload) for p in packets if p[layer].dport == 50000)
    assert sent == b"".join(d for o, d in frames if o)
    assert got == b"".join(d for o, d in frames if not o)
    start = evidence.transcripts[0].started_at - 1e-6  # pcapng keeps microseconds
    assert all(start <= p.time <= start + 60 for p in packets)


@pytest.mark.parametrize("closer", ["c2s", "s2c"])
def test_the_fin_comes_from_the_side_that_closed(closer: str) -> None:
    from scapy.layers.inet import TCP
    from scapy.utils import rdpcap

    with tempfile.TemporaryDirectory() as directory:
        evidence = TestEvidence(Path(directory))
        wire = evidence.open_connection("rtsp", "tcp", (SERVER, 50000), (SERVER, 554), "client")
        wire.sent(OPTIONS)
        wire.closed(by_peer=closer == "s2c")
        path = Path(directory) / "c.pcapng"
        write_pcapng(path, evidence.transcripts)
        packets = [p[TCP] for p in rdpcap(str(path))]
    first_fin = next(p for p in packets if p.flags.F)
    assert (first_fin.sport == 50000) == (closer == "c2s")
    assert [str(p.flags) for p in packets[:3]] == ["S", "SA", "A"]
