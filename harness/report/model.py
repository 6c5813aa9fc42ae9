"""The report as data: built once from the records and the catalogue, rendered four ways."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from harness.catalogue import LEVELS, PROTOCOLS, Catalogue
from harness.records import VERDICTS, TestRecord

SCHEMA = "streamconform-report/1"
#: verdicts that make a run red
FAILING = ("fail", "error", "unexpected-pass")


def _worst(verdicts: list[str]) -> str:
    present = set(verdicts)
    return next((v for v in VERDICTS if v in present), "untested")


def load_fuzz(run_dir: Path) -> list[dict[str, Any]]:
    """Fuzz findings of campaigns stored in this run directory (fuzz/<campaign>/findings.jsonl)."""
    findings: list[dict[str, Any]] = []
    for path in sorted(run_dir.glob("fuzz/*/findings.jsonl")) + sorted(
        run_dir.glob("findings.jsonl")
    ):
        campaign = path.parent.name
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                finding = json.loads(line)
            except ValueError:
                continue
            finding["campaign"] = campaign
            base = path.parent.relative_to(run_dir)
            finding["evidence"] = {
                kind: [str(base / p) for p in paths]
                for kind, paths in finding.get("evidence", {}).items()
            }
            finding["replay_file"] = str(base / f"finding-{_slug(finding)}.json")
            findings.append(finding)
    return findings


def _slug(finding: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha1(str(finding.get("signature", "")).encode()).hexdigest()[:12]


def _run(r: TestRecord) -> dict[str, Any]:
    transcripts = [p for p in r.evidence.get("transcripts", []) if p.endswith(".txt")]
    return {
        "nodeid": r.nodeid,
        "target": r.target,
        "verdict": r.verdict,
        "transcript": transcripts[0] if transcripts else None,
        "pcap": next(iter(r.evidence.get("pcap", [])), None),
    }


def build(run_dir: Path, records: list[TestRecord], catalogue: Catalogue) -> dict[str, Any]:
    targets = sorted({r.target for r in records if r.target_kind != "interop"})
    totals = Counter(r.verdict for r in records)
    by_protocol: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for r in records:
        by_protocol[r.protocol or "harness"][r.target][r.verdict] += 1
    tests_of: dict[str, list[TestRecord]] = defaultdict(list)
    for r in records:
        for rid in r.requirements:
            tests_of[rid].append(r)
    requirements = []
    for req in sorted(catalogue.requirements.values(), key=lambda q: (q.protocol, q.id)):
        mine = tests_of.get(req.id, [])
        verdicts = {
            t: _worst([r.verdict for r in mine if r.target == t]) for t in {r.target for r in mine}
        }
        requirements.append(
            {
                "id": req.id,
                "protocol": req.protocol,
                "level": req.level,
                "source": req.source,
                "role": req.role,
                "summary": req.summary,
                "tests": sorted({r.nodeid for r in mine}),
                "verdicts": dict(sorted(verdicts.items())),
                "runs": [_run(r) for r in sorted(mine, key=lambda r: (r.nodeid, r.target))],
            }
        )
    coverage: dict[str, dict[str, dict[str, Any]]] = {}
    for protocol in PROTOCOLS:
        coverage[protocol] = {}
        for level in LEVELS:
            reqs = [q for q in catalogue.for_protocol(protocol) if q.level == level]
            untested = sorted(q.id for q in reqs if q.id not in tests_of)
            coverage[protocol][level] = {
                "total": len(reqs),
                "tested": len(reqs) - len(untested),
                "untested": untested,
            }
    interop: dict[str, dict[str, Any]] = {}
    for r in records:
        if not r.interop:
            continue
        row = interop.setdefault(r.interop["protocol"], {"clients": [], "servers": [], "cells": {}})
        for key, axis in (("client", "clients"), ("server", "servers")):
            if r.interop[key] not in row[axis]:
                row[axis].append(r.interop[key])
        row["cells"][f"{r.interop['client']}|{r.interop['server']}"] = {
            "verdict": r.verdict,
            "message": r.message,
            "nodeid": r.nodeid,
            "evidence": sorted(p for ps in r.evidence.values() for p in ps),
        }
    peer_logs = sorted({p for r in records for p in r.evidence.get("peer_logs", [])})
    return {
        "schema": SCHEMA,
        "run_id": run_dir.name,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "verdict": "fail" if any(totals[v] for v in FAILING) else ("pass" if records else "empty"),
        "totals": {v: totals.get(v, 0) for v in VERDICTS} | {"tests": len(records)},
        "targets": targets,
        "protocols": {
            p: {t: dict(c) for t, c in ts.items()} for p, ts in sorted(by_protocol.items())
        },
        "tests": [r.to_json() for r in records],
        "requirements": requirements,
        "coverage": coverage,
        "interop": interop,
        "peer_logs": peer_logs,
        "fuzz": load_fuzz(run_dir),
    }
