"""From violations to a verdict: MUST fails, SHOULD warns (fails under --strict), MAY informs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from harness.catalogue import Catalogue
from harness.records import ViolationRecord
from reference_impl.common.events import Event, Violation


class UndeclaredRequirement(AssertionError):
    """A test checked a requirement it does not name in @pytest.mark.requirement."""


@dataclass
class Conformance:
    """What one test found: violations of its own requirements, and others it observed."""

    declared: Sequence[str]
    catalogue: Catalogue
    strict: bool = False
    violations: list[ViolationRecord] = field(default_factory=list)
    observed: list[ViolationRecord] = field(default_factory=list)
    measurements: dict[str, float] = field(default_factory=dict)

    def _record(self, requirement_id: str, detail: str) -> ViolationRecord:
        level = self.catalogue[requirement_id].level if requirement_id in self.catalogue else "MUST"
        return ViolationRecord(requirement_id, level, detail)

    def expect(self, condition: bool, requirement_id: str, detail: str) -> bool:
        """Check one requirement this test declares; a false condition records a violation."""
        if requirement_id not in self.declared:
            raise UndeclaredRequirement(
                f"the test checks {requirement_id} but does not name it in @pytest.mark.requirement"
            )
        if not condition:
            self.violations.append(self._record(requirement_id, detail))
        return condition

    def violation(self, violation: Violation) -> None:
        """A violation a core reported: counted if the test declares it, else only observed."""
        record = self._record(violation.requirement_id, violation.detail)
        target = self.violations if violation.requirement_id in self.declared else self.observed
        if record not in target:
            target.append(record)

    def record(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, Violation):
                self.violation(event)

    def measure(self, name: str, value: float) -> None:
        self.measurements[name] = value

    def failing(self) -> list[ViolationRecord]:
        levels = ("MUST", "SHOULD") if self.strict else ("MUST",)
        return [v for v in self.violations if v.level in levels]

    def verdict(self) -> str:
        if self.failing():
            return "fail"
        if any(v.level == "SHOULD" for v in self.violations):
            return "warn"
        if self.violations:
            return "info"
        return "pass"

    def summary(self) -> str:
        lines = [f"{v.requirement} ({v.level}): {v.detail}" for v in self.failing()]
        return (
            "conformance violation" + ("s" if len(lines) > 1 else "") + ":\n  " + "\n  ".join(lines)
        )
