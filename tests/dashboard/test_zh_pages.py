"""Every page in Chinese, as the auditor and the officer see them: no label key left
untranslated (⟦key⟧), no event or record named in English (`Allocation.Spent`), no English
label, and each role's menu shows only the pages it can use. Plain HTTP against the demo
server: no browser needed to read the words."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from api.dashboard.i18n import LABELS
from domain.terms import ENTITY_TYPES, EVENTS, INTERNAL_ENTITY_TYPES, event_name
from tests.dashboard.conftest import DemoServer
from tests.dashboard_login import dashboard_cookies

PAGES = ("/dashboard", "/dashboard/schools", "/dashboard/rural", "/dashboard/audit",
         "/dashboard/findings", "/dashboard/imports")
_KIND = re.compile(r"\b(?:School|Fund|Allocation|Expenditure|VoucherNumber|IdempotencyRecord|"
                   r"AccessToken|UserAccount)\.[A-Z][A-Za-z]+\b")


def _text(page: str) -> str:
    """What a person reads: no tags, no code spans (codes and hashes), no scripts or charts."""
    page = re.sub(r"<(script|style|svg|code|small)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def _get(server: DemoServer, path: str, role: str, language: str = "zh", **params: object) -> str:
    cookies = {**dashboard_cookies(server.url, server.tokens[role]), "fundledger_lang": language}
    response = httpx.get(f"{server.url}{path}", params={"year": server.fiscal_year, **params},
                         cookies=cookies, timeout=60)
    # A page the role may not see is still a page a person reads: the refusal, answered 403.
    refused = response.status_code == 403 and 'id="denied"' in response.text
    assert response.status_code == 200 or refused, (path, response.status_code)
    return response.text


def _school_page(server: DemoServer) -> str:
    rows = server.api("/v1/schools", limit=1)["items"]
    return f"/dashboard/schools/{rows[0]['code']}"


def test_every_event_the_domain_defines_has_a_name_in_both_languages() -> None:
    from eventsourcing.domain import Aggregate  # noqa: PLC0415

    import domain.ledger  # noqa: F401, PLC0415  (every aggregate class, loaded)

    def aggregates(root: type) -> list[type]:
        return [*root.__subclasses__(), *(a for c in root.__subclasses__() for a in aggregates(c))]

    # A base that other aggregates derive from (KeyedAggregate, SchoolBook) is never stored as
    # itself: its subclasses' events are, under their own names.
    bases = {aggregate for aggregate in aggregates(Aggregate)
             if any(sub.__module__.startswith("domain.") for sub in aggregate.__subclasses__())}
    kinds = {f"{event.__qualname__}" for aggregate in aggregates(Aggregate)
             if aggregate.__module__.startswith("domain.") and aggregate not in bases
             for event in vars(aggregate).values()
             if isinstance(event, type) and issubclass(event, Aggregate.Event)
             and event.__qualname__.startswith(f"{aggregate.__name__}.")
             # the library's own base classes of each aggregate, never stored as such
             and event.__name__ not in ("Event", "Created")}
    # An aggregate's creation event is stored under the name its __init__ gives it, and that
    # name may be `Created` itself (BureauTree's): the library knows which class each uses.
    from eventsourcing.domain import _created_event_classes  # noqa: PLC0415

    kinds |= {created.__qualname__ for aggregate, classes in _created_event_classes.items()
              if aggregate.__module__.startswith("domain.") and aggregate not in bases
              for created in classes}
    assert kinds, "no events found"
    missing = sorted(k for k in kinds if k not in EVENTS)
    assert not missing, f"events without a name in domain/terms.py: {missing}"
    assert all(k.split(".")[0] in ENTITY_TYPES for k in kinds)
    for language in (0, 1):  # the audit page's filter offers each kind by its name
        names = [EVENTS[k][language] for k in sorted(kinds)]
        assert len(set(names)) == len(names), sorted({n for n in names if names.count(n) > 1})
    assert event_name("Allocation.Spent", "zh") == "拨款支用"


@pytest.mark.parametrize("role", ["auditor", "officer"])
def test_every_page_in_chinese_has_no_untranslated_word(demo_server: DemoServer, role: str) -> None:
    english_labels = {en for key, (zh, en) in LABELS.items() if zh != en and len(en) > 4
                      and key not in ("app",)}
    paths = [*PAGES, _school_page(demo_server)]
    for path in paths:
        page = _get(demo_server, path, role)
        text = _text(page)
        assert "⟦" not in text, (path, re.findall(r"⟦\w+⟧", text))
        assert not _KIND.findall(text), (path, _KIND.findall(text)[:5])
        words = {w for w in english_labels if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)}
        assert not words, (path, sorted(words)[:5])


def test_each_role_sees_only_the_pages_it_can_use(demo_server: DemoServer) -> None:
    def menu(role: str) -> set[str]:
        return set(re.findall(r'data-nav="(\w+)"', _get(demo_server, "/dashboard", role)))

    assert menu("auditor") >= {"audit", "findings"} and "imports" not in menu("auditor")
    assert "imports" in menu("officer") and not menu("officer") & {"audit", "findings"}
    assert not menu("reader") & {"audit", "findings", "imports"}


def test_the_journal_shows_the_years_business_and_internal_records_on_request(
        demo_server: DemoServer) -> None:
    def kinds_and_days(**params: str) -> list[tuple[str, str]]:
        cookies = {**dashboard_cookies(demo_server.url, demo_server.tokens["auditor"]),
                   "fundledger_lang": "zh"}
        page = httpx.get(f"{demo_server.url}/dashboard/audit", cookies=cookies, timeout=60,
                         params={"year": demo_server.fiscal_year, **params}).text
        return re.findall(r'<td class="d">([^<]*)</td><td>[^<]*</td><td data-kind="(\w+)">', page)

    business = kinds_and_days()
    assert business
    assert not {kind for _, kind in business} & INTERNAL_ENTITY_TYPES
    assert all(day.startswith(str(demo_server.fiscal_year)) for day, _ in business)
    everything = kinds_and_days(internal="true")
    assert {kind for _, kind in everything} & INTERNAL_ENTITY_TYPES


def test_a_schools_timeline_comes_in_pages(demo_server: DemoServer) -> None:
    path = _school_page(demo_server)
    first = _get(demo_server, path, "auditor")
    entries = re.findall(r"<li><time>", first)
    assert 0 < len(entries) <= 100
    if 'id="timeline-next"' in first:
        second = _get(demo_server, path, "auditor", timeline_page=1)
        assert 'id="timeline-previous"' in second
        assert re.findall(r'#(\d+)</code></li>', second)[0] != re.findall(r'#(\d+)</code></li>', first)[0]


def test_the_charts_name_their_unit(demo_server: DemoServer) -> None:
    assert _get(demo_server, "/dashboard", "auditor").count("金额（元）") >= 2  # both charts
    assert "生均（元）" in _get(demo_server, "/dashboard/rural", "auditor")
    assert "Amount (yuan)" in _get(demo_server, "/dashboard", "auditor", language="en")
