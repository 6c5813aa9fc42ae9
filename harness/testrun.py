"""The steps behind `make run` and `make test`, gathered into one report directory.

`run`: every suite against the embedded references.
`test`: static checks, the project's own tests, every suite against the references, the suites
against each real peer that can be started (with its expectation file), the interop matrix.
Under STREAMCONFORM_REQUIRE_PEERS=1 a peer that cannot start fails the run instead of being
skipped. A step whose pytest collected no test (exit 5) fails: no test is not a pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from harness import PROJECT_ROOT
from harness.session import new_run_dir

EXPECTATIONS = PROJECT_ROOT / "fixtures" / "expectations"


@dataclass
class Step:
    """One command of the run and how it ended."""

    name: str
    status: str  # ok, failed, skipped, blocked (cannot be had on this machine at all)
    seconds: float
    detail: str = ""


_JUNIT_DIR = Path(tempfile.mkdtemp(prefix="streamconform-steps-"))


def _pytest(args: list[str]) -> list[str]:
    junit = _JUNIT_DIR / f"step-{len(list(_JUNIT_DIR.iterdir()))}.xml"
    junit.touch()
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}", *args]


def _test_counts() -> tuple[int, int, int]:
    """passed, failed (failures and errors), skipped over every pytest step of this run."""
    passed = failed = skipped = 0
    for path in _JUNIT_DIR.glob("*.xml"):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        for suite in root.iter("testsuite"):
            tests, fails = int(suite.get("tests", 0)), int(suite.get("failures", 0))
            errors, skips = int(suite.get("errors", 0)), int(suite.get("skipped", 0))
            failed += fails + errors
            skipped += skips
            passed += tests - fails - errors - skips
    return passed, failed, skipped


def _run(name: str, argv: list[str], steps: list[Step], ok_codes: tuple[int, ...] = (0,)) -> bool:
    print(f"\n=== {name}", flush=True)
    started = time.monotonic()
    code = subprocess.call(argv, cwd=PROJECT_ROOT)
    seconds = time.monotonic() - started
    if code in ok_codes:
        steps.append(Step(name, "ok", seconds))
        return True
    detail = "no test ran (pytest exit 5)" if code == 5 else f"exit code {code}"
    steps.append(Step(name, "failed", seconds, detail))
    return False


def _peer_problem(name: str) -> tuple[str | None, bool]:
    """Why the peer cannot start here (None when it can), and whether it is blocked outright."""
    from harness.peers import availability, get_spec

    blocked = get_spec(name).blocked()
    if blocked:
        return blocked, True
    return availability(name), False


def _suites(report_dir: Path, extra: list[str]) -> list[str]:
    return ["suites", "--ignore=suites/interop", "-q", "--report-dir", str(report_dir), *extra]


def run(extra: list[str]) -> int:
    report_dir = new_run_dir(PROJECT_ROOT / "reports")
    steps: list[Step] = []
    _run(
        "every suite against the reference implementations",
        _pytest(_suites(report_dir, extra)),
        steps,
    )
    return _finish(report_dir, steps)


def test(extra: list[str]) -> int:
    require = os.environ.get("STREAMCONFORM_REQUIRE_PEERS") == "1"
    report_dir = new_run_dir(PROJECT_ROOT / "reports")
    steps: list[Step] = []
    bin_dir = Path(sys.executable).parent
    code = ["harness", "reference_impl", "suites", "tests", "bench"]
    _run("ruff check", [str(bin_dir / "ruff"), "check", *code], steps)
    _run("ruff format", [str(bin_dir / "ruff"), "format", "--check", *code], steps)
    _run("mypy", [str(bin_dir / "mypy")], steps)
    _run("project tests", _pytest(["tests", "-q", "-n", "auto", *extra]), steps)
    _run("suites x references", _pytest(_suites(report_dir, extra)), steps)
    from harness.peers.registry import client_runs, server_runs

    for peer, protocol in ((r.peer, r.protocol) for r in server_runs()):
        name = f"{protocol} suites x {peer}"
        problem, blocked = _peer_problem(peer)
        if problem is not None:
            status = "blocked" if blocked else ("failed" if require else "skipped")
            print(f"\n=== {name}: {status}: {problem}", flush=True)
            steps.append(Step(name, status, 0.0, problem))
            continue
        expect = EXPECTATIONS / f"{peer}.toml"
        args = _suites(report_dir, [*extra, "-k", protocol, "--peer", peer])
        if expect.exists():
            args += ["--expect", str(expect)]
        _run(name, _pytest(args), steps)
    for client in client_runs():
        name, command, protocol = client.name, client.command, client.protocol
        step = f"{protocol} client suites x {name}"
        if shutil.which(command.split()[0]) is None:
            problem = f"{command.split()[0]} is not installed ({client.install})"
            status = "failed" if require else "skipped"
            print(f"\n=== {step}: {status}: {problem}", flush=True)
            steps.append(Step(step, status, 0.0, problem))
            continue
        args = _suites(report_dir, [*extra, "-k", protocol, "--target-client", command])
        if (EXPECTATIONS / f"{name}.toml").exists():
            args += ["--expect", str(EXPECTATIONS / f"{name}.toml")]
        _run(step, _pytest(args), steps)
    interop = ["suites/interop", "-q", "--report-dir", str(report_dir), *extra]
    if (EXPECTATIONS / "interop.toml").exists():
        interop += ["--expect", str(EXPECTATIONS / "interop.toml")]
    _run("interop matrix", _pytest(interop), steps)
    return _finish(report_dir, steps)


def _finish(report_dir: Path, steps: list[Step]) -> int:
    from harness.records import read_records
    from harness.report import render_report, summarize, update_latest

    print("\n=== summary", flush=True)
    if (report_dir / "results.jsonl").exists():
        paths = render_report(report_dir)
        update_latest(report_dir)
        print(summarize(list(read_records(report_dir))))
        print(f"report: {paths.html}")
    for step in steps:
        detail = f" ({step.detail})" if step.detail else ""
        print(f"  {step.status:8} {step.seconds:6.1f}s  {step.name}{detail}")
    failed = [s for s in steps if s.status == "failed"]
    passed_tests, failed_tests, skipped_tests = _test_counts()
    # One plain closing line over every step, for whoever reads only the end of the log.
    print(f"{passed_tests} passed, {failed_tests} failed, {skipped_tests} skipped")
    return 1 if failed or not steps or passed_tests == 0 else 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print("usage: python -m harness.testrun run|test [pytest args]", file=sys.stderr)
        return 2
    return run(argv[1:]) if argv[0] == "run" else test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
