"""Fuzzing HTTP streaming: the conformant reference survives; a planted bug is found and replays."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.fuzz import campaign as campaign_module
from harness.fuzz.campaign import Campaign
from harness.fuzz.findings import FindingStore
from tests.helpers import fuzz_reference


def campaign_against(faults: tuple[str, ...], tmp_path: Path) -> tuple[Campaign, FindingStore]:
    return fuzz_reference("http", faults, tmp_path, cases=60)


def test_the_conformant_reference_survives_a_campaign_in_both_states(tmp_path: Path) -> None:
    campaign, store = campaign_against((), tmp_path)
    assert campaign.stats.cases >= 60 and set(campaign.stats.states) == {"fresh", "after-stream"}
    assert not store.signatures


def test_a_planted_bug_is_found_and_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaign_module, "MINIMIZE_SECONDS", 3.0)  # a short shrink suffices here
    _, store = campaign_against(("http_no_host_200",), tmp_path)
    assert {f.oracle for f in store.signatures.values()} == {"malformed-accepted"}
