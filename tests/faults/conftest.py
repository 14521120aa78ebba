"""Fault scenarios run from scripts/faults at a small size; each returns a Report whose
checks must all hold."""

from __future__ import annotations

from scripts.faults.report import Report


def assert_held(report: Report) -> None:
    assert report.checks, "a scenario that checked nothing proves nothing"
    assert report.ok, "\n".join(report.failures)
