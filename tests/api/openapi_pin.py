"""The OpenAPI document pinned whole (tests/api/openapi.json, checked by tests/api/test_contract.py),
and the one command that pins it again: `make openapi-pin` (`python -m tests.api.openapi_pin`).
The document is the contract clients are written to (DESIGN §6): pin it again only for a change
made on purpose, and say so.

Written one leaf a line with sorted keys, the document is 1.8 MB, and more than half of it is the
nine problem answers every /v1 operation repeats (each inlines the Problem schema). The pin
writes each status's common problem answer once, under `shared_responses`, and an operation
refers to it as `{"$shared_response": "404"}`; `expanded` gives the document back exactly (a
test checks it). So the file is about a third of the size, and a change to a problem answer
reads as one hunk instead of a thousand.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PIN = Path(__file__).with_name("openapi.json")
UPDATE = "make openapi-pin"
SHARED = "$shared_response"
PROBLEM_JSON = "application/problem+json"
ABOUT = ("The OpenAPI document (GET /openapi.json), pinned by tests/api/test_contract.py: keys "
         "sorted; each status's common problem answer is written once under shared_responses and "
         'referred to as {"$shared_response": status}. A change here is a contract change '
         f"(DESIGN §6). Written by `{UPDATE}`; never edit by hand.")
CHANGES_SHOWN_MAX = 40
DIFF_LINES_SHOWN_MAX = 80


def document() -> dict[str, Any]:
    """The document as the API serves it (a placeholder store: building it opens nothing)."""
    from api.app import create_app  # noqa: PLC0415
    from api.settings import Settings  # noqa: PLC0415

    return create_app(Settings(database_url="sqlite:///./var/openapi-only.db")).openapi()


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2)


def _responses(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            yield operation.get("responses", {})


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """The pinned form of `document`: each status's most common problem answer written once."""
    variants: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for responses in _responses(document):
        for status, answer in responses.items():
            if PROBLEM_JSON in answer.get("content", {}):
                variants[status][_text(answer)] += 1
    # A tie goes to the first text in sorted order, so the pin never follows the routes' order.
    shared = {status: min(counts, key=lambda text: (-counts[text], text))
              for status, counts in variants.items()}
    pinned = copy.deepcopy(document)
    for responses in _responses(pinned):
        for status, answer in responses.items():
            if status in shared and _text(answer) == shared[status]:
                responses[status] = {SHARED: status}
    return {"about": ABOUT, "document": pinned,
            "shared_responses": {status: json.loads(text) for status, text in shared.items()}}


def expanded(pinned: dict[str, Any]) -> dict[str, Any]:
    """The document a pin stands for."""
    document = copy.deepcopy(pinned["document"])
    for responses in _responses(document):
        for status, answer in responses.items():
            if set(answer) == {SHARED}:
                responses[status] = copy.deepcopy(pinned["shared_responses"][answer[SHARED]])
    return document


def canonical(document: dict[str, Any]) -> str:
    """The pin's text: the same for the same document in every process (keys sorted)."""
    return _text(normalised(document)) + "\n"


def _changes(old: Any, new: Any, where: tuple[str, ...] = ()) -> Iterator[str]:
    """Where two JSON values differ, each place named by its keys (e.g. paths › /v1/funds › post)."""
    here = " › ".join(where) or "(the whole file)"
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            if key not in new:
                yield f"removed {here} › {key}"
            elif key not in old:
                yield f"added   {here} › {key}"
            else:
                yield from _changes(old[key], new[key], (*where, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _changes(a, b, (*where, f"[{index}]"))
    elif old != new:
        yield f"changed {here}: {json.dumps(old, ensure_ascii=False)[:80]} → " \
              f"{json.dumps(new, ensure_ascii=False)[:80]}"


def why_not_pinned(pinned_text: str, now_text: str) -> str:
    """The failure a maintainer reads: what it means, how to pin again, and what changed."""
    lines = [
        f"The OpenAPI document is not the pinned one ({PIN.relative_to(PIN.parents[2])}).",
        "The document is the contract clients are written to (DESIGN §6): any change to it is a",
        "contract change, also one a refactor or a dependency upgrade (FastAPI, pydantic) made.",
        f"If it is deliberate, pin it again: `{UPDATE}` (or `.venv/bin/python -m tests.api.openapi_pin`),",
        "review `git diff tests/api/openapi.json`, and name the contract change in the commit",
        "message (and docs/api.md). If it is not, undo what changed the document.",
    ]
    try:
        changes = list(_changes(json.loads(pinned_text), json.loads(now_text)))
    except json.JSONDecodeError:
        changes = ["the pinned file is missing or not JSON"]
    lines += ["", f"What changed ({len(changes)} places, pinned → now):"]
    lines += [f"  {change}" for change in changes[:CHANGES_SHOWN_MAX]]
    if len(changes) > CHANGES_SHOWN_MAX:
        lines.append(f"  … and {len(changes) - CHANGES_SHOWN_MAX} more")
    if not changes:
        lines.append("  nothing: the same document, but the file is not in the pin's layout")
    diff = list(difflib.unified_diff(pinned_text.splitlines(), now_text.splitlines(),
                                     "pinned", "now", lineterm=""))
    shown = f", the first {DIFF_LINES_SHOWN_MAX}" if len(diff) > DIFF_LINES_SHOWN_MAX else ""
    lines += ["", f"The text ({len(diff)} diff lines{shown}):"]
    lines += diff[:DIFF_LINES_SHOWN_MAX]
    return "\n".join(lines)


def main() -> None:
    PIN.write_text(canonical(document()), encoding="utf-8")
    print(f"pinned the OpenAPI document in {PIN}: review it with `git diff tests/api/openapi.json`; "
          "a change to it is a contract change (DESIGN §6)")


if __name__ == "__main__":
    main()
