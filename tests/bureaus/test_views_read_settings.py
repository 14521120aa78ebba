"""FUNDLEDGER_VIEWS_READ_URL (issue 15): the settings a server reads its views with — the
replica's server, the same database and schema — for its own books and its bureaus' on the
same server; nothing but a PostgreSQL replica of a PostgreSQL store is taken."""

from __future__ import annotations

import pytest

from api.settings import Settings


def test_the_replica_setting_reads_the_views_there_and_nothing_else() -> None:
    primary = "postgresql://postgres@db1:5432/fundledger"
    replica = "postgresql://postgres@db1-replica:5432/fundledger"
    plain = Settings(database_url=primary, postgres_schema="xz")
    assert plain.views_reading() is plain and not plain.reads_replica
    settings = Settings(database_url=primary, postgres_schema="xz", views_read_url=replica,
                        bureau="XZ", bureau_database_urls={"XZ-PZ": "postgresql://db2/books"})
    reading = settings.views_reading()
    assert (reading.database_url, reading.postgres_schema) == (replica, "xz")
    assert settings.database_url == primary  # the ledger and the view runner stay there
    county = settings.for_bureau("XZ-TS").views_reading()
    assert (county.database_url, county.postgres_schema) == (replica, "xz_b_xz_ts")
    elsewhere = settings.for_bureau("XZ-PZ")  # its own server: no replica of it configured
    assert elsewhere.views_reading().database_url == "postgresql://db2/books"


@pytest.mark.parametrize(("database_url", "views_read_url"), [
    ("sqlite:///var/fundledger.db", "postgresql://postgres@db1-replica/fundledger"),
    ("postgresql://postgres@db1/fundledger", "sqlite:///var/replica.db"),
])
def test_a_replica_of_anything_but_postgresql_is_refused(database_url: str,
                                                         views_read_url: str) -> None:
    with pytest.raises(ValueError, match="FUNDLEDGER_VIEWS_READ_URL"):
        Settings(database_url=database_url, views_read_url=views_read_url)
