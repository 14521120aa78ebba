"""Poison text refused by the ledger itself (issue 14), so the CLI and the CSV import, which
call the ledger, refuse what HTTP refuses. On both stores."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from domain.ledger import FundLedger
from tests.factories import refused, school


@pytest.mark.parametrize("name", ["School\u0000Zero", "a\u202eb", "\u200b", "x\ny"])
def test_every_path_refuses_poison_text_in_the_ledger_itself(stored_ledger: FundLedger,
                                                             name: str) -> None:
    """The CLI and the CSV import call the ledger: its own check refuses what HTTP does."""
    refused(stored_ledger, InvalidInput, "invalid_input",
            lambda: school(stored_ledger, code="XZ-PZ-0009", name=name))
