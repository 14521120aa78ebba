"""One scenario's result: what was injected, how many operations, what was checked, and
whether every check held. Tests assert `report.ok`; `scripts.faults` writes it as a row."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Report:
    scenario: str
    injected: str
    operations: int = 0
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def check(self, name: str, held: bool, detail: object = "") -> bool:
        self.checks.append((name, bool(held), "" if held else str(detail)[:2000]))
        return bool(held)

    def finish(self) -> Report:
        self.seconds = time.monotonic() - self.started
        return self

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(held for _, held, _ in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{name}: {detail}" for name, held, detail in self.checks if not held]

    def checked(self) -> str:
        return "; ".join(name for name, _, _ in self.checks)
