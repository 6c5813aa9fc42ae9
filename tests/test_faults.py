"""Every suite can fail: each named fault makes the tests of the requirements it breaks fail.

The suites run as a user runs them (a pytest subprocess), once without faults and once per
fault with --strict, so SHOULD tests must fail under their fault too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.catalogue import load_catalogue
from reference_impl.registry import all_faults

ROOT = Path(__file__).resolve().parent.parent
#: the suites, and the interop cells where the reference client meets the reference server
ONLY_REFERENCES = "(not interop or reference_x_reference)"


def run_suites(
    report_dir: Path, *args: str, paths: tuple[str, ...] = ("suites",)
) -> list[dict[str, object]]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *paths,
            "-q",
            "-p",
            "no:cacheprovider",
            "--strict",
            "--report-dir",
            str(report_dir),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=False,
    )
    lines = (report_dir / "results.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    return run_suites(tmp_path_factory.mktemp("baseline"), "-k", ONLY_REFERENCES)


def test_every_suite_passes_against_the_conformant_references(
    baseline: list[dict[str, object]],
) -> None:
    bad = [(r["nodeid"], r["verdict"], r["message"]) for r in baseline if r["verdict"] != "pass"]
    assert baseline and bad == []


def test_every_tested_requirement_has_a_fault_that_breaks_it(
    baseline: list[dict[str, object]],
) -> None:
    tested = {rid for r in baseline for rid in r["requirements"]}  # type: ignore[attr-defined]
    broken = {rid for _, fault in all_faults().values() for rid in fault.breaks}
    assert sorted(tested - broken) == []


@pytest.mark.parametrize("name", sorted(all_faults()))
def test_the_fault_makes_the_tests_of_its_requirements_fail(
    name: str, tmp_path: Path, baseline: list[dict[str, object]]
) -> None:
    protocol, fault = all_faults()[name]
    catalogue = load_catalogue()
    for rid in fault.breaks:
        assert rid in catalogue
    # Only the tests that check what the fault breaks: one short run per fault.
    checking_ids = sorted(
        {
            str(r["nodeid"])
            for r in baseline
            if set(fault.breaks) & set(r["requirements"])  # type: ignore[arg-type]
        }
    )
    assert checking_ids, f"no test checks {', '.join(fault.breaks)}, which fault {name} breaks"
    records = run_suites(tmp_path, "--fault", name, paths=tuple(checking_ids))
    for rid in fault.breaks:
        checking = [r for r in records if rid in r["requirements"]]  # type: ignore[operator]
        assert checking, f"no test checks {rid}, which fault {name} breaks"
        failed = [r["nodeid"] for r in checking if r["verdict"] == "fail"]
        assert failed, f"fault {name} breaks {rid} but no test of {rid} failed"
