"""The language of an API answer's text for people: a `lang` query parameter (zh | en) if
given, else the request's Accept-Language (the most preferred of zh and en), else English.
Codes and figures never change with it; only titles and reasons do."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request

Language = Literal["zh", "en"]
LangQuery = Annotated[Language | None, Query(
    description="Language of reasons and titles: zh or en (default: Accept-Language, else en)")]


def request_language(request: Request, lang: Language | None = None) -> Language:
    if lang is not None:
        return lang
    best: tuple[float, Language] | None = None
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        found: Language | None = "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if found is None:
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if best is None or quality > best[0]:
            best = (quality, found)
    return best[1] if best is not None and best[0] > 0 else "en"
