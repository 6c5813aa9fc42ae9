"""Shared helpers of the project's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.fuzz.campaign import Campaign
from harness.fuzz.findings import FindingStore
from harness.targets import start_reference_server


def require_or_skip(available: bool, reason: str) -> None:
    """Skip when a tool is missing, but fail when CI requires peers and tools."""
    if available:
        return
    if os.environ.get("STREAMCONFORM_REQUIRE_PEERS") == "1":
        pytest.fail(f"{reason} (STREAMCONFORM_REQUIRE_PEERS=1)")
    pytest.skip(reason)


def fuzz_reference(
    protocol: str, faults: tuple[str, ...], tmp_path: Path, cases: int
) -> tuple[Campaign, FindingStore]:
    """A short campaign against the protocol's reference server; a finding must replay."""
    reference = start_reference_server(protocol, faults)
    store = FindingStore(tmp_path)
    campaign = Campaign(reference.target, store, seed=2, max_cases=cases, workers=2)
    try:
        campaign.run()
        if store.signatures:
            finding = next(iter(store.signatures.values()))
            payload = bytes.fromhex(finding.minimized_hex or finding.payload_hex)
            assert campaign.reproduces(finding, payload)
    finally:
        reference.close()
    return campaign, store
