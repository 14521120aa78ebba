"""Ids that follow from a natural key never change: stores hold them. The literals below were
computed by the code before `natural_keys` (each aggregate's own uuid5 f-string)."""

from __future__ import annotations

from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate

from domain.access import AccessToken, UserAccount
from domain.assets import SchoolAssets
from domain.enrolment_snapshot import EnrolmentSnapshot
from domain.expenditure import VoucherNumber
from domain.fund import Fund
from domain.funding_standard import FundingStandard
from domain.idempotency import IdempotencyRecord
from domain.indicator_reports import IndicatorReports
from domain.school import School
from domain.staffing import CountyPosts
from domain.surplus import RecoveredSurplus
from domain.tranche import TrancheSlot

pytestmark = pytest.mark.unit

SNAPSHOT = UUID("12345678-1234-5678-1234-567812345678")

# (aggregate, key as the creating event names it, the id stores hold)
KEYED: list[tuple[type[Aggregate], dict[str, object], str]] = [
    (UserAccount, {"name": "al"}, "407190a0-8275-5065-9e6f-83d3f694dd23"),
    (SchoolAssets, {"school": "S1"}, "3ce54f0d-3b22-5ca6-99c2-a33725a88e92"),
    (IndicatorReports, {"school": "S1"}, "ecc97cd5-4575-5850-91fd-9c9e964110cc"),
    (School, {"code": "S1"}, "3079c175-6aba-5035-aa65-634ea54bdfab"),
    (CountyPosts, {"district": "D1"}, "f41538af-9543-5b4f-9755-4fb43aceadc9"),
    (EnrolmentSnapshot, {"name": "snap 1"}, "a6fa7a14-aeac-5531-95f9-5c30e373ce97"),
    (Fund, {"code": "F-1"}, "2081bd85-7d6e-515e-95b5-3a45e3e3920d"),
    (VoucherNumber, {"school_code": "S1", "fiscal_year": 2025, "voucher": "V:1"},
     "f6aa1886-d494-5c3e-9a9c-5ee4063c0db3"),
    (TrancheSlot, {"fund_code": "F-1", "semester": "2025-1", "snapshot_id": SNAPSHOT},
     "f100be45-6949-5c3d-9445-e3e81b1d8e1d"),
    (FundingStandard, {"fiscal_year": 2025, "level": "primary", "category": "public"},
     "e5c7b55a-2a30-5696-8e76-64b166800a98"),
    (RecoveredSurplus, {"fiscal_year": 2025, "source": "county", "unit": "CNY"},
     "05114a96-08d8-5832-92d7-bb67fb4780ea"),
]


@pytest.mark.parametrize(("aggregate", "key", "stored"), KEYED,
                         ids=[a.__name__ for a, _, _ in KEYED])
def test_an_aggregate_known_by_a_key_keeps_its_id(aggregate: type[Aggregate],
                                                  key: dict[str, object], stored: str) -> None:
    assert aggregate.id_for(*key.values()) == UUID(stored)  # type: ignore[attr-defined]
    # What the library calls with the creating event's fields of the same names.
    assert aggregate.create_id(**key) == UUID(stored)


def test_ids_without_an_aggregate_of_their_own_keep_theirs() -> None:
    assert AccessToken.id_for_hash("ab12") == UUID("60415742-4a57-55e6-9dc6-a64f8d010c83")
    assert IdempotencyRecord.id_for("al", "k1") == UUID("ac6068ec-ca9c-5e33-aecd-6dede7048a95")
