"""Findings on disk: written and fsynced before the next case, one replay file per signature."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = "streamconform-finding/1"
KNOWN_METHODS = {
    m.encode()
    for m in "OPTIONS DESCRIBE SETUP PLAY PAUSE TEARDOWN GET_PARAMETER SET_PARAMETER ANNOUNCE "
    "RECORD REDIRECT".split()
}


@dataclass
class Finding:
    """A case that made an oracle fire, with what is needed to replay it."""

    protocol: str
    target: str
    state: str
    oracle: str
    detail: str
    requirement: str | None
    seed: int
    case_index: int
    payload_hex: str
    minimized_hex: str | None = None
    found_at: float = 0.0
    evidence: dict[str, list[str]] = field(default_factory=dict)

    @property
    def signature(self) -> str:
        """Same oracle, requirement and method: the same bug, for deduplication."""
        return f"{self.protocol}:{self.oracle}:{self.requirement or '-'}:{self.method}"

    @property
    def method(self) -> str:
        token = bytes.fromhex(self.payload_hex).split(b" ", 1)[0]
        return token.decode() if token in KNOWN_METHODS else "other"

    @property
    def slug(self) -> str:
        return hashlib.sha1(self.signature.encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "signature": self.signature, **asdict(self)}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Finding:
        if obj.get("schema") != SCHEMA:
            raise ValueError(f"not a streamconform finding (schema {obj.get('schema')!r})")
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in obj.items() if k in known})


def _write_synced(path: Path, data: bytes, append: bool = False) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class FindingStore:
    """reports/fuzz/<campaign>/: findings.jsonl, finding-<slug>.json, campaign.json."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.signatures: dict[str, Finding] = {}

    def add(self, finding: Finding) -> bool:
        """Store a finding durably; False if its signature was already found."""
        if finding.signature in self.signatures:
            return False
        self.signatures[finding.signature] = finding
        self.save(finding)
        line = json.dumps(finding.to_json()) + "\n"
        _write_synced(self.directory / "findings.jsonl", line.encode(), append=True)
        return True

    def save(self, finding: Finding) -> Path:
        """(Re)write the replay file, e.g. once the case is minimized."""
        path = self.replay_path(finding)
        _write_synced(path, json.dumps(finding.to_json(), indent=2).encode())
        return path

    def replay_path(self, finding: Finding) -> Path:
        return self.directory / f"finding-{finding.slug}.json"

    def write_summary(self, summary: dict[str, Any]) -> None:
        _write_synced(self.directory / "campaign.json", json.dumps(summary, indent=2).encode())


def load_finding(path: Path) -> Finding:
    return Finding.from_json(json.loads(path.read_text(encoding="utf-8")))
