"""Every page of the workplace, in one router for the app to include."""

from __future__ import annotations

from fastapi import APIRouter

from api.dashboard.workplace import (
    home,
    officer_forms,
    queue,
    record_actions,
    records,
    sheet_import,
    year_end,
)

router = APIRouter()
for part in (home.router, officer_forms.router, records.router, record_actions.router,
             queue.router, sheet_import.router, year_end.router):
    router.include_router(part)
