"""`streamconform report [RUN_DIR]`: render the reports of a run again from results.jsonl."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness import PROJECT_ROOT


def add_parser(sub: Any) -> None:
    """Add the `report` subcommand to the `streamconform` parser."""
    parser = sub.add_parser(
        "report",
        help="render index.html, report.json, junit.xml, allure-results/ of a run",
        description="Render the reports of a run directory from its results.jsonl.",
    )
    parser.add_argument(
        "run_dir",
        nargs="?",
        type=Path,
        default=PROJECT_ROOT / "reports" / "latest",
        metavar="RUN_DIR",
        help="a run directory, reports/<run> (default: reports/latest)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from harness.catalogue import CatalogueError
    from harness.errors import CliError
    from harness.records import RESULTS_FILE, read_records
    from harness.report import render_report, summarize

    run_dir: Path = args.run_dir
    if not run_dir.is_dir():
        raise CliError(f"{run_dir} is not a run directory; give one such as reports/<run>")
    if not (run_dir / RESULTS_FILE).is_file():
        raise CliError(
            f"{run_dir} has no {RESULTS_FILE}; give a run directory such as reports/<run>"
        )
    records = list(read_records(run_dir))
    if not records:
        raise CliError(f"{run_dir / RESULTS_FILE} holds no complete record; nothing to render")
    try:
        paths = render_report(run_dir.resolve())
    except CatalogueError as exc:
        raise CliError(f"the requirement catalogue is invalid: {exc}") from None
    except OSError as exc:
        raise CliError(f"cannot write the reports in {run_dir}: {exc}") from None
    print(summarize(records, paths.html))
    for path in (paths.json, paths.junit, paths.allure):
        print(f"  wrote {path}")
    return 0
