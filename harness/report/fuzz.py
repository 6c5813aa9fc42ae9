"""Fuzz campaigns stored in a run directory (fuzz/<campaign>/), as report data.

A campaign writes findings.jsonl as it finds (fsynced, one line per new signature), then
rewrites finding-<slug>.json once the case is minimized and its evidence recorded; the report
prefers the latter and falls back to the line, so an interrupted campaign still shows up.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

#: campaign.json keys shown in the report
CAMPAIGN_KEYS = ("target", "protocol", "cases", "seconds", "cases_per_second", "stopped_because")


def _campaign_dirs(run_dir: Path) -> list[Path]:
    if (run_dir / "campaign.json").exists() or (run_dir / "findings.jsonl").exists():
        return [run_dir]  # the run directory is itself a campaign (`streamconform fuzz --out`)
    root = run_dir / "fuzz"
    if not root.is_dir():
        return []
    return sorted(
        d
        for d in root.iterdir()
        if d.is_dir() and ((d / "findings.jsonl").exists() or (d / "campaign.json").exists())
    )


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load_campaigns(run_dir: Path) -> list[dict[str, Any]]:
    """One entry per campaign directory: its name, where it is, and its campaign.json figures."""
    campaigns = []
    for directory in _campaign_dirs(run_dir):
        summary = _read_json(directory / "campaign.json") or {}
        entry: dict[str, Any] = {
            "name": directory.name,
            "directory": str(directory.relative_to(run_dir)),
        }
        entry |= {k: summary.get(k) for k in CAMPAIGN_KEYS}
        entry["findings"] = len(_findings_of(directory, run_dir))
        campaigns.append(entry)
    return campaigns


def load_findings(run_dir: Path) -> list[dict[str, Any]]:
    """Every finding of every campaign in the run, with paths relative to the run directory."""
    return [f for d in _campaign_dirs(run_dir) for f in _findings_of(d, run_dir)]


def _findings_of(directory: Path, run_dir: Path) -> list[dict[str, Any]]:
    path = directory / "findings.jsonl"
    if not path.exists():
        return []
    base = directory.relative_to(run_dir)
    by_signature: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            finding = json.loads(line)
        except ValueError:
            continue  # a torn last line of an interrupted campaign
        if not isinstance(finding, dict):
            continue
        signature = str(finding.get("signature", ""))
        replay = directory / f"finding-{_slug(signature)}.json"
        finding = _read_json(replay) or finding  # minimized, with evidence, when it got there
        finding["campaign"] = directory.name
        finding["replay_file"] = str(base / replay.name) if replay.exists() else None
        evidence = finding.get("evidence")
        finding["evidence"] = {
            str(kind): [str(base / str(p)) for p in paths]
            for kind, paths in (evidence.items() if isinstance(evidence, dict) else [])
            if isinstance(paths, list)
        }
        finding["payload_bytes"] = len(str(finding.get("payload_hex") or "")) // 2
        minimized = finding.get("minimized_hex")
        finding["minimized_bytes"] = len(str(minimized)) // 2 if minimized is not None else None
        by_signature[signature] = finding
    return list(by_signature.values())


def _slug(signature: str) -> str:
    # Same naming as harness.fuzz.findings.Finding.slug, without importing the fuzzer.
    return hashlib.sha1(signature.encode()).hexdigest()[:12]
