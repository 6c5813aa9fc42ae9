"""index.html: one self-contained page (inline CSS, no script, no external URL).

Everything that came from a target (messages, details, URLs, test ids with parameters) is
autoescaped by jinja2; the template uses no `|safe`. Links go through the `href` filter, which
only lets relative paths and file paths through, so a crafted path cannot become a
`javascript:` link.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader

from harness.catalogue import LEVELS
from harness.records import VERDICTS
from harness.report.model import FAILING

#: characters of one message shown in the page; report.json keeps all of it
MAX_MESSAGE = 3000
#: verdict columns always shown in the summary; the others only when the run has them
MAIN_VERDICTS = ("fail", "error", "warn", "expected", "pass", "skip")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def href(path: object) -> str:
    """A link target for an evidence path: relative or absolute file path, never a URL scheme."""
    text = str(path or "")
    if not text or _SCHEME.match(text) or text.startswith("//"):
        return "#"
    return quote(text, safe="/._-~")


def visible(value: Any) -> Any:
    """`value` with control characters (a target's bytes: NUL, ESC ...) in every string shown as
    \\xNN: HTML cannot carry them, and a browser would drop or garble them."""
    if isinstance(value, str):
        return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    if isinstance(value, list):
        return [visible(v) for v in value]
    if isinstance(value, dict):
        return {k: visible(v) for k, v in value.items()}
    return value


def clip(text: object, limit: int = MAX_MESSAGE) -> str:
    """At most `limit` characters, saying how many were left out."""
    value = str(text or "")
    if len(value) <= limit:
        return value
    return f"{value[:limit]}\n... {len(value) - limit} more characters in report.json"


def basename(path: object) -> str:
    return str(path or "").rstrip("/").rsplit("/", 1)[-1]


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=True,  # every template, whatever its name: target data is never trusted
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(href=href, clip=clip, basename=basename)
    return env


def _summary(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per protocol: its total counts, then one row per target."""
    rows = []
    for protocol, targets in data["protocols"].items():
        total: Counter[str] = Counter()
        for counts in targets.values():
            total.update(counts)
        rows.append(
            {
                "protocol": protocol,
                "counts": dict(total),
                "tests": sum(total.values()),
                "targets": [
                    {"target": t, "counts": c, "tests": sum(c.values())} for t, c in targets.items()
                ],
            }
        )
    return rows


def _test_names(nodeids: list[str]) -> list[tuple[str, int]]:
    """Test functions of a requirement, parametrized cases folded: [(name, cases)]."""
    cases: dict[str, int] = defaultdict(int)
    for nodeid in nodeids:
        cases[nodeid.rsplit("::", 1)[-1].split("[", 1)[0]] += 1
    return sorted(cases.items())


def _requirement_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for req in data["requirements"]:
        targets = []
        for target, verdict in req["verdicts"].items():
            runs = [r for r in req["runs"] if r["target"] == target]
            # Link the evidence of a run with the target's (worst) verdict: the one to look at.
            shown = next((r for r in runs if r["verdict"] == verdict), runs[0])
            targets.append(
                {"target": target, "verdict": verdict, "runs": len(runs), "evidence": shown}
            )
        rows.append(req | {"names": _test_names(req["tests"]), "targets": targets})
    return rows


def render_html(path: Path, data: dict[str, Any]) -> None:
    """Write index.html for the report data built by harness.report.model.build."""
    data = visible(data)
    tests = data["tests"]
    present = {t["verdict"] for t in tests}
    columns = [v for v in VERDICTS if v in MAIN_VERDICTS or v in present]
    by_protocol: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _requirement_rows(data):
        by_protocol[row["protocol"]].append(row)
    html = (
        _environment()
        .get_template("index.html")
        .render(
            r=data,
            columns=columns,
            summary=_summary(data),
            requirements=dict(by_protocol),
            failures=[t for t in tests if t["verdict"] in FAILING],
            notes=[t for t in tests if t["verdict"] in ("warn", "expected", "info")],
            levels=LEVELS,
            verdicts=VERDICTS,
        )
    )
    path.write_text(html, encoding="utf-8")
