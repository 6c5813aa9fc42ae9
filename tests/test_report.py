"""Reports: four renderings of results.jsonl, target strings escaped, coverage counted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.catalogue import load_catalogue
from harness.records import RESULTS_FILE, TestRecord, ViolationRecord, append_record
from harness.report import render_report, update_latest
from tests.helpers import require_or_skip

XSS = "<script>document.title='pwned'</script>"
CATALOGUE = """protocol = "rtsp"
[[requirement]]
id = "RTSP-A-ONE"
source = "RFC 2326 §1"
level = "MUST"
role = "server"
summary = "one"
[[requirement]]
id = "RTSP-A-TWO"
source = "RFC 2326 §2"
level = "MUST"
role = "server"
summary = "two"
[[requirement]]
id = "RTSP-A-THREE"
source = "RFC 2326 §3"
level = "SHOULD"
role = "client"
summary = "three"
"""


def record(name: str, verdict: str, **extra: object) -> TestRecord:
    fields: dict[str, object] = dict(
        run_id="r",
        nodeid=f"suites/rtsp/test_x.py::{name}",
        name=name,
        doc="a sentence",
        protocol="rtsp",
        role="server",
        target="rtsp://127.0.0.1:9/x",
        target_kind="server",
        requirements=["RTSP-A-ONE"],
        verdict=verdict,
        outcome="passed",
        duration=0.01,
        started_at=1.7e9,
    )
    fields.update(extra)
    return TestRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "catalogue").mkdir()
    (tmp_path / "catalogue" / "rtsp.toml").write_text(CATALOGUE)
    run = tmp_path / "reports" / "run1"
    append_record(run, record("test_ok", "pass"))
    append_record(
        run,
        record(
            f"test_bad[{XSS}]",
            "fail",
            message=f"server said {XSS}",
            target=f"rtsp://{XSS}/",
            violations=[ViolationRecord("RTSP-A-ONE", "MUST", f"detail {XSS}")],
        ),
    )
    append_record(
        run,
        record(
            "test_cell",
            "pass",
            role="interop",
            target_kind="interop",
            interop={"protocol": "rtsp", "client": "ffprobe", "server": "gst"},
        ),
    )
    with (run / RESULTS_FILE).open("a") as fh:
        fh.write('{"run_id": "r", "nodeid": "torn')  # a run killed mid-write
    return run


def render(run_dir: Path) -> dict[str, object]:
    catalogue = load_catalogue(run_dir.parent.parent / "catalogue")
    render_report(run_dir, catalogue)
    data: dict[str, object] = json.loads((run_dir / "report.json").read_text())
    return data


def test_all_four_renderings_are_written_and_parse(run_dir: Path) -> None:
    data = render(run_dir)
    assert data["schema"] == "streamconform-report/1"
    assert data["totals"]["tests"] == 3 and data["verdict"] == "fail"  # type: ignore[index]
    suites = ET.parse(run_dir / "junit.xml").getroot()
    assert suites.get("tests") == "3"
    assert len(suites.findall(".//failure")) == 1
    allure = list((run_dir / "allure-results").glob("*-result.json"))
    assert len(allure) == 3
    assert {json.loads(p.read_text())["status"] for p in allure} == {"passed", "failed"}


def test_target_supplied_strings_are_escaped_in_html(run_dir: Path) -> None:
    render(run_dir)
    html = (run_dir / "index.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;document.title=" in html


def test_coverage_counts_musts_without_a_test(run_dir: Path) -> None:
    data = render(run_dir)
    rtsp = data["coverage"]["rtsp"]  # type: ignore[index]
    assert rtsp["MUST"] == {"total": 2, "tested": 1, "untested": ["RTSP-A-TWO"]}
    assert rtsp["SHOULD"] == {"total": 1, "tested": 0, "untested": ["RTSP-A-THREE"]}


def test_interop_cells_form_a_client_by_server_matrix(run_dir: Path) -> None:
    data = render(run_dir)
    matrix = data["interop"]["rtsp"]  # type: ignore[index]
    assert matrix["clients"] == ["ffprobe"] and matrix["servers"] == ["gst"]
    assert matrix["cells"]["ffprobe|gst"]["verdict"] == "pass"


def test_latest_points_to_the_newest_run(run_dir: Path) -> None:
    update_latest(run_dir)
    update_latest(run_dir)  # replacing an existing link works too
    latest = run_dir.parent / "latest"
    assert latest.is_symlink() and latest.resolve() == run_dir.resolve()


def test_the_report_command_says_one_line_for_a_missing_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "report", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "has no results.jsonl" in done.stderr


def test_chromium_renders_the_report_and_runs_no_injected_script(
    run_dir: Path, tmp_path: Path
) -> None:
    chromium = shutil.which("chromium")
    require_or_skip(chromium is not None, "chromium is missing: apt-get install chromium")
    render(run_dir)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = (run_dir / "index.html").resolve().as_uri()
    dom = subprocess.run(
        [str(chromium), *flags, "--dump-dom", url], capture_output=True, text=True, timeout=90
    ).stdout
    assert "<title>streamconform report run1</title>" in dom  # the injected script did not run
    assert "Requirements with tests" in dom and "Coverage of the catalogue" in dom
    shot = tmp_path / "report.png"
    subprocess.run(
        [str(chromium), *flags, f"--screenshot={shot}", "--window-size=1280,1600", url],
        capture_output=True,
        timeout=90,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
