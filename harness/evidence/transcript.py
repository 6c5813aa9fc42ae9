"""Wire transcripts: every read and write of a connection, both directions, monotonic times."""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Direction = Literal["c2s", "s2c"]
Address = tuple[str, int]


@dataclass(frozen=True)
class Frame:
    """One read or write: who sent it, when (seconds since the transcript opened), the bytes."""

    direction: Direction
    t: float
    data: bytes


@dataclass
class Transcript:
    """One TCP connection or UDP flow as seen by the harness."""

    protocol: str
    transport: Literal["tcp", "udp"]
    client: Address
    server: Address
    started_at: float  # wall clock (time.time()) when opened, for pcap timestamps
    frames: list[Frame] = field(default_factory=list)
    closed_by: Direction | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "protocol": self.protocol,
            "transport": self.transport,
            "client": list(self.client),
            "server": list(self.server),
            "started_at": self.started_at,
            "closed_by": self.closed_by,
            "frames": [
                {"dir": f.direction, "t": round(f.t, 6), "hex": f.data.hex()} for f in self.frames
            ],
        }

    @classmethod
    def from_json(cls, obj: dict[str, object]) -> Transcript:
        client = obj["client"]
        server = obj["server"]
        assert isinstance(client, list) and isinstance(server, list)
        frames_raw = obj["frames"]
        assert isinstance(frames_raw, list)
        return cls(
            protocol=str(obj["protocol"]),
            transport="udp" if obj["transport"] == "udp" else "tcp",
            client=(str(client[0]), int(client[1])),
            server=(str(server[0]), int(server[1])),
            started_at=float(str(obj["started_at"])),
            closed_by="c2s"
            if obj.get("closed_by") == "c2s"
            else ("s2c" if obj.get("closed_by") == "s2c" else None),
            frames=[
                Frame("c2s" if f["dir"] == "c2s" else "s2c", float(f["t"]), bytes.fromhex(f["hex"]))
                for f in frames_raw
            ],
        )


class ConnectionRecorder:
    """Records one connection. `local_role` says which end the harness is ("client"/"server")."""

    def __init__(self, transcript: Transcript, local_role: Literal["client", "server"]) -> None:
        self.transcript = transcript
        self._outgoing: Direction = "c2s" if local_role == "client" else "s2c"
        self._incoming: Direction = "s2c" if local_role == "client" else "c2s"
        self._t0 = time.monotonic()

    def _add(self, direction: Direction, data: bytes) -> None:
        if data:
            self.transcript.frames.append(
                Frame(direction, time.monotonic() - self._t0, bytes(data))
            )

    def sent(self, data: bytes) -> None:
        self._add(self._outgoing, data)

    def received(self, data: bytes) -> None:
        self._add(self._incoming, data)

    def closed(self, by_peer: bool) -> None:
        if self.transcript.closed_by is None:
            self.transcript.closed_by = self._incoming if by_peer else self._outgoing


class TestEvidence:
    """Everything one test recorded; written under `directory` when the test ends."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.transcripts: list[Transcript] = []
        self.extra_files: list[Path] = []  # peer logs, dump files: linked from the report

    def open_connection(
        self,
        protocol: str,
        transport: Literal["tcp", "udp"],
        local: Address,
        remote: Address,
        local_role: Literal["client", "server"],
    ) -> ConnectionRecorder:
        client, server = (local, remote) if local_role == "client" else (remote, local)
        transcript = Transcript(protocol, transport, client, server, time.time())
        self.transcripts.append(transcript)
        return ConnectionRecorder(transcript, local_role)

    def write(self, with_pcap: bool) -> dict[str, list[str]]:
        """Write transcripts (JSON and readable text) and, if asked, one pcapng; return paths."""
        from harness.evidence.render import write_evidence

        written: dict[str, list[str]] = write_evidence(self, with_pcap)
        return written


_current: contextvars.ContextVar[TestEvidence | None] = contextvars.ContextVar(
    "streamconform_evidence", default=None
)


def current() -> TestEvidence | None:
    """The evidence of the running test, or None outside a test (e.g. the CLI)."""
    return _current.get()


@contextmanager
def using(evidence: TestEvidence) -> Iterator[TestEvidence]:
    token = _current.set(evidence)
    try:
        yield evidence
    finally:
        _current.reset(token)


def load_transcripts(path: Path) -> list[Transcript]:
    """Read back a transcripts JSON file written by `write_evidence`."""
    return [Transcript.from_json(o) for o in json.loads(path.read_text())]
