"""Reports rendered from results.jsonl: index.html, report.json, junit.xml, allure-results/.

Rendering is a pure function of the run directory (and the catalogue), so `streamconform report`
can re-render any run, including one that was interrupted.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.catalogue import Catalogue, load_catalogue
from harness.records import VERDICTS, TestRecord, read_records

__all__ = ["ReportPaths", "render_report", "summarize", "update_latest"]


@dataclass(frozen=True)
class ReportPaths:
    """Where a rendering wrote its files."""

    html: Path
    json: Path
    junit: Path
    allure: Path


def render_report(run_dir: Path, catalogue: Catalogue | None = None) -> ReportPaths:
    """Render the four reports of `run_dir` from its results.jsonl (a torn last line is skipped).

    `catalogue` defaults to fixtures/requirements; tests pass a small one.
    """
    from harness.report.allure import write_allure
    from harness.report.html import render_html
    from harness.report.junit import write_junit
    from harness.report.model import build, clean

    catalogue = catalogue if catalogue is not None else load_catalogue()
    records = [TestRecord.from_json(clean(r.to_json())) for r in read_records(run_dir)]
    data = build(run_dir, records, catalogue)
    paths = ReportPaths(
        html=run_dir / "index.html",
        json=run_dir / "report.json",
        junit=run_dir / "junit.xml",
        allure=run_dir / "allure-results",
    )
    _write_atomically(paths.json, json.dumps(data, indent=1, ensure_ascii=False))
    render_html(paths.html, data)
    write_junit(paths.junit, records)
    write_allure(paths.allure, run_dir, records, catalogue)
    return paths


def _write_atomically(path: Path, text: str) -> None:
    # A CI job may read report.json while a second `report` runs: never show it half written.
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def update_latest(run_dir: Path) -> Path:
    """Point <reports>/latest at `run_dir`: a relative link (the tree can move), replaced
    atomically (a reader never finds it missing). Returns the link."""
    link = run_dir.parent / "latest"
    if link.exists() and not link.is_symlink():
        raise FileExistsError(f"{link} exists and is not a symlink; not replacing it")
    temporary = run_dir.parent / f".latest-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(run_dir.name)
    os.replace(temporary, link)
    return link


def summarize(records: Iterable[TestRecord], html: Path | None = None) -> str:
    """A few lines for the terminal: counts per protocol and target, and where the page is."""
    by_target: dict[tuple[str, str], Counter[str]] = {}
    for r in records:
        by_target.setdefault((r.protocol or "harness", r.target), Counter())[r.verdict] += 1
    lines = ["streamconform summary:"]
    for (protocol, target), counts in sorted(by_target.items()):
        parts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
        lines.append(f"  {protocol:7} {target}: {parts}")
    if not by_target:
        lines.append("  no test recorded")
    if html is not None:
        lines.append(f"  report: {html}")
    return "\n".join(lines)
