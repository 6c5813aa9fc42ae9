"""The requirement catalogue: fixtures/requirements/<proto>.toml, loaded and validated once.

Each file:

    protocol = "rtsp"
    [[requirement]]
    id = "RTSP-CSEQ-ECHO"          # unique across all files
    source = "RFC 2326 §12.17"     # where the rule comes from
    level = "MUST"                 # MUST, SHOULD or MAY
    role = "server"                # server, client or both
    summary = "..."                # our own words
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness import FIXTURES
from reference_impl.registry import PROTOCOLS

LEVELS = ("MUST", "SHOULD", "MAY")
ROLES = ("server", "client", "both")
_ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")


class CatalogueError(ValueError):
    """The catalogue itself is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Requirement:
    """One testable rule: who must do what, how strongly, and where it is written."""

    id: str
    protocol: str
    source: str
    level: str
    role: str
    summary: str
    file: str


@dataclass(frozen=True)
class Catalogue:
    """All requirements, by ID."""

    requirements: dict[str, Requirement]

    def __getitem__(self, requirement_id: str) -> Requirement:
        return self.requirements[requirement_id]

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements

    def for_protocol(self, protocol: str) -> list[Requirement]:
        return [r for r in self.requirements.values() if r.protocol == protocol]


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Load and validate every <proto>.toml under `directory` (default fixtures/requirements)."""
    return _load(str(directory or FIXTURES / "requirements"))


@cache
def _load(directory: str) -> Catalogue:
    found: dict[str, Requirement] = {}
    root = Path(directory)
    files = sorted(root.glob("*.toml"))
    if not files:
        raise CatalogueError(f"no requirement files in {root}; expected <protocol>.toml files")
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{path}: not valid TOML: {exc}") from None
        protocol = data.get("protocol")
        if protocol not in PROTOCOLS or protocol != path.stem:
            raise CatalogueError(
                f'{path}: `protocol = "{path.stem}"` expected (one of {", ".join(PROTOCOLS)})'
            )
        for index, entry in enumerate(data.get("requirement", [])):
            req = _validate(path, index, protocol, entry)
            if req.id in found:
                raise CatalogueError(
                    f"{path}: requirement {req.id} is already defined in {found[req.id].file}"
                )
            found[req.id] = req
    return Catalogue(found)


def _validate(path: Path, index: int, protocol: str, entry: object) -> Requirement:
    where = f"{path}: requirement #{index + 1}"
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: must be a table")
    missing = [k for k in ("id", "source", "level", "role", "summary") if not entry.get(k)]
    if missing:
        raise CatalogueError(f"{where} ({entry.get('id', '?')}): missing {', '.join(missing)}")
    rid = str(entry["id"])
    if not _ID_RE.match(rid) or not rid.startswith(protocol.upper() + "-"):
        raise CatalogueError(f"{where}: id {rid!r} must look like {protocol.upper()}-WORD-WORD")
    if entry["level"] not in LEVELS:
        raise CatalogueError(f"{where} ({rid}): level must be one of {', '.join(LEVELS)}")
    if entry["role"] not in ROLES:
        raise CatalogueError(f"{where} ({rid}): role must be one of {', '.join(ROLES)}")
    return Requirement(
        id=rid,
        protocol=protocol,
        source=str(entry["source"]),
        level=str(entry["level"]),
        role=str(entry["role"]),
        summary=str(entry["summary"]),
        file=str(path),
    )
