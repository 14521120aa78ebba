"""Books whose invariants are asserted after every change, in one place (TIGER_STYLE).

A command that changes an allocation or a fund triggers an event; the aggregate asserts its
invariants right after applying it, so that a bug anywhere stops the command before anything
is saved instead of corrupting the books, and no new command can forget to ask.
"""

from __future__ import annotations

from typing import Any


class AssertedAfterEveryChange:
    """Mixed in before the library's Aggregate: `trigger_event` applies the event, then asks
    `_assert_invariants`. Replaying stored events does not pass here (the library mutates
    directly); what was stored was asserted when it was decided."""

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        super().trigger_event(event_class, **kwargs)  # type: ignore[misc]
        self._assert_invariants()

    def _assert_invariants(self) -> None:
        raise NotImplementedError
