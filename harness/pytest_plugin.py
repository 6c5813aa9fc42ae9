"""The pytest plugin: options, markers, targets, verdicts, evidence and the per-test record.

Registered by the root conftest.py in a checkout and by the `pytest11` entry point when
installed. Only tests that carry @pytest.mark.requirement produce records and reports.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import os
import re
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any, Literal

import pytest

from harness import evidence as evidence_mod
from harness.catalogue import CatalogueError, load_catalogue
from harness.clients import ClientUnderTest
from harness.expectations import ExpectationError, load_expectations
from harness.records import TestRecord, append_record
from harness.session import ROLES, RunState, new_run_dir
from harness.targets import (
    TargetError,
    check_reachable,
    parse_client_command,
    parse_server_url,
)
from harness.verdict import Conformance
from reference_impl.common import observe
from reference_impl.common.events import Violation
from reference_impl.registry import PROTOCOLS

STATE = pytest.StashKey[RunState]()
CONFORMANCE = pytest.StashKey[Conformance]()
EVIDENCE = pytest.StashKey[evidence_mod.TestEvidence]()
CALL_REPORT = pytest.StashKey[pytest.TestReport]()
STARTED = pytest.StashKey[float]()
VERDICT = pytest.StashKey[tuple[str, str]]()

_MARKERS = {
    **{p: f"{p} suite" for p in PROTOCOLS},
    "server": "tests a server (the target or the reference server)",
    "client": "tests a client (--target-client or the reference client)",
    "interop": "a cell of the interop matrix: real client x real server",
    "requirement(*ids)": "the catalogued requirements this test checks (fixtures/requirements/)",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("streamconform", "streamconform conformance harness")
    group.addoption(
        "--target", metavar="URL", help="server under test, e.g. rtsp://127.0.0.1:8554/live"
    )
    group.addoption(
        "--target-client",
        metavar="CMD",
        help="client under test: a command with {url}, e.g. 'ffprobe -rtsp_transport tcp {url}'",
    )
    group.addoption(
        "--peer",
        metavar="NAME",
        help="start a known real program as the target (see `streamconform peers list`)",
    )
    group.addoption(
        "--report-dir",
        metavar="DIR",
        help="write (append) this run's results here instead of reports/<new run>",
    )
    group.addoption(
        "--case-timeout",
        metavar="S",
        type=float,
        default=30.0,
        help="seconds one test may take (default 30)",
    )
    group.addoption(
        "--latency-bound",
        metavar="MS",
        type=float,
        default=200.0,
        help="streaming: milliseconds an event may take to reach a connected client (default 200)",
    )
    group.addoption(
        "--expect",
        metavar="FILE",
        help="TOML of known deviations: fail only on new failures and on fixed ones",
    )
    group.addoption(
        "--fault",
        metavar="NAME",
        action="append",
        default=[],
        help="switch on a named fault in the embedded reference implementations (self-check)",
    )


# -- configure ------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    for marker, text in _MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {text}")
    try:
        state = _build_state(config)
    except (TargetError, CatalogueError, ExpectationError) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[STATE] = state
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(state), "streamconform-xdist")


def _build_state(config: pytest.Config) -> RunState:
    opt = config.option
    catalogue = load_catalogue()
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    if "streamconform_run_dir" in workerinput:
        run_dir = Path(workerinput["streamconform_run_dir"])
    elif opt.report_dir:
        run_dir = Path(opt.report_dir).resolve()
    else:
        run_dir = new_run_dir(config.rootpath / "reports")
    if opt.case_timeout <= 0:
        raise TargetError("--case-timeout must be a positive number of seconds")
    if opt.latency_bound <= 0:
        raise TargetError("--latency-bound must be a positive number of milliseconds")
    state = RunState(
        catalogue=catalogue,
        run_dir=run_dir,
        strict=_strict(config),
        case_timeout=float(opt.case_timeout),
        faults=tuple(opt.fault),
        latency_bound=float(opt.latency_bound) / 1000,
    )
    given = [o for o in ("target", "target_client", "peer") if getattr(opt, o)]
    if len(given) > 1:
        names = " and ".join("--" + g.replace("_", "-") for g in given)
        raise TargetError(f"{names} cannot be combined; test one server or one client per run")
    if opt.expect:
        state.expectations = load_expectations(Path(opt.expect), catalogue)
    if opt.fault:
        _check_faults(opt.fault)
    if opt.target:
        state.server = parse_server_url(opt.target)
        if "streamconform_run_dir" not in workerinput:
            check_reachable(state.server)
    elif opt.target_client:
        command = parse_client_command(opt.target_client)
        state.client = ClientUnderTest("", command)
    elif opt.peer:
        state.peer_name = opt.peer
        if "streamconform_peer_url" in workerinput:
            url = workerinput["streamconform_peer_url"]
            state.server = parse_server_url(url, kind="peer", label=f"peer:{opt.peer}")
            state.peer_log = workerinput.get("streamconform_peer_log")
        else:
            _start_peer(state, opt.peer, config)
    return state


def _strict(config: pytest.Config) -> bool:
    """pytest's own `--strict` (ini `strict`) also makes SHOULD violations fail."""
    try:
        return bool(config.getini("strict"))
    except ValueError:
        return False


