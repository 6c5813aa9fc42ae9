"""streamconform's machinery: catalogue, pytest plugin, targets, peers, evidence, reports, CLI."""

from pathlib import Path

#: The project root when running from a checkout (fixtures/ lives here).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = PROJECT_ROOT / "fixtures"
