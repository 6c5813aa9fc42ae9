"""Fuzzing PNA: the conformant reference survives; a planted bug is found and replays."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.fuzz import campaign as campaign_module
from harness.fuzz.campaign import Campaign
from harness.fuzz.findings import FindingStore
from tests.helpers import fuzz_reference


def campaign_against(faults: tuple[str, ...], tmp_path: Path) -> tuple[Campaign, FindingStore]:
    return fuzz_reference("pna", faults, tmp_path, cases=150)


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