def _check_faults(names: list[str]) -> None:
    from reference_impl.registry import all_faults

    known = set(all_faults())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise TargetError(
            f"--fault {', '.join(unknown)}: no such fault; known: {', '.join(sorted(known))}"
        )


def _start_peer(state: RunState, name: str, config: pytest.Config) -> None:
    from harness.peers import PeerUnavailable, start_peer

    protocol = _protocol_from_selection(config)
    try:
        peer = start_peer(name, log_dir=state.run_dir / "peers")
    except PeerUnavailable as exc:
        raise TargetError(str(exc)) from None
    state.peer_handle = peer
    state.peer_log = str(peer.log_path)
    protocols = [protocol] if protocol else list(peer.spec.protocols)
    for candidate in protocols:
        try:
            url = peer.url(candidate)
        except (KeyError, ValueError):
            continue
        state.server = parse_server_url(url, kind="peer", label=f"peer:{name}")
        return
    peer.stop()
    raise TargetError(f"--peer {name}: it serves none of {', '.join(protocols)}")


def _protocol_from_selection(config: pytest.Config) -> str | None:
    """`-k rtsp` or `-m rtsp` names the protocol a multi-protocol peer should serve."""
    text = f"{config.option.keyword or ''} {config.option.markexpr or ''}"
    for protocol in PROTOCOLS:
        if re.search(rf"\b{protocol}\b", text):
            return protocol
    return None


