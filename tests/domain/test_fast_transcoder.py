"""The orjson reader (domain/transcodings.py FastJSONTranscoder) gives exactly what the
library's JSON transcoder gives, for anything the library's writer wrote."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.actors import Stamp
from domain.ledger import FundLedger
from domain.transcodings import FastJSONTranscoder
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


def test_lookalikes_and_unknown_types() -> None:
    library, fast = _pair()
    for state in ({"a": {"_type_": "uuid_hex"}}, {"_type_": 1, "_data_": 2, "x": 3},
                  {"a": [{"_type_": "uuid_hex", "_data_": UUID(int=7).hex}]}):
        data = library.encode(state)
        assert fast.decode(data) == library.decode(data)
    with pytest.raises(TranscodingNotRegisteredError):
        fast.decode(b'{"a":{"_type_":"nope","_data_":1}}')
