"""The orjson reader (domain/transcodings.py FastJSONTranscoder) gives exactly what the
library's JSON transcoder gives, for anything the library's writer wrote; its writer writes
exactly the bytes the library's writer writes, for anything."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.actors import Stamp
from domain.allocation import Status
from domain.ledger import FundLedger
from domain.transcodings import FastJSONTranscoder, IdWithText, shared_values
from tests.conftest import TODAY


def _pair() -> tuple[JSONTranscoder, FastJSONTranscoder]:
    app = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: TODAY)
    assert type(app.mapper.transcoder) is FastJSONTranscoder  # what the ledger reads with
    library = JSONTranscoder()
    app.register_transcodings(library)
    return library, app.mapper.transcoder


stamps = st.builds(Stamp, st.text(max_size=8), st.sampled_from(["officer", "approver"]), st.dates(),
                   st.none() | st.text(max_size=8), st.text(max_size=8))
leaves = (st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=12)
          | st.uuids() | st.dates() | st.datetimes() | stamps)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(state=st.dictionaries(st.text(max_size=8), values, max_size=6))
def test_the_fast_reader_reads_what_the_library_reads(state: dict[str, Any]) -> None:
    library, fast = _pair()
    data = library.encode(state)
    assert fast.decode(data) == library.decode(data)


@settings(max_examples=200, deadline=None)
@given(states=st.lists(st.dictionaries(st.text(max_size=8), values, max_size=6), max_size=4))
def test_a_page_reads_what_the_library_reads_sharing_ids_and_days(
        states: list[dict[str, Any]]) -> None:
    """A page's states read with one table of shared values (decode_sharing, as the views
    read) equal the library's reading, each id keeping its text; equal ids are one object."""
    library, fast = _pair()
    shared = shared_values()
    for state in states:
        data = library.encode(state)
        read = fast.decode_sharing(data, shared)
        assert read == library.decode(data)
        assert _texts(read) == _texts(library.decode(data))
    for known in shared.values():
        for text, value in known.items():
            assert fast.decode_sharing(library.encode({"v": value}), shared)["v"] is value, text


def _texts(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_texts(v) for v in value]
    return (type(value).__mro__[-2].__name__, str(value), repr(value) if not isinstance(value, UUID)
            else value.hex)


def test_an_id_with_its_text_is_the_uuid() -> None:
    uuid = UUID(int=2**100 + 7)
    kept = IdWithText(uuid)
    assert kept == uuid and uuid == kept and hash(kept) == hash(uuid)
    assert str(kept) == str(uuid) and kept.hex == uuid.hex and kept.int == uuid.int
    assert {uuid: 1}[kept] == 1
    assert type(pickle.loads(pickle.dumps(kept))) is UUID
    assert pickle.loads(pickle.dumps(kept)) == uuid
    assert copy.copy(kept) == uuid
    with pytest.raises(TypeError):
        kept.int = 1  # type: ignore[misc]
    written = _LIBRARY.encode({"v": uuid})  # as stored, should a read event be written again
    assert _LIBRARY.encode({"v": kept}) == written and _FAST.encode({"v": kept}) == written
    assert type(_FAST.decode(written)["v"]) is UUID


def test_lookalikes_and_unknown_types() -> None:
    library, fast = _pair()
    for state in ({"a": {"_type_": "uuid_hex"}}, {"_type_": 1, "_data_": 2, "x": 3},
                  {"a": [{"_type_": "uuid_hex", "_data_": UUID(int=7).hex}]}):
        data = library.encode(state)
        assert fast.decode(data) == library.decode(data)
    with pytest.raises(TranscodingNotRegisteredError):
        fast.decode(b'{"a":{"_type_":"nope","_data_":1}}')


class _Level(IntEnum):
    LOW = 1


# What events hold, tuples included; and, at most one per state (one is enough to send the whole
# state to the library's writer), what the fast writer leaves to the library's writer: floats,
# subclasses of JSON types, ints beyond 64 bits, keys that are not text.
plain_values = st.recursive(leaves | st.decimals(allow_nan=False)
                            | st.datetimes(timezones=st.just(UTC)),
                            lambda inner: st.lists(inner, max_size=4)
                            | st.lists(inner, max_size=3).map(tuple)
                            | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                            max_leaves=20)
odd_leaves = (st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(list(Status))
              | st.just(_Level.LOW) | st.integers(-(2**70), 2**70))
odd_values = (odd_leaves | odd_leaves.map(lambda v: [1, v]) | odd_leaves.map(lambda v: {"k": [v]})
              | st.dictionaries(st.integers(0, 9) | st.booleans() | st.none(), st.text(max_size=3),
                                min_size=1, max_size=2))
_LIBRARY, _FAST = _pair()


@settings(max_examples=400, deadline=None)
@given(state=st.dictionaries(st.text(max_size=8), plain_values, max_size=6),
       odd=st.none() | odd_values, key=st.text(max_size=8))
def test_the_fast_writer_writes_the_bytes_the_library_writes(state: dict[str, Any], odd: Any,
                                                             key: str) -> None:
    if odd is not None:
        state[key] = odd
    # Equal bytes, so the library's reader and ours read them as they read the library's.
    assert _FAST.encode(state) == _LIBRARY.encode(state)


def test_the_fast_writer_refuses_what_the_library_refuses() -> None:
    circular: dict[str, Any] = {}
    circular["self"] = circular
    for state, error in (({"a": object()}, TranscodingNotRegisteredError),
                         ({"a": "\ud800"}, UnicodeEncodeError), (circular, ValueError)):
        with pytest.raises(error):
            _LIBRARY.encode(state)
        with pytest.raises(error):
            _FAST.encode(state)


def test_an_events_state_is_written_without_the_librarys_writer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What events hold (text, integers, UUIDs, dates, stamps, lists) never needs the
    library's writer, so the fast path is the one taken."""
    stamp = Stamp("olga.officer", "officer", TODAY, "k", "")
    state = {"timestamp": datetime(2025, 3, 2, 8, 30, tzinfo=UTC), "originator_topic": "t",
             "expenditure_id": UUID(int=5), "amount": 100, "stamp": stamp, "spent_on": TODAY,
             "classes": ["goods"], "approved_by": None, "formula": {"pupils": 400}}
    expected = _LIBRARY.encode(state)

    def refuse(self: JSONTranscoder, obj: Any) -> bytes:
        raise AssertionError(obj)

    monkeypatch.setattr(JSONTranscoder, "encode", refuse)
    assert _FAST.encode(state) == expected
