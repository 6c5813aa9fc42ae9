"""Reports rendered from results.jsonl: index.html, report.json, junit.xml, allure-results/."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.catalogue import LEVELS, Catalogue, load_catalogue
from harness.records import VERDICTS, TestRecord, read_records
from harness.report.allure import write_allure
from harness.report.junit import write_junit
from harness.report.model import build

__all__ = ["ReportPaths", "render_report", "summarize", "update_latest"]


@dataclass(frozen=True)
class ReportPaths:
    """Where a rendering wrote its files."""

    html: Path
    json: Path
    junit: Path
    allure: Path


def _environment() -> Environment:
    # Autoescape everything: messages, details and URLs can come from the target under test.
    return Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=select_autoescape(default=True),
    )


def render_report(run_dir: Path, catalogue: Catalogue | None = None) -> ReportPaths:
    catalogue = catalogue or load_catalogue()
    records = list(read_records(run_dir))
    data = build(run_dir, records, catalogue)
    paths = ReportPaths(
        run_dir / "index.html",
        run_dir / "report.json",
        run_dir / "junit.xml",
        run_dir / "allure-results",
    )
    paths.json.write_text(json.dumps(data, indent=1), encoding="utf-8")
    failures = [t for t in data["tests"] if t["verdict"] in ("fail", "error", "unexpected-pass")]
    html = (
        _environment()
        .get_template("index.html")
        .render(r=data, failures=failures, verdict_order=[v for v in VERDICTS], levels=LEVELS)
    )
    paths.html.write_text(html, encoding="utf-8")
    write_junit(paths.junit, records)
    write_allure(paths.allure, run_dir, records, catalogue)
    return paths


def update_latest(run_dir: Path) -> None:
    """reports/latest -> this run, replaced atomically (a relative link, so the tree can move)."""
    link = run_dir.parent / "latest"
    temporary = run_dir.parent / f".latest-{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(run_dir.name)
    os.replace(temporary, link)


def summarize(records: list[TestRecord]) -> str:
    by_target: dict[tuple[str, str], Counter[str]] = {}
    for r in records:
        by_target.setdefault((r.protocol or "harness", r.target), Counter())[r.verdict] += 1
    lines = ["streamconform summary:"]
    for (protocol, target), counts in sorted(by_target.items()):
        parts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
        lines.append(f"  {protocol:6} {target}: {parts}")
    return "\n".join(lines)
