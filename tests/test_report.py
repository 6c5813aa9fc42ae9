"""Reports: four renderings of results.jsonl, target strings escaped, coverage counted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.browser import FLAGS
from harness.catalogue import Catalogue, load_catalogue
from harness.cli import main
from harness.fuzz.findings import Finding
from harness.records import RESULTS_FILE, TestRecord, ViolationRecord, append_record, read_records
from harness.report import render_report, summarize, update_latest
from tests.helpers import require_or_skip

# What a hostile target could put in a reason phrase, a header, a URL or a test parameter.
XSS = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
CATALOGUE = {
    "rtsp": """protocol = "rtsp"
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
[[requirement]]
id = "RTSP-A-FOUR"
source = "RFC 2326 §4"
level = "MAY"
role = "both"
summary = "four"
""",
    "rtmp": """protocol = "rtmp"
[[requirement]]
id = "RTMP-B-ONE"
source = "RTMP 1.0 §5"
level = "MUST"
role = "both"
summary = "c0 version"
""",
}
#: the keys report.json promises (SCHEMA.md)
SCHEMA_KEYS = {
    "schema", "run_id", "generated_at", "verdict", "totals", "targets", "protocols", "tests",
    "requirements", "coverage", "interop", "peer_logs", "files", "fuzz", "fuzz_campaigns",
}  # fmt: skip


def record(name: str, verdict: str, **extra: Any) -> TestRecord:
    fields: dict[str, Any] = dict(
        run_id="run1",
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
    return TestRecord(**fields)


def evidence_files(run: Path, name: str) -> dict[str, list[str]]:
    """Evidence as the plugin records it: paths relative to the run directory."""
    directory = run / "evidence" / name
    directory.mkdir(parents=True)
    (directory / "transcript.txt").write_text("tcp 127.0.0.1:1 -> 127.0.0.1:2 (rtsp)\n")
    (directory / "capture.pcapng").write_bytes(b"\x0a\x0d\x0d\x0a")
    return {
        "transcripts": [f"evidence/{name}/transcript.txt"],
        "pcap": [f"evidence/{name}/capture.pcapng"],
    }


def fuzz_campaign(run: Path) -> Finding:
    directory = run / "fuzz" / "c1"
    directory.mkdir(parents=True)
    finding = Finding(
        protocol="rtsp",
        target=f"rtsp://{XSS}/",
        state="Ready",
        oracle="no-answer",
        detail=f"target went silent {XSS}",
        requirement="RTSP-A-TWO",
        seed=7,
        case_index=42,
        payload_hex=b"OPTIONS * RTSP/1.0\r\n\r\n".hex(),
        minimized_hex=b"OPTIONS".hex(),
        evidence={"transcripts": ["evidence/x/transcript.txt"]},
    )
    line = json.dumps(finding.to_json() | {"minimized_hex": None, "evidence": {}})
    (directory / "findings.jsonl").write_text(line + "\n" + '{"torn')
    (directory / f"finding-{finding.slug}.json").write_text(json.dumps(finding.to_json()))
    (directory / "campaign.json").write_text(json.dumps({"target": "rtsp://x/", "cases": 1000}))
    return finding


@pytest.fixture
def catalogue(tmp_path: Path) -> Catalogue:
    directory = tmp_path / "catalogue"
    directory.mkdir()
    for protocol, text in CATALOGUE.items():
        (directory / f"{protocol}.toml").write_text(text)
    return load_catalogue(directory)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "reports" / "run1"
    run.mkdir(parents=True)
    records = [
        record("test_ok", "pass", evidence=evidence_files(run, "ok")),
        record(
            f"test_bad[{XSS}]",
            "fail",
            message=f"server said {XSS}\x00\x1b[31m",
            target=f"rtsp://{XSS}/",
            violations=[ViolationRecord("RTSP-A-ONE", "MUST", f"detail {XSS}")],
            evidence=evidence_files(run, "bad") | {"files": ["javascript:alert(1)"]},
        ),
        record(
            "test_should",
            "warn",
            requirements=["RTSP-A-THREE"],
            violations=[ViolationRecord("RTSP-A-THREE", "SHOULD", "no CSeq increase")],
        ),
        record("test_known", "expected", message="known deviation: 400 instead of 501"),
        record("test_skipped", "skip", message="no UDP"),
        record("test_broken", "error", message="connection refused"),
        record("test_rtmp", "pass", protocol="rtmp", requirements=["RTMP-B-ONE"]),
        record(
            "test_cell[ffprobe-gst]",
            "pass",
            role="interop",
            target_kind="interop",
            target="ffprobe -> gst",
            interop={"protocol": "rtsp", "client": "ffprobe", "server": "gst"},
            evidence={"peer_logs": ["peers/gst.log"]},
        ),
        record(
            "test_cell[vlc-gst]",
            "fail",
            role="interop",
            target_kind="interop",
            message="no frame decoded",
            target="vlc -> gst",
            interop={"protocol": "rtsp", "client": "vlc", "server": "gst"},
        ),
    ]
    for r in records:
        append_record(run, r)
    with (run / RESULTS_FILE).open("a") as fh:
        fh.write('{"run_id": "run1", "nodeid": "torn')  # a run killed mid-write
    fuzz_campaign(run)
    return run


def render(run_dir: Path, catalogue: Catalogue) -> dict[str, Any]:
    render_report(run_dir, catalogue)
    data: dict[str, Any] = json.loads((run_dir / "report.json").read_text())
    return data


def test_report_json_follows_the_schema_and_skips_the_torn_line(
    run_dir: Path, catalogue: Catalogue
) -> None:
    data = render(run_dir, catalogue)
    assert set(data) == SCHEMA_KEYS and data["schema"] == "streamconform-report/1"
    assert data["run_id"] == "run1" and data["verdict"] == "fail"
    assert data["totals"]["tests"] == 9  # the torn tenth line is not a record
    assert data["totals"]["fail"] == 2 and data["totals"]["warn"] == 1
    assert data["protocols"]["rtsp"]["rtsp://127.0.0.1:9/x"]["pass"] == 1
    assert data["protocols"]["rtmp"] == {"rtsp://127.0.0.1:9/x": {"pass": 1}}
    one = next(q for q in data["requirements"] if q["id"] == "RTSP-A-ONE")
    assert one["level"] == "MUST" and one["verdicts"]["rtsp://127.0.0.1:9/x"] == "error"
    assert one["verdicts"][f"rtsp://{XSS}/"] == "fail"
    assert data["peer_logs"] == ["peers/gst.log"]


def test_coverage_counts_requirements_with_a_test_per_level(
    run_dir: Path, catalogue: Catalogue
) -> None:
    coverage = render(run_dir, catalogue)["coverage"]
    assert list(coverage) == ["rtsp", "rtmp"]  # protocols without a catalogue are left out
    assert coverage["rtsp"]["MUST"] == {"total": 2, "tested": 1, "untested": ["RTSP-A-TWO"]}
    assert coverage["rtsp"]["SHOULD"] == {"total": 1, "tested": 1, "untested": []}
    assert coverage["rtsp"]["MAY"] == {"total": 1, "tested": 0, "untested": ["RTSP-A-FOUR"]}
    assert coverage["rtmp"]["MUST"] == {"total": 1, "tested": 1, "untested": []}
    html = (run_dir / "index.html").read_text()
    assert 'href="#RTSP-A-TWO">RTSP-A-TWO</a>' in html  # listed as an untested MUST


def test_interop_cells_form_a_client_by_server_matrix(run_dir: Path, catalogue: Catalogue) -> None:
    matrix = render(run_dir, catalogue)["interop"]["rtsp"]
    assert matrix["clients"] == ["ffprobe", "vlc"] and matrix["servers"] == ["gst"]
    assert matrix["cells"]["ffprobe|gst"]["verdict"] == "pass"
    assert matrix["cells"]["vlc|gst"] == {
        "verdict": "fail",
        "message": "no frame decoded",
        "nodeid": "suites/rtsp/test_x.py::test_cell[vlc-gst]",
        "evidence": [],
    }


def test_fuzz_findings_prefer_the_minimized_replay_file(
    run_dir: Path, catalogue: Catalogue
) -> None:
    data = render(run_dir, catalogue)
    (finding,) = data["fuzz"]
    assert finding["minimized_bytes"] == len(b"OPTIONS") and finding["campaign"] == "c1"
    assert finding["replay_file"].startswith("fuzz/c1/finding-")
    assert (run_dir / finding["replay_file"]).exists()
    assert finding["evidence"] == {"transcripts": ["fuzz/c1/evidence/x/transcript.txt"]}
    assert data["fuzz_campaigns"][0]["cases"] == 1000
    assert data["fuzz_campaigns"][0]["findings"] == 1


def test_target_supplied_strings_are_escaped_in_html(run_dir: Path, catalogue: Catalogue) -> None:
    render(run_dir, catalogue)
    html = (run_dir / "index.html").read_text()
    assert "<script" not in html and "<img" not in html  # the page itself has neither
    escaped = "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"
    assert f"server said {escaped}" in html  # message
    assert f"detail {escaped}" in html  # violation detail
    assert f"rtsp://{escaped}" in html  # target URL
    assert f"test_bad[{escaped}" in html  # test id
    assert f"target went silent {escaped}" in html  # fuzz finding
    assert 'href="javascript:' not in html


def test_junit_parses_with_failures_properties_and_evidence(
    run_dir: Path, catalogue: Catalogue
) -> None:
    render(run_dir, catalogue)
    root = ET.parse(run_dir / "junit.xml").getroot()  # the \x00 of a message did not break it
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("9", "2", "1")
    assert {s.get("name") for s in root} == {
        "rtmp @ rtsp://127.0.0.1:9/x",
        "rtsp @ rtsp://127.0.0.1:9/x",
        f"rtsp @ rtsp://{XSS}/",
        "rtsp @ ffprobe -> gst",
        "rtsp @ vlc -> gst",
    }
    cases = {c.get("name"): c for c in root.iter("testcase")}
    bad = cases[f"test_bad[{XSS}]"]
    failure = bad.find("failure")
    assert failure is not None and "\\x00" in str(failure.get("message"))
    assert "detail <script>" in str(failure.text)
    assert "evidence/bad/capture.pcapng" in str(bad.findtext("system-out"))

    def props(name: str) -> dict[str, str]:
        return {str(p.get("name")): str(p.get("value")) for p in cases[name].iter("property")}

    assert props("test_ok")["requirement"] == "RTSP-A-ONE"
    assert props("test_known")["expected-deviation"].startswith("known deviation")
    assert props("test_should")["should-violated"] == "RTSP-A-THREE"
    assert (
        cases["test_known"].find("failure") is None and cases["test_should"].find("failure") is None
    )
    assert cases["test_skipped"].find("skipped") is not None
    assert cases["test_broken"].find("error") is not None


def test_allure_results_have_labels_statuses_and_attachments(
    run_dir: Path, catalogue: Catalogue
) -> None:
    render(run_dir, catalogue)
    allure = run_dir / "allure-results"
    results = [json.loads(p.read_text()) for p in allure.glob("*-result.json")]
    assert len(results) == 9
    by_name = {r["name"]: r for r in results}
    assert by_name["test_ok"]["status"] == "passed" and by_name["test_known"]["status"] == "passed"
    assert by_name["test_broken"]["status"] == "broken"
    assert by_name["test_skipped"]["status"] == "skipped"
    bad = by_name[f"test_bad[{XSS}]"]
    assert bad["status"] == "failed" and "RTSP-A-ONE (MUST)" in bad["statusDetails"]["trace"]
    labels = {(lb["name"], lb["value"]) for lb in bad["labels"]}
    assert {("suite", "rtsp"), ("tag", "RTSP-A-ONE"), ("severity", "critical")} <= labels
    assert ("severity", "normal") in {
        (lb["name"], lb["value"]) for lb in by_name["test_should"]["labels"]
    }
    attached = {a["name"]: a for a in by_name["test_ok"]["attachments"]}
    assert set(attached) == {"transcript.txt", "capture.pcapng"}
    assert (allure / attached["capture.pcapng"]["source"]).read_bytes() == b"\x0a\x0d\x0d\x0a"
    assert attached["transcript.txt"]["type"] == "text/plain"


def test_lone_surrogates_and_an_empty_run_still_render(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    run = tmp_path / "run"
    append_record(run, record("test_s", "fail", message="bytes \udc80\udcff from the target"))
    data = render(run, catalogue)
    assert "\\udc80" in data["tests"][0]["message"]
    assert "No campaign in this run." in (run / "index.html").read_text()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert render(empty, catalogue)["verdict"] == "empty"


def test_latest_points_to_the_newest_run_by_a_relative_link(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    update_latest(first)
    link = update_latest(second)  # replacing an existing link
    assert link.is_symlink() and os.readlink(link) == "b" and link.resolve() == second.resolve()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".latest")] == []


def test_summary_counts_per_protocol_and_target(run_dir: Path) -> None:
    text = summarize(read_records(run_dir), run_dir / "index.html")
    assert "rtsp    rtsp://127.0.0.1:9/x: 1 error, 1 warn, 1 expected, 1 pass, 1 skip" in text
    assert "rtmp    rtsp://127.0.0.1:9/x: 1 pass" in text
    assert text.endswith(f"report: {run_dir / 'index.html'}")


def test_the_report_command_renders_and_prints_the_summary(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(run_dir)]) == 0  # with the project's own catalogue
    out = capsys.readouterr().out
    assert "streamconform summary:" in out and "index.html" in out and "junit.xml" in out
    assert (run_dir / "allure-results").is_dir()


@pytest.mark.parametrize("case", ["missing", "no-results", "empty-results"])
def test_the_report_command_says_one_line_for_an_unusable_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    run = tmp_path / "run"
    if case != "missing":
        run.mkdir()
    if case == "empty-results":
        (run / RESULTS_FILE).write_text('{"torn')
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("streamconform: ") and err.count("\n") == 1


def test_chromium_renders_the_report_and_runs_no_injected_script(
    run_dir: Path, catalogue: Catalogue, tmp_path: Path
) -> None:
    chromium = shutil.which("chromium")
    require_or_skip(chromium is not None, "chromium is missing: apt-get install chromium")
    assert chromium is not None
    render(run_dir, catalogue)
    shot = tmp_path / "report.png"
    command = [
        chromium,
        "--headless",
        *FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        "--dump-dom",  # the DOM after load: any script that ran would have changed the title
        (run_dir / "index.html").resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    dom = done.stdout
    assert "<title>streamconform report run1</title>" in dom, done.stderr[-2000:]
    assert "pwned" not in dom.split("</title>")[0]
    assert "Summary per protocol and target" in dom and "Coverage of the requirement" in dom
    assert shot.exists() and shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
