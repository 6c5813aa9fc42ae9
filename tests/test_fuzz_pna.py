"""Fuzzing PNA: the conformant reference survives; a planted bug is found and replays."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.fuzz import campaign as campaign_module
from harness.fuzz.campaign import Campaign
from harness.fuzz.findings import FindingStore
from harness.targets import start_reference_server


def campaign_against(faults: tuple[str, ...], tmp_path: Path) -> tuple[Campaign, FindingStore]:
    reference = start_reference_server("pna", faults)
    store = FindingStore(tmp_path)
    campaign = Campaign(reference.target, store, seed=2, max_cases=150, workers=2)
    try:
        campaign.run()
        if store.signatures:
            finding = next(iter(store.signatures.values()))
            payload = bytes.fromhex(finding.minimized_hex or finding.payload_hex)
            assert campaign.reproduces(finding, payload)
    finally:
        reference.close()
    return campaign, store


def test_the_conformant_reference_survives_a_campaign_in_every_state(tmp_path: Path) -> None:
    campaign, store = campaign_against((), tmp_path)
    assert campaign.stats.cases >= 150 and set(campaign.stats.states) == {"fresh", "streaming"}
    assert not store.signatures


def test_a_planted_bug_is_found_and_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaign_module, "MINIMIZE_SECONDS", 3.0)  # a short shrink suffices here
    _, store = campaign_against(("pna_answers_junk",), tmp_path)
    assert {f.oracle for f in store.signatures.values()} == {"malformed-accepted"}
