"""junit.xml: one testsuite per protocol and target, for any CI system."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from harness.records import TestRecord

FAILED = ("fail", "unexpected-pass")


def write_junit(path: Path, records: list[TestRecord]) -> None:
    groups: dict[tuple[str, str], list[TestRecord]] = defaultdict(list)
    for record in records:
        groups[(record.protocol or "harness", record.target)].append(record)
    root = ET.Element("testsuites", name="streamconform", tests=str(len(records)))
    for (protocol, target), members in sorted(groups.items()):
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{protocol} @ {target}",
            tests=str(len(members)),
            failures=str(sum(r.verdict in FAILED for r in members)),
            errors=str(sum(r.verdict == "error" for r in members)),
            skipped=str(sum(r.verdict == "skip" for r in members)),
            time=f"{sum(r.duration for r in members):.3f}",
        )
        for r in members:
            module, _, name = r.nodeid.rpartition("::")
            case = ET.SubElement(
                suite,
                "testcase",
                classname=module.replace("/", ".").removesuffix(".py"),
                name=name or r.nodeid,
                time=f"{r.duration:.3f}",
            )
            props = ET.SubElement(case, "properties")
            for rid in r.requirements:
                ET.SubElement(props, "property", name="requirement", value=rid)
            ET.SubElement(props, "property", name="verdict", value=r.verdict)
            if r.verdict in FAILED:
                ET.SubElement(
                    case, "failure", message=r.message.splitlines()[0] if r.message else r.verdict
                ).text = r.message
            elif r.verdict == "error":
                ET.SubElement(
                    case, "error", message=r.message.splitlines()[0] if r.message else "error"
                ).text = r.message
            elif r.verdict == "skip":
                ET.SubElement(case, "skipped", message=r.message)
            evidence = [p for paths in r.evidence.values() for p in paths]
            if evidence:
                ET.SubElement(case, "system-out").text = "evidence:\n" + "\n".join(evidence)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
