"""Evidence: readable transcripts, and pcapng files that tshark dissects as the right protocol."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.evidence import TestEvidence
from harness.evidence.pcap import write_pcapng
from harness.evidence.transcript import load_transcripts
from tests.helpers import require_or_skip

OPTIONS = b"OPTIONS rtsp://127.0.0.1:40123/test RTSP/1.0\r\nCSeq: 1\r\n\r\n"
REPLY = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, SETUP, PLAY, TEARDOWN\r\n\r\n"


def rtsp_evidence(directory: Path) -> TestEvidence:
    evidence = TestEvidence(directory)
    wire = evidence.open_connection(
        "rtsp", "tcp", ("127.0.0.1", 51000), ("127.0.0.1", 40123), "client"
    )
    wire.sent(OPTIONS)
    wire.received(REPLY)
    wire.closed(by_peer=False)
    udp = evidence.open_connection(
        "rtsp", "udp", ("127.0.0.1", 51002), ("127.0.0.1", 40124), "client"
    )
    udp.received(b"\x80\x60\x00\x01" + b"\x00" * 8 + b"payload")
    return evidence


def tshark(*args: str) -> str:
    require_or_skip(shutil.which("tshark") is not None, "tshark is missing: apt-get install tshark")
    done = subprocess.run(["tshark", *args], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_transcripts_are_written_readable_and_reloadable(tmp_path: Path) -> None:
    paths = rtsp_evidence(tmp_path).write(with_pcap=False)
    text = (tmp_path / "transcript.txt").read_text()
    assert (
        f"C->S {len(OPTIONS)} bytes" in text
        and "OPTIONS rtsp://127.0.0.1:40123/test RTSP/1.0\\r\\n" in text
    )
    assert "pcap" not in paths
    (tcp, udp) = load_transcripts(tmp_path / "transcripts.json")
    assert tcp.frames[0].data == OPTIONS and tcp.frames[1].data == REPLY
    assert udp.transport == "udp"


def test_pcapng_of_an_ephemeral_port_is_dissected_as_rtsp(tmp_path: Path) -> None:
    paths = rtsp_evidence(tmp_path).write(with_pcap=True)
    pcap = paths["pcap"][0]
    fields = tshark(
        "-r", pcap, "-Y", "rtsp", "-T", "fields", "-e", "rtsp.request", "-e", "rtsp.response"
    )
    assert "OPTIONS rtsp://127.0.0.1:40123/test RTSP/1.0" in fields
    assert "RTSP/1.0 200 OK" in fields
    assert tshark("-r", pcap, "-Y", "tcp.analysis.flags").strip() == ""
    assert "udp" in tshark("-r", pcap, "-Y", "udp", "-T", "fields", "-e", "frame.protocols")
    comments = tshark("-r", pcap, "-T", "fields", "-e", "frame.comment")
    assert "server 127.0.0.1:40123 (shown as port 554)" in comments


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.binary(min_size=1, max_size=70000)), min_size=1, max_size=4
    )
)
def test_any_payload_survives_the_pcap_byte_for_byte(frames: list[tuple[bool, bytes]]) -> None:
    import tempfile

    from scapy.layers.inet import TCP
    from scapy.utils import rdpcap

    with tempfile.TemporaryDirectory() as directory:
        evidence = TestEvidence(Path(directory))
        wire = evidence.open_connection(
            "rtmp", "tcp", ("127.0.0.1", 50000), ("127.0.0.1", 50001), "client"
        )
        for outgoing, data in frames:
            (wire.sent if outgoing else wire.received)(data)
        path = Path(directory) / "c.pcapng"
        write_pcapng(path, evidence.transcripts)
        packets = rdpcap(str(path))
    sent = b"".join(bytes(p[TCP].payload) for p in packets if p[TCP].sport == 50000)
    got = b"".join(bytes(p[TCP].payload) for p in packets if p[TCP].dport == 50000)
    assert sent == b"".join(d for o, d in frames if o)
    assert got == b"".join(d for o, d in frames if not o)
