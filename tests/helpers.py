"""Shared helpers of the project's tests."""

from __future__ import annotations

import os

import pytest


def require_or_skip(available: bool, reason: str) -> None:
    """Skip when a tool is missing, but fail when CI requires peers and tools."""
    if available:
        return
    if os.environ.get("STREAMCONFORM_REQUIRE_PEERS") == "1":
        pytest.fail(f"{reason} (STREAMCONFORM_REQUIRE_PEERS=1)")
    pytest.skip(reason)
