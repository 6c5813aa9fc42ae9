"""A fuzzing campaign: walk into a state, send a case, apply oracles, store findings durably.

Case N of seed S is always the same bytes (random.Random seeded with "S:N"), so a finding
replays from its seed and index as well as from its stored bytes.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.catalogue import load_catalogue
from harness.evidence import TestEvidence
from harness.fuzz.driver import FuzzDriver, Verdict, driver_for
from harness.fuzz.findings import Finding, FindingStore
from harness.fuzz.wire import Exchange
from harness.targets import ServerTarget

HEALTH_TIMEOUT = 2.0
RECOVERY_TIMEOUT = 10.0
MINIMIZE_ATTEMPTS = 150
MINIMIZE_SECONDS = 30.0


@dataclass
class Stats:
    """Progress of a campaign, printed as it goes and saved at the end."""

    started: float = field(default_factory=time.monotonic)
    cases: int = 0
    states: dict[str, int] = field(default_factory=dict)
    findings: int = 0
    restarts: int = 0
    stopped_because: str = ""
    case_seconds: float = 0.0  # time spent in the case loop, without the final minimization

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        seconds = self.case_seconds or self.elapsed
        return self.cases / seconds if seconds > 0 else 0.0

    def line(self) -> str:
        states = " ".join(f"{k}:{v}" for k, v in sorted(self.states.items()))
        return (
            f"{self.elapsed:6.0f}s  cases {self.cases}  ({self.rate:.0f}/s)  "
            f"states reached {states or '-'}  findings {self.findings}"
        )


class TargetDown(Exception):
    """The target stopped answering and could not be brought back."""


@dataclass
class Campaign:
    """One campaign against one server."""

    target: ServerTarget
    store: FindingStore
    seed: int = 0
    duration: float | None = None
    max_cases: int | None = None
    answer_timeout: float = 1.0
    restart: Callable[[], ServerTarget] | None = None  # a peer the harness started: restart it
    alive: Callable[[], bool] | None = None
    workers: int = 1  # connections in flight at once; each case still depends only on its index
    stats: Stats = field(default_factory=Stats)

    def __post_init__(self) -> None:
        self._driver = driver_for(self.target.protocol)
        self._catalogue = load_catalogue()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._recovering = threading.Lock()
        self._next_index = 0
        self.recorded = self.proto.recorded_session()

    @property
    def proto(self) -> FuzzDriver:
        """This thread's protocol driver (it keeps per-connection state such as the session)."""
        proto: FuzzDriver | None = getattr(self._local, "proto", None)
        if proto is None:
            proto = self._driver(self.target.url, self._catalogue, self.answer_timeout)
            self._local.proto = proto
        proto.url = self.target.url
        return proto

    def run(self, progress: Callable[[Stats], None] | None = None, every: float = 1.0) -> Stats:
        if not self.proto.healthy(self.target.host, self.target.port, HEALTH_TIMEOUT):
            raise TargetDown(
                f"{self.target.url} fails its health check (a valid request) before the campaign"
            )
        stop = threading.Event()
        failures: list[BaseException] = []
        threads = [
            threading.Thread(target=self._worker, args=(stop, failures), daemon=True)
            for _ in range(max(1, self.workers))
        ]
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(every / len(threads))
                if progress:
                    progress(self.stats)
            if not self.stats.stopped_because:
                self.stats.stopped_because = "limit reached"
        except KeyboardInterrupt:
            stop.set()
            for thread in threads:
                thread.join(HEALTH_TIMEOUT + self.answer_timeout + 5)
            self.stats.stopped_because = "interrupted"
        if failures and isinstance(failures[0], KeyboardInterrupt):
            self.stats.stopped_because = "interrupted"
        elif failures and not isinstance(failures[0], TargetDown):
            raise failures[0]
        self.stats.case_seconds = self.stats.elapsed
        self.store.write_summary(self.summary())
        if self.stats.stopped_because != "interrupted":
            if progress and self.store.signatures:
                print(f"minimizing {len(self.store.signatures)} finding(s) ...", file=sys.stderr)
            try:
                self.finish_findings()
            except (KeyboardInterrupt, TargetDown):
                pass  # the raw findings are stored; replay works on them too
            self.store.write_summary(self.summary())
        return self.stats

    def _worker(self, stop: threading.Event, failures: list[BaseException]) -> None:
        try:
            while not stop.is_set():
                with self._lock:
                    if self._done():
                        return
                    index = self._next_index
                    self._next_index += 1
                self._one_case(index)
                with self._lock:
                    self.stats.cases += 1
        except TargetDown as exc:
            with self._lock:
                self.stats.stopped_because = str(exc)
            failures.append(exc)
            stop.set()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread to raise
            failures.append(exc)
            stop.set()

    def summary(self) -> dict[str, Any]:
        return {
            "target": self.target.url,
            "protocol": self.target.protocol,
            "seed": self.seed,
            "cases": self.stats.cases,
            "seconds": round(self.stats.elapsed, 1),
            "cases_per_second": round(self.stats.rate, 1),
            "states": self.stats.states,
            "findings": [f.to_json() for f in self.store.signatures.values()],
            "restarts": self.stats.restarts,
            "stopped_because": self.stats.stopped_because,
        }

    def _done(self) -> bool:
        if self.max_cases is not None and self._next_index >= self.max_cases:
            return True
        return self.duration is not None and self.stats.elapsed >= self.duration

    def _one_case(self, index: int) -> None:
        rng = random.Random(f"{self.seed}:{index}")
        state = self.proto.states[index % len(self.proto.states)]
        verdict, payload = self.attempt(state, rng=rng)
        if verdict.oracle is None:
            return
        finding = Finding(
            protocol=self.target.protocol,
            target=self.target.url,
            state=state,
            oracle=verdict.oracle,
            detail=verdict.detail,
            requirement=verdict.requirement,
            seed=self.seed,
            case_index=index,
            payload_hex=payload.hex(),
            found_at=time.time(),
        )
        with self._lock:
            if self.store.add(finding):  # on disk, fsynced, before the next case runs
                self.stats.findings += 1

    def finish_findings(self) -> None:
        """Minimize each new finding and record its evidence; after the cases, so the case
        loop keeps its pace (every finding is already on disk as found)."""
        for finding in self.store.signatures.values():
            if finding.minimized_hex is not None:
                continue
            payload = bytes.fromhex(finding.payload_hex)
            minimized = self.minimize(finding, payload)
            finding.minimized_hex = minimized.hex()
            finding.evidence = self.record_evidence(finding, minimized)
            self.store.save(finding)

    def attempt(
        self, state: str, rng: random.Random | None = None, payload: bytes | None = None
    ) -> tuple[Verdict, bytes]:
        """Walk into `state`, send the case, judge, then check the target is still healthy."""
        verdict, healthy = Verdict(None), False
        try:
            ex = Exchange.open(self.target.host, self.target.port, HEALTH_TIMEOUT)
        except OSError as exc:
            self._recover(f"connect failed: {exc}")
            return Verdict(None), b""
        try:
            reached = self.proto.walk(ex, state)
            if reached and payload is None:  # count campaign cases, not minimization attempts
                with self._lock:
                    self.stats.states[state] = self.stats.states.get(state, 0) + 1
            if payload is None:
                assert rng is not None
                payload = self.proto.case(rng, self.recorded)
            verdict = self.proto.judge(ex, payload)
            # Every 16th case the check uses a fresh connection, so a stuck accept loop shows.
            same = ex if verdict.answered and self.stats.cases % 16 else None
            healthy = self.proto.healthy(self.target.host, self.target.port, HEALTH_TIMEOUT, same)
        finally:
            ex.close()
        if not healthy and self.proto.healthy(self.target.host, self.target.port, HEALTH_TIMEOUT):
            healthy = True  # the case's connection was spoiled, not the server
        if not healthy:
            crashed = self.alive is not None and not self.alive()
            verdict = Verdict(
                "crash" if crashed else "unresponsive",
                "the target process exited"
                if crashed
                else "a valid request (the driver's health check) got no answer after the case",
            )
            self._recover(verdict.detail)
        return verdict, payload

    def _recover(self, why: str) -> None:
        with self._recovering:  # one worker restarts or waits; the others find it healthy
            if self.proto.healthy(self.target.host, self.target.port, HEALTH_TIMEOUT):
                return
            self._recover_now(why)

    def _recover_now(self, why: str) -> None:
        if self.restart is not None:
            self.target = self.restart()
            self.proto.url = self.target.url
            self.stats.restarts += 1
            return
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proto.healthy(self.target.host, self.target.port, HEALTH_TIMEOUT):
                return
        raise TargetDown(f"the target stopped answering ({why}) and did not recover")

    def reproduces(self, finding: Finding, payload: bytes) -> bool:
        verdict, _ = self.attempt(finding.state, payload=payload)
        return verdict.oracle == finding.oracle and verdict.requirement == finding.requirement

    def minimize(self, finding: Finding, payload: bytes) -> bytes:
        """Delta debugging over bytes, bounded in attempts: the smallest case that still fires."""
        best, attempts, chunk = payload, 0, max(1, len(payload) // 2)
        deadline = time.monotonic() + MINIMIZE_SECONDS
        while chunk >= 1 and attempts < MINIMIZE_ATTEMPTS and time.monotonic() < deadline:
            shrunk = False
            start = 0
            while start < len(best) and attempts < MINIMIZE_ATTEMPTS:
                candidate = best[:start] + best[start + chunk :]
                attempts += 1
                if candidate and self.reproduces(finding, candidate):
                    best, shrunk = candidate, True
                else:
                    start += chunk
            if not shrunk:
                chunk //= 2
        return best

    def record_evidence(self, finding: Finding, payload: bytes) -> dict[str, list[str]]:
        evidence = TestEvidence(self.store.directory / "evidence" / finding.slug)

        def factory(local: tuple[str, int], remote: tuple[str, int]) -> object:
            return evidence.open_connection(self.target.protocol, "tcp", local, remote, "client")

        try:
            ex = Exchange.open(self.target.host, self.target.port, HEALTH_TIMEOUT, factory)
        except OSError:
            return {}
        try:
            if self.proto.walk(ex, finding.state):
                self.proto.judge(ex, payload)
        finally:
            ex.close()
        try:
            written = evidence.write(with_pcap=True)
        except Exception as exc:  # evidence is a bonus; the finding is already stored
            print(f"streamconform: evidence for {finding.slug} not written: {exc}", file=sys.stderr)
            return {}
        base = self.store.directory
        return {k: [str(Path(p).relative_to(base)) for p in v] for k, v in written.items()}
