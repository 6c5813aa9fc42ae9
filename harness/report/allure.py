"""allure-results/: one Allure result per record, with transcripts and pcaps attached.

Status: fail and unexpected-pass are failed, error is broken, skip skipped, the rest passed.
Labels: suite = protocol, subSuite = target, tag = requirement IDs, severity from the strongest
level among the test's requirements (MUST critical, SHOULD normal, MAY minor).
"""

from __future__ import annotations

import mimetypes
import shutil
import uuid
from pathlib import Path

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import (
    Attachment,
    Label,
    Parameter,
    Status,
    StatusDetails,
    TestResult,
)

from harness.catalogue import LEVELS, Catalogue
from harness.records import TestRecord

STATUS = {
    "pass": Status.PASSED,
    "warn": Status.PASSED,
    "info": Status.PASSED,
    "expected": Status.PASSED,
    "fail": Status.FAILED,
    "unexpected-pass": Status.FAILED,
    "error": Status.BROKEN,
    "skip": Status.SKIPPED,
}
SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}
#: attachment types Allure shows inline; pcapng is offered for download
MIME = {
    ".txt": "text/plain",
    ".json": "application/json",
    ".log": "text/plain",
    ".pcapng": "application/vnd.tcpdump.pcap",
}


def _severity(record: TestRecord, catalogue: Catalogue) -> str:
    levels = {catalogue[rid].level for rid in record.requirements if rid in catalogue}
    return next((SEVERITY[level] for level in LEVELS if level in levels), "normal")


def _status_details(r: TestRecord) -> StatusDetails | None:
    trace = "\n".join(f"{v.requirement} ({v.level}): {v.detail}" for v in r.violations)
    if not r.message and not trace:
        return None
    return StatusDetails(message=r.message or None, trace=trace or None)


def write_allure(
    directory: Path, run_dir: Path, records: list[TestRecord], catalogue: Catalogue
) -> None:
    """Write allure-results/ afresh (it is derived from results.jsonl, like every report)."""
    if directory.exists():
        shutil.rmtree(directory)
    logger = AllureFileLogger(str(directory), clean=False)  # type: ignore[no-untyped-call]
    for r in records:
        result = TestResult(
            uuid=str(uuid.uuid4()),
            name=r.name,
            fullName=r.nodeid,
            # the same test against another target is another history line in Allure
            historyId=f"{r.nodeid}@{r.target}",
            testCaseId=r.nodeid,
            description=r.doc or None,
            status=STATUS.get(r.verdict, Status.UNKNOWN),
            statusDetails=_status_details(r),
            start=int(r.started_at * 1000),
            stop=int((r.started_at + r.duration) * 1000),
            labels=[
                Label(name="framework", value="streamconform"),
                Label(name="suite", value=r.protocol or "harness"),
                Label(name="subSuite", value=r.target),
                Label(name="severity", value=_severity(r, catalogue)),
                *[Label(name="tag", value=rid) for rid in r.requirements],
                *([Label(name="tag", value=f"verdict:{r.verdict}")] if r.verdict != "pass" else []),
            ],
            parameters=[Parameter(name="target", value=r.target)],
        )
        for paths in r.evidence.values():
            for rel in paths:
                source = run_dir / rel
                if not source.is_file():
                    continue
                name = f"{uuid.uuid4()}-attachment{source.suffix}"
                logger.report_attached_file(source, name)  # type: ignore[no-untyped-call]
                mime = MIME.get(source.suffix) or mimetypes.guess_type(source.name)[0]
                result.attachments.append(
                    Attachment(
                        name=source.name, source=name, type=mime or "application/octet-stream"
                    )
                )
        logger.report_result(result)  # type: ignore[no-untyped-call]
