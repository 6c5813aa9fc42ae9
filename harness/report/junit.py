"""junit.xml: one testsuite per protocol and target, for any CI system.

`fail` and `unexpected-pass` are failures, `error` errors, `skip` skipped. `warn`, `expected` and
`info` pass, with a property saying so (and the SHOULD violations or the expected deviation), so
that CI shows them green yet a reader can find them.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from harness.records import TestRecord

FAILED = ("fail", "unexpected-pass")
#: characters XML 1.0 cannot hold at all; a target's bytes may contain any of them
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: object) -> str:
    """`text` with characters XML cannot carry shown as \\xNN, so every parser reads the file."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _first_line(message: str, default: str) -> str:
    return xml_text(message.strip().splitlines()[0][:500]) if message.strip() else default


def _details(r: TestRecord) -> str:
    lines = [r.message.rstrip()] if r.message.strip() else []
    lines += [f"{v.requirement} ({v.level}): {v.detail}" for v in r.violations]
    return xml_text("\n".join(lines))


def _case(suite: ET.Element, r: TestRecord) -> None:
    module, _, name = r.nodeid.rpartition("::")
    case = ET.SubElement(
        suite,
        "testcase",
        classname=xml_text(module.replace("/", ".").removesuffix(".py") or r.protocol or "tests"),
        name=xml_text(name or r.nodeid),
        time=f"{r.duration:.3f}",
    )
    props = ET.SubElement(case, "properties")
    for rid in r.requirements:
        ET.SubElement(props, "property", name="requirement", value=rid)
    ET.SubElement(props, "property", name="verdict", value=r.verdict)
    ET.SubElement(props, "property", name="target", value=xml_text(r.target))
    if r.verdict == "expected":
        ET.SubElement(
            props, "property", name="expected-deviation", value=_first_line(r.message, "")
        )
    for v in r.violations if r.verdict in ("warn", "info") else []:
        ET.SubElement(
            props, "property", name=f"{v.level.lower()}-violated", value=xml_text(v.requirement)
        )
    if r.verdict in FAILED:
        failure = ET.SubElement(case, "failure", message=_first_line(r.message, r.verdict))
        failure.set("type", r.verdict)
        failure.text = _details(r)
    elif r.verdict == "error":
        ET.SubElement(case, "error", message=_first_line(r.message, "error")).text = _details(r)
    elif r.verdict == "skip":
        ET.SubElement(case, "skipped", message=_first_line(r.message, "skipped"))
    evidence = [p for paths in r.evidence.values() for p in paths]
    if evidence:
        ET.SubElement(case, "system-out").text = xml_text("evidence:\n" + "\n".join(evidence))


def write_junit(path: Path, records: list[TestRecord]) -> None:
    """Write `records` as JUnit XML (the dialect Jenkins, GitLab and GitHub reporters read)."""
    groups: dict[tuple[str, str], list[TestRecord]] = defaultdict(list)
    for record in records:
        groups[(record.protocol or "harness", record.target)].append(record)
    root = ET.Element(
        "testsuites",
        name="streamconform",
        tests=str(len(records)),
        failures=str(sum(r.verdict in FAILED for r in records)),
        errors=str(sum(r.verdict == "error" for r in records)),
        skipped=str(sum(r.verdict == "skip" for r in records)),
        time=f"{sum(r.duration for r in records):.3f}",
    )
    for (protocol, target), members in sorted(groups.items()):
        started = min(r.started_at for r in members)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=xml_text(f"{protocol} @ {target}"),
            tests=str(len(members)),
            failures=str(sum(r.verdict in FAILED for r in members)),
            errors=str(sum(r.verdict == "error" for r in members)),
            skipped=str(sum(r.verdict == "skip" for r in members)),
            time=f"{sum(r.duration for r in members):.3f}",
            timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)),
        )
        for r in members:
            _case(suite, r)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
