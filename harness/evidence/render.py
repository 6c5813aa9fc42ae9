"""Writing a test's evidence: transcripts as JSON and as readable text, pcapng on request."""

from __future__ import annotations

import json
from pathlib import Path

from harness.evidence.transcript import TestEvidence, Transcript

MAX_SHOWN = 4096  # bytes of one frame shown in transcript.txt; the JSON keeps everything
ARROWS = {"c2s": "C->S", "s2c": "S->C"}


def write_evidence(evidence: TestEvidence, with_pcap: bool) -> dict[str, list[str]]:
    """Write `evidence` under its directory; return kind -> paths (under evidence.directory,
    so absolute when it is: callers such as the fuzz store make them relative to their base).

    Kinds: "transcripts" (transcript.txt, transcripts.json), "pcap" (capture.pcapng, only with
    `with_pcap` and at least one frame), "files" (the test's extra files that exist). A kind
    with nothing written is left out.
    """
    directory = evidence.directory
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[str]] = {}
    if evidence.transcripts:
        as_json = directory / "transcripts.json"
        as_json.write_text(
            json.dumps([t.to_json() for t in evidence.transcripts]), encoding="utf-8"
        )
        as_text = directory / "transcript.txt"
        as_text.write_text(
            "\n".join(render_text(t) for t in evidence.transcripts), encoding="utf-8"
        )
        written["transcripts"] = [str(as_text), str(as_json)]
        if with_pcap and any(t.frames for t in evidence.transcripts):
            from harness.evidence.pcap import write_pcapng

            pcap = directory / "capture.pcapng"
            write_pcapng(pcap, evidence.transcripts)
            written["pcap"] = [str(pcap)]
    files = [str(p) for p in evidence.extra_files if Path(p).exists()]
    if files:
        written["files"] = files
    return written


def render_text(transcript: Transcript) -> str:
    """One connection for a reader: a header line, then each frame with its time and bytes."""
    client = f"{transcript.client[0]}:{transcript.client[1]}"
    server = f"{transcript.server[0]}:{transcript.server[1]}"
    lines = [f"{transcript.transport} {client} -> {server} ({transcript.protocol})"]
    for frame in transcript.frames:
        lines.append(f"+{frame.t:.6f}s {ARROWS[frame.direction]} {len(frame.data)} bytes")
        shown = frame.data[:MAX_SHOWN]
        lines.extend(
            "    " + line for line in (_as_text(shown) if _printable(shown) else _hexdump(shown))
        )
        if len(frame.data) > MAX_SHOWN:
            lines.append(f"    ... {len(frame.data) - MAX_SHOWN} more bytes (see transcripts.json)")
    if transcript.closed_by:
        lines.append(f"closed by {'client' if transcript.closed_by == 'c2s' else 'server'}")
    return "\n".join(lines) + "\n"


def _printable(data: bytes) -> bool:
    text_bytes = sum(1 for b in data if 32 <= b < 127 or b in (9, 10, 13))
    return not data or text_bytes / len(data) > 0.95


def _as_text(data: bytes) -> list[str]:
    # Line ends stay visible (\r\n), so a bare LF or a missing CR is evidence a reader can see.
    out, line = [], ""
    for byte in data:
        if byte == 10:
            out.append(line + "\\n")
            line = ""
        elif byte == 13:
            line += "\\r"
        elif byte == 9:
            line += "\\t"
        elif byte == 92:  # a literal backslash, so that "\\r" above stays unambiguous
            line += "\\\\"
        elif 32 <= byte < 127:
            line += chr(byte)
        else:
            line += f"\\x{byte:02x}"
    if line:
        out.append(line)
    return out


def _hexdump(data: bytes) -> list[str]:
    # Repeated rows collapse to "*" as in hexdump(1): padding and silence stay readable.
    rows: list[str] = []
    previous = b""
    for offset in range(0, len(data), 16):
        chunk = data[offset : offset + 16]
        if chunk == previous and len(chunk) == 16:
            if rows[-1] != "*":
                rows.append("*")
            continue
        previous = chunk
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        rows.append(f"{offset:08x}  {hexes:<47}  {text}")
    if rows and rows[-1] == "*":
        rows.append(f"{len(data):08x}")
    return rows