class _XdistHooks:
    """Workers share the controller's run directory and its peer."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["streamconform_run_dir"] = str(self.state.run_dir)
        if self.state.peer_name and self.state.server is not None:
            node.workerinput["streamconform_peer_url"] = self.state.server.url
            node.workerinput["streamconform_peer_log"] = self.state.peer_log


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    state.close()
    if state.peer_handle is not None:
        state.peer_handle.stop()


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash.get(STATE, None)
    if state is None:
        return []
    lines = [f"streamconform: target {state.target_label}; results in {state.run_dir}"]
    if state.faults:
        lines.append(f"streamconform: faults on in the reference: {', '.join(state.faults)}")
    return lines


# -- collection -----------------------------------------------------------------------------


def item_protocol(item: pytest.Item) -> str | None:
    interop = item.get_closest_marker("interop")
    if interop is not None and interop.kwargs.get("protocol") in PROTOCOLS:
        return str(interop.kwargs["protocol"])
    for protocol in PROTOCOLS:
        if item.get_closest_marker(protocol) is not None:
            return protocol
    parts = Path(str(item.path)).parts
    if "suites" in parts:
        index = parts.index("suites")
        if index + 1 < len(parts) and parts[index + 1] in PROTOCOLS:
            return parts[index + 1]
    return None


def item_role(item: pytest.Item) -> str | None:
    if "interop" in Path(str(item.path)).parts:
        return "interop"
    return next((r for r in ROLES if item.get_closest_marker(r) is not None), None)


def item_requirements(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for marker in item.iter_markers("requirement"):
        ids.extend(str(a) for a in marker.args)
    return list(dict.fromkeys(ids))


def _in_suites(item: pytest.Item) -> bool:
    return "suites" in Path(str(item.path)).relative_to(item.config.rootpath).parts[:1]


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = config.stash[STATE]
    problems: list[str] = []
    for item in items:
        protocol = item_protocol(item)
        if protocol is not None and item.get_closest_marker(protocol) is None:
            item.add_marker(protocol)
        requirements = item_requirements(item)
        for rid in requirements:
            if rid not in state.catalogue:
                problems.append(
                    f"{item.nodeid}: unknown requirement ID {rid!r} "
                    f"(not in fixtures/requirements/{protocol or '<protocol>'}.toml)"
                )
        if _in_suites(item) and not requirements:
            problems.append(
                f"{item.nodeid}: a conformance test must name what it checks with "
                "@pytest.mark.requirement(ID, ...)"
            )
    if problems:
        raise pytest.UsageError("\n".join(problems))
    keep, drop = [], []
    for item in items:
        reason = _deselect_reason(state, item)
        if reason is None:
            keep.append(item)
        else:
            drop.append(item)
            state.deselected[reason] = state.deselected.get(reason, 0) + 1
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _deselect_reason(state: RunState, item: pytest.Item) -> str | None:
    if not _in_suites(item):
        return None
    protocol, role = item_protocol(item), item_role(item)
    if state.server is not None:
        if protocol != state.server.protocol:
            return f"{protocol} suites do not apply: the target speaks {state.server.protocol}"
        if role != "server":
            return f"{role} tests do not apply: the target is a server"
    elif state.client is not None and state.client.command is not None:
        if role != "client":
            return f"{role} tests do not apply: the target is a client"
    return None


# -- running --------------------------------------------------------------------------------


class _TestObserver:
    """What the reference adapters report during one test: wire traffic and violations."""

    def __init__(self, evidence: evidence_mod.TestEvidence, conformance: Conformance) -> None:
        self.evidence, self.conformance = evidence, conformance

    def open_connection(
        self,
        protocol: str,
        transport: Literal["tcp", "udp"],
        local: tuple[str, int],
        remote: tuple[str, int],
        local_role: Literal["client", "server"],
    ) -> evidence_mod.ConnectionRecorder:
        return self.evidence.open_connection(protocol, transport, local, remote, local_role)

    def violation(self, violation: Violation) -> None:
        self.conformance.violation(violation)


def _slug(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:150]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    state = item.config.stash[STATE]
    if item_requirements(item):
        item.stash[CONFORMANCE] = Conformance(
            item_requirements(item), state.catalogue, state.strict
        )
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        # Runs against several targets can share one report directory (make test): the
        # target's tag keeps each test's evidence apart.
        tag = hashlib.sha1(state.target_label.encode()).hexdigest()[:6]
        item.stash[EVIDENCE] = evidence_mod.TestEvidence(
            state.run_dir / "evidence" / f"{_slug(item.nodeid)}-{tag}-{worker}"
        )
        item.stash[STARTED] = time.time()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    conformance = item.stash.get(CONFORMANCE, None)
    if conformance is None:
        return (yield)
    with _observing(item, conformance):
        result = yield
    if conformance.failing():
        pytest.fail(conformance.summary(), pytrace=False)
    return result


class _observing:
    def __init__(self, item: pytest.Item, conformance: Conformance) -> None:
        self.item, self.conformance = item, conformance

    def __enter__(self) -> None:
        evidence = self.item.stash[EVIDENCE]
        self._token = observe.set_observer(_TestObserver(evidence, self.conformance))
        self._ev = evidence_mod.using(evidence)
        self._ev.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._ev.__exit__(None, None, None)
        observe.reset_observer(self._token)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in a fresh event loop, bounded by --case-timeout."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    state = pyfuncitem.config.stash[STATE]
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    coro = pyfuncitem.obj(**kwargs)

    async def bounded() -> None:
        try:
            await asyncio.wait_for(coro, state.case_timeout)
        except TimeoutError:
            pytest.fail(
                f"the test did not finish within --case-timeout {state.case_timeout:g} s",
                pytrace=False,
            )

    asyncio.run(bounded())
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if CONFORMANCE not in item.stash:
        return report
    state = item.config.stash[STATE]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _apply_expectations(item, state, report)
        item.stash[CALL_REPORT] = report
    if report.when == "teardown":
        _write_record(item, state, report)
    return report


def _apply_expectations(item: pytest.Item, state: RunState, report: pytest.TestReport) -> None:
    conformance = item.stash[CONFORMANCE]
    verdict = _verdict(report, conformance)
    message = _message(report)
    if state.expectations and report.when == "call" and verdict in ("fail", "warn", "pass"):
        label = state.target_label
        url = state.server.url if state.server else label
        deviated = {v.requirement for v in conformance.violations} or (
            set(item_requirements(item)) if verdict == "fail" else set()
        )
        expected = [
            d
            for d in state.expectations
            if d.matches(label, url, item.nodeid, set(item_requirements(item)))
        ]
        hit = [d for d in expected if d.requirement in deviated]
        if verdict in ("fail", "warn") and hit and deviated <= {d.requirement for d in hit}:
            verdict = "expected"
            message = "known deviation: " + "; ".join(f"{d.requirement}: {d.comment}" for d in hit)
            report.outcome = "passed"
            report.longrepr = None
            report.user_properties.append(("streamconform_expected", message))
        elif verdict == "pass" and expected:
            verdict = "unexpected-pass"
            names = ", ".join(d.requirement for d in expected)
            message = f"expected deviation {names} no longer occurs: remove it from --expect"
            report.outcome = "failed"
            report.longrepr = message
    item.stash[VERDICT] = (verdict, message)


def _verdict(report: pytest.TestReport, conformance: Conformance) -> str:
    if report.skipped:
        return "skip"
    if report.when == "setup" and report.failed:
        return "error"
    if report.failed:
        return "fail"
    return conformance.verdict()


def _message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = str(crash.message) if crash is not None else str(report.longrepr)
        return text[:4000]
    return ""


def _write_record(item: pytest.Item, state: RunState, teardown: pytest.TestReport) -> None:
    conformance = item.stash[CONFORMANCE]
    evidence = item.stash[EVIDENCE]
    call = item.stash.get(CALL_REPORT, None)
    verdict, message = item.stash.get(VERDICT, ("error", "the test did not run"))
    if teardown.failed and verdict in ("pass", "warn", "info"):
        verdict, message = "error", _message(teardown)
    failed = verdict in ("fail", "error", "unexpected-pass", "expected")
    paths: dict[str, list[str]] = {}
    if evidence.transcripts or evidence.extra_files:
        try:
            paths = evidence.write(with_pcap=failed)
        except Exception as exc:  # evidence is a bonus; the verdict must still be recorded
            message = f"{message}\n(evidence not written: {type(exc).__name__}: {exc})".strip()
    if state.peer_log:
        paths.setdefault("peer_logs", []).append(state.peer_log)
    rel = {
        kind: [_relative(Path(p), state.run_dir) for p in files] for kind, files in paths.items()
    }
    doc = inspect.getdoc(getattr(item, "obj", None)) or ""
    record = TestRecord(
        run_id=state.run_dir.name,
        nodeid=item.nodeid,
        name=item.name,
        doc=doc.splitlines()[0] if doc else "",
        protocol=item_protocol(item),
        role=item_role(item),
        target=_target_label(item, state),
        target_kind=_target_kind(item, state),
        requirements=item_requirements(item),
        verdict=verdict,
        outcome=call.outcome if call is not None else teardown.outcome,
        duration=round(time.time() - item.stash[STARTED], 4),
        started_at=item.stash[STARTED],
        message=message,
        violations=conformance.violations,
        observed=conformance.observed,
        evidence=rel,
        interop=_interop(item),
        measurements=conformance.measurements,
        worker=os.environ.get("PYTEST_XDIST_WORKER", "main"),
    )
    append_record(state.run_dir, record)
    state.records_written += 1


def _relative(path: Path, run_dir: Path) -> str:
    try:
        return str(path.resolve().relative_to(run_dir.resolve()))
    except ValueError:
        return str(path)


def _target_label(item: pytest.Item, state: RunState) -> str:
    interop = _interop(item)
    if interop is not None:
        return f"{interop['client']} -> {interop['server']}"
    return state.target_label if item_role(item) != "client" or state.client else "reference"


def _target_kind(item: pytest.Item, state: RunState) -> str:
    return "interop" if item_role(item) == "interop" else state.target_kind


def _interop(item: pytest.Item) -> dict[str, str] | None:
    marker = item.get_closest_marker("interop")
    if marker is None or not marker.kwargs:
        return None
    return {k: str(v) for k, v in marker.kwargs.items()}


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def streamconform(pytestconfig: pytest.Config) -> RunState:
    """The run: its targets, reference servers, faults and options."""
    return pytestconfig.stash[STATE]


@pytest.fixture
def conformance(request: pytest.FixtureRequest) -> Conformance:
    """Record violations of the test's declared requirements: `conformance.expect(ok, ID, why)`."""
    found: Conformance | None = request.node.stash.get(CONFORMANCE, None)
    if found is None:
        raise pytest.UsageError(
            f"{request.node.nodeid}: `conformance` needs @pytest.mark.requirement"
        )
    return found


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> evidence_mod.TestEvidence:
    """This test's evidence: add files (client logs, dumps) with `evidence.extra_files.append`."""
    found: evidence_mod.TestEvidence = request.node.stash[EVIDENCE]
    return found


