"""The dashboard's pages, one router: overview, schools, a school, rural support, balanced
development, carry-over, changes, audit, findings, import (each in its own module).

Every page is rendered on the server from the same views the API reads, and every page
takes `as_of=YYYY-MM-DD` to show the books as they stood on that date; what every page needs
(who asks, language, year, rendering) is api/dashboard/pages.py. A new page is a new module
with its own `router`, listed here.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from api.dashboard import (
    audit,
    books,
    changes,
    findings_page,
    imports,
    periods,
    reports,
    session,
)
from api.dashboard.pages import LoginNeeded, to_login_page
from api.dashboard.workplace import pages as workplace
from api.dashboard.workplace.csrf import csrf_guard

PAGE_MODULES = (session, books, reports, changes, periods, audit, findings_page, imports,
                workplace)

# Every POST of every page proves it comes from a page of a live session (workplace/csrf.py).
router = APIRouter(dependencies=[Depends(csrf_guard)])
for _module in PAGE_MODULES:
    router.include_router(_module.router)


def install(app: FastAPI) -> None:
    """Every page (these and the tranches' and bureaus' routers) asked without a live login
    answers with the way to the login page (pages.page_actor)."""
    app.add_exception_handler(LoginNeeded, to_login_page)
