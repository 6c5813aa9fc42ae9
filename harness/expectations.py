"""Known deviations (--expect FILE): gate on regressions, not on what is already known.

[[deviation]]
target = "peer:mediamtx"          # a target label or URL; fnmatch patterns; "*" for all
requirement = "RTSP-VERSION-505"
test = "test_rtsp2_request_is_answered_505"   # optional: a test name or part of its node id
comment = "MediaMTX answers RTSP/2.0 requests with 400"
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path

from harness.catalogue import Catalogue


class ExpectationError(ValueError):
    """The expectation file is unusable; the message names the file and the entry."""


@dataclass(frozen=True)
class Deviation:
    """One known deviation of one target."""

    target: str
    requirement: str
    test: str
    comment: str

    def matches(
        self, target_label: str, target_url: str, nodeid: str, requirements: set[str]
    ) -> bool:
        target_ok = fnmatch.fnmatchcase(target_label, self.target) or fnmatch.fnmatchcase(
            target_url, self.target
        )
        test_ok = not self.test or self.test in nodeid
        return target_ok and test_ok and self.requirement in requirements


def load_expectations(path: Path, catalogue: Catalogue) -> list[Deviation]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExpectationError(f"--expect {path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationError(f"--expect {path}: not valid TOML ({exc})") from None
    out: list[Deviation] = []
    for index, entry in enumerate(data.get("deviation", [])):
        where = f"--expect {path}: deviation #{index + 1}"
        if not isinstance(entry, dict) or not entry.get("requirement") or not entry.get("comment"):
            raise ExpectationError(f"{where}: needs at least `requirement` and `comment`")
        if entry["requirement"] not in catalogue:
            raise ExpectationError(f"{where}: unknown requirement {entry['requirement']!r}")
        out.append(
            Deviation(
                target=str(entry.get("target", "*")),
                requirement=str(entry["requirement"]),
                test=str(entry.get("test", "")),
                comment=str(entry["comment"]),
            )
        )
    return out
