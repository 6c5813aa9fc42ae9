"""`streamconform report [RUN_DIR]`: render the reports of a run again from results.jsonl."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness import PROJECT_ROOT


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "report", help="render index.html, report.json, junit.xml, allure-results/"
    )
    parser.add_argument(
        "run_dir",
        nargs="?",
        type=Path,
        default=PROJECT_ROOT / "reports" / "latest",
        metavar="RUN_DIR",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from harness.errors import CliError
    from harness.records import RESULTS_FILE, read_records
    from harness.report import render_report, summarize

    run_dir: Path = args.run_dir
    if not (run_dir / RESULTS_FILE).exists():
        raise CliError(
            f"{run_dir} has no {RESULTS_FILE}; give a run directory such as reports/<run>"
        )
    records = list(read_records(run_dir))
    if not records:
        raise CliError(f"{run_dir / RESULTS_FILE} holds no complete record; nothing to render")
    paths = render_report(run_dir.resolve())
    print(summarize(records))
    for path in (paths.html, paths.json, paths.junit, paths.allure):
        print(f"wrote {path}")
    return 0
