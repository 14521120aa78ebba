"""The benchmark's figures: what was measured, its target from issue 6, and its ratio to the
figure it is compared with (its baseline), printed as one rich table and as Markdown."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.table import Table

NOT_AVAILABLE = "not available yet"


@dataclass(frozen=True)
class Target:
    """A bound from the issue: `value >= bound` (at_least) or `value <= bound`."""

    bound: float
    at_least: bool = True
    note: str = ""

    def met(self, value: float) -> bool:
        return value >= self.bound if self.at_least else value <= self.bound

    def text(self, unit: str) -> str:
        sign = "≥" if self.at_least else "≤"
        return f"{sign} {_number(self.bound)} {unit}".strip() + (f" {self.note}" if self.note else "")


@dataclass
class Figure:
    """One measured value; `value` None means the part could not be measured (`status` says why)."""

    part: str  # e.g. "1 HTTP writes"
    name: str  # what exactly, e.g. "64 clients, group commit: throughput"
    store: str  # "postgres", "sqlite" or "" (neither)
    value: float | None
    unit: str
    target: Target | None = None
    baseline: str = ""  # the key of the figure this one is compared with
    status: str = ""  # "not available yet", or an error in one line
    detail: str = ""  # e.g. how many events, errors, p50 next to p99
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            self.key = f"{self.store}:{self.part}:{self.name}"


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def missing(self, part: str, name: str, store: str, unit: str, why: str = NOT_AVAILABLE,
                target: Target | None = None) -> Figure:
        return self.add(Figure(part, name, store, None, unit, target=target, status=why))

    def value_of(self, key: str) -> float | None:
        for figure in self.figures:
            if figure.key == key:
                return figure.value
        return None

    def ratio(self, figure: Figure) -> float | None:
        """value ÷ baseline's value, both in the same unit (for latencies a ratio above 1 is slower)."""
        if figure.value is None or not figure.baseline:
            return None
        base = self.value_of(figure.baseline)
        if not base:
            return None
        return figure.value / base

    def rows(self) -> list[list[str]]:
        rows = []
        for figure in self.figures:
            ratio = self.ratio(figure)
            base_store, _, base_name = figure.baseline.partition(":")
            base_name = base_name.partition(":")[2]
            if base_store and base_store != figure.store:
                base_name = f"{base_name} ({base_store})"
            rows.append([
                figure.part, figure.name, figure.store or "—",
                figure.status or f"{_number(figure.value)} {figure.unit}",
                figure.target.text(figure.unit) if figure.target else "—",
                _verdict(figure),
                f"{ratio:.2f}× {base_name}" if ratio is not None else "—",
                figure.detail,
            ])
        return rows

    def table(self, title: str) -> Table:
        table = Table(title=title, show_lines=False)
        for header, justify in _COLUMNS:
            table.add_column(header, justify=justify)
        for row in self.rows():
            table.add_row(*row)
        return table

    def markdown(self) -> str:
        headers = [header for header, _ in _COLUMNS]
        lines = ["| " + " | ".join(headers) + " |",
                 "|" + "|".join("---:" if j == "right" else "---" for _, j in _COLUMNS) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
                  for row in self.rows()]
        return "\n".join(lines)


_COLUMNS = [("part", "left"), ("measure", "left"), ("store", "left"), ("value", "right"),
            ("target", "left"), ("met", "left"), ("ratio to baseline", "left"), ("detail", "left")]


def _verdict(figure: Figure) -> str:
    if figure.target is None or figure.value is None:
        return ""
    return "yes" if figure.target.met(figure.value) else "NO"


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `samples` (seconds or any unit); 0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def guarded(report: Report, part: str, name: str, store: str, unit: str,
            measure: Callable[[], None], target: Target | None = None) -> None:
    """Runs one measurement; a part whose code is missing or that fails becomes a row that
    says so, and the rest of the run goes on."""
    try:
        measure()
    except ModuleNotFoundError as error:
        report.missing(part, name, store, unit, f"{NOT_AVAILABLE} ({error.name})", target)
    except Exception as error:  # one failed measurement must not lose the others
        why = " ".join(f"failed: {type(error).__name__}: {error}".split())  # one table line
        report.missing(part, name, store, unit, why[:160], target)
