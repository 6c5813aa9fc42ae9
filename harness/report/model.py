"""The report as data: built once from the records and the catalogue, rendered four ways.

`build` returns exactly what report.json holds (documented in SCHEMA.md); the HTML, JUnit and
Allure renderings read from it or from the records, never from anything else.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from harness.catalogue import LEVELS, Catalogue
from harness.records import VERDICTS, TestRecord
from harness.report.fuzz import load_campaigns, load_findings
from reference_impl.registry import PROTOCOLS

SCHEMA = "streamconform-report/1"
#: verdicts that make a run red
FAILING = ("fail", "error", "unexpected-pass")
UNTESTED = "untested"


def clean(value: Any) -> Any:
    """`value` with lone surrogates (bytes a target sent, decoded with surrogateescape) written
    as \\udcXX: every renderer can then encode it as UTF-8."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    return value


def worst(verdicts: list[str]) -> str:
    """The strongest verdict of a list (VERDICTS order), or "untested" for none."""
    present = set(verdicts)
    return next((v for v in VERDICTS if v in present), UNTESTED)


def evidence_of(record: TestRecord, kind: str, suffix: str = "") -> str | None:
    """The first evidence path of `kind` (ending in `suffix`), relative to the run directory."""
    return next((p for p in record.evidence.get(kind, []) if p.endswith(suffix)), None)


def _run(r: TestRecord) -> dict[str, Any]:
    return {
        "nodeid": r.nodeid,
        "target": r.target,
        "verdict": r.verdict,
        "transcript": evidence_of(r, "transcripts", ".txt"),
        "pcap": evidence_of(r, "pcap"),
    }


def build(run_dir: Path, records: list[TestRecord], catalogue: Catalogue) -> dict[str, Any]:
    """Everything report.json holds, from the run's records and the catalogue."""
    totals = Counter(r.verdict for r in records)
    tests_of: dict[str, list[TestRecord]] = defaultdict(list)
    for r in records:
        for rid in dict.fromkeys(r.requirements):
            tests_of[rid].append(r)
    # A test may attach the log of a peer it started itself as one of its files.
    logs = {p for r in records for p in r.evidence.get("files", []) if p.startswith("peers/")}
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "run_id": run_dir.name,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "verdict": "fail" if any(totals[v] for v in FAILING) else ("pass" if records else "empty"),
        "totals": {v: totals.get(v, 0) for v in VERDICTS} | {"tests": len(records)},
        "targets": sorted({r.target for r in records if r.target_kind != "interop"}),
        "protocols": _protocols(records),
        "tests": [r.to_json() for r in records],
        "requirements": _requirements(catalogue, tests_of),
        "coverage": _coverage(catalogue, tests_of),
        "interop": _interop(records),
        "peer_logs": sorted({p for r in records for p in r.evidence.get("peer_logs", [])} | logs),
        "files": sorted({p for r in records for p in r.evidence.get("files", [])} - logs),
        "fuzz": load_findings(run_dir),
        "fuzz_campaigns": load_campaigns(run_dir),
    }
    cleaned: dict[str, Any] = clean(data)
    return cleaned


def _protocols(records: list[TestRecord]) -> dict[str, dict[str, dict[str, int]]]:
    counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for r in records:
        counts[r.protocol or "harness"][r.target][r.verdict] += 1
    return {p: {t: dict(c) for t, c in sorted(ts.items())} for p, ts in sorted(counts.items())}


def _requirements(
    catalogue: Catalogue, tests_of: dict[str, list[TestRecord]]
) -> list[dict[str, Any]]:
    out = []
    order = {p: i for i, p in enumerate(PROTOCOLS)}
    for req in sorted(
        catalogue.requirements.values(), key=lambda q: (order.get(q.protocol, 99), q.protocol, q.id)
    ):
        mine = sorted(tests_of.get(req.id, []), key=lambda r: (r.nodeid, r.target))
        targets = sorted({r.target for r in mine})
        out.append(
            {
                "id": req.id,
                "protocol": req.protocol,
                "level": req.level,
                "source": req.source,
                "role": req.role,
                "summary": req.summary,
                "tests": sorted({r.nodeid for r in mine}),
                "verdicts": {t: worst([r.verdict for r in mine if r.target == t]) for t in targets},
                "runs": [_run(r) for r in mine],
            }
        )
    return out


def _coverage(
    catalogue: Catalogue, tests_of: dict[str, list[TestRecord]]
) -> dict[str, dict[str, dict[str, Any]]]:
    # Only protocols the catalogue has entries for: a protocol without a catalogue has nothing
    # to cover yet, and five rows of 0/0 would hide the ones that matter.
    present = {q.protocol for q in catalogue.requirements.values()}
    coverage: dict[str, dict[str, dict[str, Any]]] = {}
    for protocol in [p for p in PROTOCOLS if p in present] + sorted(present - set(PROTOCOLS)):
        coverage[protocol] = {}
        for level in LEVELS:
            reqs = [q for q in catalogue.for_protocol(protocol) if q.level == level]
            untested = sorted(q.id for q in reqs if not tests_of.get(q.id))
            coverage[protocol][level] = {
                "total": len(reqs),
                "tested": len(reqs) - len(untested),
                "untested": untested,
            }
    return coverage


def _interop(records: list[TestRecord]) -> dict[str, dict[str, Any]]:
    interop: dict[str, dict[str, Any]] = {}
    for r in records:
        if not r.interop:
            continue
        client, server = r.interop.get("client", "?"), r.interop.get("server", "?")
        matrix = interop.setdefault(
            r.interop.get("protocol", r.protocol or "?"),
            {"clients": [], "servers": [], "cells": {}},
        )
        for name, axis in ((client, "clients"), (server, "servers")):
            if name not in matrix[axis]:
                matrix[axis].append(name)
        key = f"{client}|{server}"
        previous = matrix["cells"].get(key)
        if previous is not None and worst([previous["verdict"], r.verdict]) != r.verdict:
            continue  # several tests per cell: the cell shows the worst of them
        matrix["cells"][key] = {
            "verdict": r.verdict,
            "message": r.message,
            "nodeid": r.nodeid,
            "evidence": sorted(p for paths in r.evidence.values() for p in paths),
        }
    for matrix in interop.values():
        matrix["clients"].sort()
        matrix["servers"].sort()
    return dict(sorted(interop.items()))