def peer_unavailable(state: RunState, message: str, blocked: bool = False) -> None:
    """Skip with the reason, or fail when CI requires peers.

    A blocked peer (one this machine cannot have at all, e.g. a registry refuses it) is
    skipped even in CI: failing on it would only say that the block is still there.
    """
    if state.require_peers and not blocked:
        pytest.fail(f"peer unavailable (STREAMCONFORM_REQUIRE_PEERS=1): {message}", pytrace=False)
    pytest.skip(message)


# -- end of run -----------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or hasattr(config, "workerinput"):
        return
    for reason, count in sorted(state.deselected.items()):
        terminalreporter.write_line(f"streamconform: deselected {count} test(s): {reason}")
    if not (state.run_dir / "results.jsonl").exists():
        return
    try:
        from harness.records import read_records
        from harness.report import render_report, summarize, update_latest

        paths = render_report(state.run_dir)
        update_latest(state.run_dir)
        terminalreporter.write_line(summarize(list(read_records(state.run_dir))))
        terminalreporter.write_line(f"streamconform: report {paths.html}")
    except Exception as exc:  # the run's results are safe in results.jsonl; say how to retry
        terminalreporter.write_line(
            f"streamconform: could not render the report ({type(exc).__name__}: {exc}); "
            f"results are kept in {state.run_dir}/results.jsonl; retry with "
            f"`streamconform report {state.run_dir}`"
        )
