"""The bureau-level verbs that write and read the books act on the bureau `--bureau` names and
on no other (issue 15): periods and changes, the book-writing verbs, import, keys, backup and
restore, tranches; on both stores."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg import sql

from api.settings import Settings
from tests.bureaus.conftest import CITY, PEI, TONGSHAN, YEAR, City, run, verified

MONTH = f"{YEAR}-06"


def events(bureau: str) -> int:
    code, out = run("verify", "--bureau", bureau)
    assert code == 0, out
    return verified(out)


def new_token(bureau: str, user: str, role: str) -> str:
    code, out = run("users", "add", user, "--role", role, "--bureau", bureau)
    assert code == 0, out
    return out.strip().splitlines()[-1]


def test_a_month_closed_in_one_bureau_is_closed_there_and_open_in_the_others(operator: City) -> None:
    second = new_token(TONGSHAN, "ts.approver2", "approver")
    code, out = run("periods", "close", MONTH, "--token", operator.tokens["ts.approver"],
                    "--reason", "月结", "--bureau", TONGSHAN)
    assert code == 0, out
    change = re.search(r"change ([0-9a-f-]{36})", out)
    assert change is not None, out
    code, out = run("rebuild", "--bureau", TONGSHAN)
    assert code == 0, out
    code, out = run("changes", "list", "--token", second, "--bureau", TONGSHAN)
    assert code == 0, out
    assert "月结" in out  # the change's reason (the table wraps its id)
    code, out = run("changes", "approve", change.group(1), "--token", second, "--bureau", TONGSHAN)
    assert code == 0, out
    for bureau, closed in ((TONGSHAN, True), (PEI, False), (CITY, False)):
        code, out = run("periods", "list", "--bureau", bureau)
        assert code == 0, out
        assert (MONTH in out) is closed, (bureau, out)
    # Tongshan's token means nothing in Pei's books.
    code, out = run("periods", "close", MONTH, "--token", second, "--bureau", PEI)
    assert code != 0, out
    assert "Traceback" not in out


def test_the_book_writing_verbs_and_import_write_the_named_bureaus_books(
        operator: City, tmp_path: Path) -> None:
    before = {bureau: events(bureau) for bureau in (CITY, TONGSHAN, PEI)}
    officer = operator.tokens["px.officer"]
    code, out = run("school", "register", "PX-0001", "--name", "沛县实验小学", "--district", "沛县",
                    "--level", "primary", "--locale", "town", "--students", "200",
                    "--token", officer, "--bureau", PEI)
    assert code == 0, out
    code, out = run("fund", "open", "PX-PUB", "--name", "生均公用经费", "--fiscal-year", str(YEAR),
                    "--amount", "5000.00", "--source", "county", "--category", "public_operating",
                    "--token", officer, "--bureau", PEI)
    assert code == 0, out
    sheet = tmp_path / "allocations.csv"
    sheet.write_text("school,fund,amount_major,purpose,effective_date,unit\n"
                     f"PX-0001,PX-PUB,1000.00,秋季公用经费,{YEAR}-09-01,CNY\n", encoding="utf-8")
    code, out = run("import", str(sheet), "--token", officer, "--bureau", PEI)
    assert code == 0, out
    assert "applied 1 allocation" in out
    after = {bureau: events(bureau) for bureau in (CITY, TONGSHAN, PEI)}
    assert after[PEI] > before[PEI]
    assert (after[CITY], after[TONGSHAN]) == (before[CITY], before[TONGSHAN])
    code, out = run("rebuild", "--bureau", PEI)
    assert code == 0, out
    code, out = run("export", "journal", "--year", str(YEAR), "--bureau", PEI)
    assert "px.officer,officer,Allocation proposed" in out, out
    code, out = run("export", "journal", "--year", str(YEAR), "--bureau", TONGSHAN)
    assert "px.officer" not in out, out


def test_a_tranche_is_read_from_the_named_bureaus_books(operator: City) -> None:
    args = ("tranche", "preview", "--fund", "NO-SUCH-FUND", "--snapshot", "spring",
            "--token", operator.tokens["ts.officer"])
    code, out = run(*args, "--bureau", TONGSHAN)  # signed in; the fund is unknown there
    assert code == 2, out
    assert "unauthenticated" not in out and "NO-SUCH-FUND" in out, out
    code, out = run(*args, "--bureau", PEI)  # Tongshan's officer is nobody in Pei
    assert code != 0, out
    assert "NO-SUCH-FUND" not in out, out


def test_a_key_rotated_in_one_bureau_is_on_record_there_only(operator: City) -> None:
    code, out = run("keys", "rotate", "--by", "px.admin", "--reason", "年度轮换", "--generate",
                    "--bureau", PEI)
    assert code == 0, out
    fingerprint = re.search(r"-> (\S+) \(by", out)
    assert fingerprint is not None, out
    assert f"bureaus/{PEI}" in out.replace("\n", "")  # Pei's own key directory
    code, out = run("keys", "list", "--bureau", PEI)
    assert code == 0, out
    assert fingerprint.group(1) in out
    for bureau in (TONGSHAN, CITY):
        code, out = run("keys", "list", "--bureau", bureau)
        assert code == 0, out
        assert fingerprint.group(1) not in out


def test_a_backup_of_one_bureau_restores_its_events_into_that_bureau(
        operator: City, tmp_path: Path) -> None:
    backup = tmp_path / "tongshan.tar"
    code, out = run("backup", "--out", str(backup), "--bureau", TONGSHAN)
    assert code == 0, out
    tongshan, city = events(TONGSHAN), events(CITY)
    assert tongshan != city
    assert f"{tongshan:,} events" in " ".join(out.split())  # the console wraps lines
    code, out = run("restore", str(backup), "--bureau", PEI)  # Pei's books are not empty
    assert code != 0, out
    _lose_books(operator.settings.for_bureau(TONGSHAN))
    code, out = run("restore", str(backup), "--bureau", TONGSHAN)
    assert code == 0, out
    assert (events(TONGSHAN), events(CITY)) == (tongshan, city)


def _lose_books(books: Settings) -> None:
    """What a lost disk or a dropped schema does to one bureau's books."""
    if books.is_postgres:
        with psycopg.connect(books.database_url, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(
                sql.Identifier(books.postgres_schema)))
        return
    path = Path(books.database_url.split(":///", 1)[1])
    for file in path.parent.glob(f"{path.name}*"):
        file.unlink()


def test_an_unknown_bureau_is_refused_in_one_line(operator: City, tmp_path: Path) -> None:
    sheet, backup = tmp_path / "x.csv", tmp_path / "x.tar"
    sheet.write_text("school,fund,amount_major,purpose\n", encoding="utf-8")
    backup.write_bytes(b"")
    for args in (("backup",), ("restore", str(backup)), ("import", str(sheet), "--token", "t"),
                 ("keys", "list"), ("keys", "rotate", "--by", "a", "--reason", "b"),
                 ("periods", "list"), ("periods", "close", MONTH, "--token", "t"),
                 ("changes", "list", "--token", "t"),
                 ("changes", "approve", "00000000-0000-0000-0000-000000000000", "--token", "t"),
                 ("school", "register", "S", "--name", "n", "--district", "d", "--level",
                  "primary", "--locale", "town", "--students", "1", "--token", "t"),
                 ("tranche", "preview", "--fund", "F", "--snapshot", "s", "--token", "t")):
        code, out = run(*args, "--bureau", "NOPE")
        assert code == 2, (args, out)
        assert "bureau_not_found" in out and "NOPE" in out, (args, out)
        assert "Traceback" not in out
