"""The operator's verbs on one bureau's books (`--bureau CODE`) or on every bureau's
(`migrate|verify --all-bureaus`), opened as the server opens them (issue 15), on both stores."""

from __future__ import annotations

from pathlib import Path

from api.settings import Settings
from projections.database import ViewDatabase
from projections.journal import events_table_name
from tests.bureaus.conftest import CITY, PEI, TONGSHAN, YEAR, City, run, verified


def test_each_operator_verb_opens_the_named_bureaus_books(operator: City, tmp_path: Path) -> None:
    code, out = run("verify", "--bureau", TONGSHAN)
    assert code == 0, out
    tongshan = verified(out)
    code, out = run("verify", "--bureau", PEI)
    assert code == 0, out
    pei = verified(out)
    code, out = run("verify")  # the default bureau, as before
    assert code == 0, out
    assert len({tongshan, pei, verified(out)}) == 3  # three books, not one read three times
    assert tongshan > pei
    for args in (("migrate",), ("rebuild",), ("reconcile",), ("digest", "--out", str(tmp_path / "d.json")),
                 ("digests",), ("replay", "--position", "5"), ("findings", "--year", str(YEAR)),
                 ("report", "rural-support", "--year", str(YEAR))):
        code, out = run(*args, "--bureau", TONGSHAN)
        assert code == 0, (args, out)
    code, out = run("export", "balances", "--year", str(YEAR), "--bureau", TONGSHAN)
    assert code == 0, out
    assert "TS-0001" in out
    code, out = run("export", "balances", "--year", str(YEAR), "--bureau", PEI)
    assert code == 0, out
    assert "TS-0001" not in out  # Pei's books know nothing of Tongshan's school
    code, out = run("digests", "--bureau", TONGSHAN)
    assert "Digests signed so far (1)" in out, out
    code, out = run("digests", "--bureau", PEI)
    assert "Digests signed so far (0)" in out, out


def test_an_unknown_bureau_is_refused_in_one_line_and_nothing_opened(operator: City) -> None:
    books = sorted(Path(operator.settings.database_url.split(":///", 1)[1]).parent.iterdir()) \
        if not operator.settings.is_postgres else []
    for args in (("verify",), ("migrate",), ("rebuild",), ("reconcile",), ("digest",), ("digests",),
                 ("replay", "--position", "1"), ("findings", "--year", str(YEAR)),
                 ("export", "journal", "--year", str(YEAR))):
        code, out = run(*args, "--bureau", "NOPE")
        assert code == 2, (args, out)
        assert "bureau_not_found" in out and "NOPE" in out, (args, out)
        assert "Traceback" not in out
    if not operator.settings.is_postgres:
        assert sorted(Path(operator.settings.database_url.split(":///", 1)[1]).parent.iterdir()) == books
    code, out = run("verify", "--bureau", TONGSHAN, "--all-bureaus")
    assert code == 2, out
    assert "not both" in out


def test_all_bureaus_walks_every_bureau_and_fails_if_one_does(operator: City) -> None:
    for verb in ("migrate", "verify"):
        code, out = run(verb, "--all-bureaus")
        assert code == 0, out
        assert [line for line in out.splitlines() if line.startswith("bureau ")] == [
            f"bureau {CITY} (1/3)", f"bureau {PEI} (2/3)", f"bureau {TONGSHAN} (3/3)"]
        assert "all 3 bureau(s) done" in out
    assert out.count("ok: ") == 3
    _flip_first_event(operator.settings.for_bureau(PEI))
    code, out = run("verify", "--all-bureaus")
    assert code == 1, out
    assert "TAMPERED" in out
    assert out.count("ok: ") == 2  # the others were still verified, after Pei failed
    assert f"1 of 3 bureau(s) failed: {PEI}" in out


def _flip_first_event(settings: Settings) -> None:
    """What a forger with SQL access to one bureau's books could do."""
    db = ViewDatabase.open(settings)
    try:
        table = events_table_name(db)
        column = "notification_id" if db.is_postgres else "rowid"
        state = bytearray(db.rows(f"SELECT state FROM {table} WHERE {column} = 1")[0][0])
        state[10] ^= 0x01
        with db.transaction():
            db.execute(f"UPDATE {table} SET state = ? WHERE {column} = 1", (bytes(state),))
    finally:
        db.close()
