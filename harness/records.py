"""One JSON line per finished test in reports/<run>/results.jsonl: the source of every report.

Appending is xdist-safe: each record is one write() of one line under an exclusive flock, so
records from parallel workers never interleave and an interrupted run keeps what it finished.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_FILE = "results.jsonl"

#: verdict values, strongest first
VERDICTS = ("fail", "error", "unexpected-pass", "warn", "expected", "pass", "info", "skip")


@dataclass
class ViolationRecord:
    """A violation seen during a test: requirement, its level, what happened."""

    requirement: str
    level: str
    detail: str


@dataclass
class TestRecord:
    """The outcome of one test, with everything the report needs."""

    __test__ = False

    run_id: str
    nodeid: str
    name: str
    doc: str  # first line of the test's docstring: the spec sentence it checks
    protocol: str | None  # rtsp rtmp mms pna http, or None for harness tests
    role: str | None  # server, client, interop
    target: str  # "reference", a URL, "peer:NAME", or the client command
    target_kind: str  # reference, server, client, peer
    requirements: list[str]
    # pass: no MUST/SHOULD violation; fail: a MUST violated (or an assertion failed);
    # warn: only SHOULD violated, non-strict; info: only MAY items noted; skip; error (setup);
    # expected: a known deviation from --expect; unexpected-pass: an expected deviation passed.
    verdict: str
    outcome: str  # pytest's: passed failed skipped
    duration: float
    started_at: float
    message: str = ""
    violations: list[ViolationRecord] = field(default_factory=list)
    observed: list[ViolationRecord] = field(default_factory=list)  # not this test's requirements
    evidence: dict[str, list[str]] = field(
        default_factory=dict
    )  # kind -> paths relative to run dir
    interop: dict[str, str] | None = None  # {"protocol", "client", "server"} for matrix cells
    measurements: dict[str, float] = field(default_factory=dict)  # e.g. latency_ms
    worker: str = "main"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> TestRecord:
        data = dict(obj)
        data["violations"] = [ViolationRecord(**v) for v in data.get("violations", [])]
        data["observed"] = [ViolationRecord(**v) for v in data.get("observed", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def append_record(run_dir: Path, record: TestRecord) -> None:
    line = (json.dumps(record.to_json(), ensure_ascii=True) + "\n").encode()
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / RESULTS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_records(run_dir: Path) -> Iterator[TestRecord]:
    """Yield every record; a torn last line (a run killed mid-write) is skipped, not fatal."""
    path = run_dir / RESULTS_FILE
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                yield TestRecord.from_json(json.loads(line))
            except (ValueError, TypeError):
                continue
