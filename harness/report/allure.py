"""allure-results/: one Allure result per record, with transcripts and pcaps attached."""

from __future__ import annotations

import mimetypes
import shutil
import uuid
from pathlib import Path

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import Attachment, Label, Status, StatusDetails, TestResult

from harness.catalogue import Catalogue
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


def write_allure(
    directory: Path, run_dir: Path, records: list[TestRecord], catalogue: Catalogue
) -> None:
    if directory.exists():
        shutil.rmtree(directory)  # rendered from results.jsonl: a fresh copy each time
    directory.mkdir(parents=True)
    logger = AllureFileLogger(str(directory), clean=False)  # type: ignore[no-untyped-call]
    for r in records:
        levels = [catalogue[rid].level for rid in r.requirements if rid in catalogue]
        severity = next(
            (SEVERITY[lv] for lv in ("MUST", "SHOULD", "MAY") if lv in levels), "normal"
        )
        result = TestResult(
            uuid=str(uuid.uuid4()),
            name=r.name,
            fullName=r.nodeid,
            historyId=f"{r.nodeid}@{r.target}",
            description=r.doc,
            status=STATUS.get(r.verdict, Status.UNKNOWN),
            statusDetails=StatusDetails(message=r.message) if r.message else None,
            start=int(r.started_at * 1000),
            stop=int((r.started_at + r.duration) * 1000),
            labels=[
                Label(name="suite", value=r.protocol or "harness"),
                Label(name="subSuite", value=r.target),
                Label(name="severity", value=severity),
                *[Label(name="tag", value=rid) for rid in r.requirements],
            ],
        )
        for paths in r.evidence.values():
            for rel in paths:
                source = run_dir / rel
                if not source.is_file():
                    continue
                name = f"{uuid.uuid4()}-attachment{source.suffix}"
                shutil.copyfile(source, directory / name)
                mime = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
                result.attachments.append(Attachment(name=source.name, source=name, type=mime))
        logger.report_result(result)  # type: ignore[no-untyped-call]
