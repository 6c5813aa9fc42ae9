"""Fuzzing campaigns: deterministic cases, oracles that fire on planted bugs, durable findings."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings

from harness.fuzz import rtsp_cases
from harness.fuzz.campaign import Campaign
from harness.fuzz.findings import FindingStore, load_finding
from harness.targets import EmbeddedReference, start_reference_server
from reference_impl.common.events import ProtocolError
from reference_impl.rtsp.connection import Role, RTSPConnection


@pytest.fixture
def reference() -> Iterator[EmbeddedReference]:
    server = start_reference_server("rtsp", ())
    yield server
    server.close()


@pytest.fixture
def planted() -> Iterator[EmbeddedReference]:
    server = start_reference_server("rtsp", ("accept_malformed",))
    yield server
    server.close()


def test_case_n_of_seed_s_is_always_the_same_bytes() -> None:
    first = [rtsp_cases.request(random.Random(f"3:{i}")) for i in range(20)]
    again = [rtsp_cases.request(random.Random(f"3:{i}")) for i in range(20)]
    assert first == again and len(set(first)) > 15


@settings(max_examples=150, deadline=None)
@given(rtsp_cases.any_case)
def test_every_generated_case_is_handled_by_the_core(case: bytes) -> None:
    conn = RTSPConnection(Role.SERVER)
    conn.receive_data(case)
    try:
        conn.events()
    except ProtocolError:
        pass


def test_the_conformant_reference_survives_a_campaign_with_no_finding(
    reference: EmbeddedReference, tmp_path: Path
) -> None:
    store = FindingStore(tmp_path)
    stats = Campaign(reference.target, store, seed=5, max_cases=600).run()
    assert stats.cases == 600 and stats.findings == 0
    assert set(stats.states) == {"Init", "Ready", "Playing"}
    summary = json.loads((tmp_path / "campaign.json").read_text())
    assert summary["cases"] == 600 and summary["findings"] == []


def test_a_planted_bug_is_found_minimized_and_replays(
    planted: EmbeddedReference, reference: EmbeddedReference, tmp_path: Path
) -> None:
    store = FindingStore(tmp_path)
    stats = Campaign(planted.target, store, seed=1, max_cases=400).run()
    assert stats.findings >= 1
    finding = next(iter(store.signatures.values()))
    assert finding.oracle == "malformed-accepted"
    assert finding.requirement == "RTSP-BAD-REQUEST-400"
    replay_file = store.replay_path(finding)
    stored = load_finding(replay_file)
    assert stored.minimized_hex is not None
    assert len(stored.minimized_hex) <= len(stored.payload_hex)
    minimized = bytes.fromhex(stored.minimized_hex)
    replay_store = FindingStore(tmp_path / "replay")
    assert Campaign(planted.target, replay_store).reproduces(stored, minimized)
    assert not Campaign(reference.target, replay_store).reproduces(stored, minimized)


def test_a_finding_is_on_disk_before_the_next_case_runs(
    planted: EmbeddedReference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FindingStore(tmp_path)
    campaign = Campaign(planted.target, store, seed=1, max_cases=400)
    real_add = store.add

    def add_then_interrupt(finding: object) -> bool:
        real_add(finding)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # the campaign is killed right after the finding

    monkeypatch.setattr(store, "add", add_then_interrupt)
    stats = campaign.run()
    assert stats.stopped_because == "interrupted"
    lines = (tmp_path / "findings.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["oracle"] == "malformed-accepted"
    assert list(tmp_path.glob("finding-*.json"))


def test_a_dead_target_stops_the_campaign_with_a_reason(tmp_path: Path) -> None:
    server = start_reference_server("rtsp", ())
    target = server.target
    server.close()
    from harness.fuzz.campaign import TargetDown

    with pytest.raises(TargetDown, match="fails its health check"):
        Campaign(target, FindingStore(tmp_path), max_cases=10).run()
