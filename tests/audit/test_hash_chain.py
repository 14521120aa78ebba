"""Property: whatever single change a forger makes to a stored event sequence, `verify` names
the exact position and kind; an unchanged sequence always verifies."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.hash_chain import GENESIS, EventTable, chain_head, extend, link, verify

Event = tuple[int, bytes, int, str, bytes]


def _store(events: list[Event]) -> EventTable:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
                       "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))")
    connection.executemany("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, "
                           "state) VALUES (?, ?, ?, ?, ?)",
                           [(p, o.hex(), v, t, s) for p, o, v, t, s in events])
    return EventTable(connection, "stored_events", is_sqlite=True)


def _events(states: list[bytes], gaps: list[int]) -> list[Event]:
    position = 0
    events = []
    for index, state in enumerate(states):
        position += 1 + gaps[index % len(gaps)]
        events.append((position, uuid4().bytes, 1 + index % 3, f"domain.x:Thing.Happened{index % 4}",
                       state))
    return events


def _recorded(events: list[Event]) -> list[list[tuple[int, str]]]:
    links = extend(GENESIS, events)
    return [[(p, h.hex()) for p, h in links]]


def _identify(events: list[Event]) -> Callable[[int], tuple[bytes, int] | None]:
    by_position = {p: (o, v) for p, o, v, _t, _s in events}
    return by_position.get


histories = st.tuples(
    st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=40),
    st.lists(st.integers(0, 2), min_size=1, max_size=5),  # gaps the store may legitimately have
)


@settings(max_examples=60, deadline=None)
@given(histories)
def test_an_unchanged_history_verifies(history: tuple[list[bytes], list[int]]) -> None:
    events = _events(*history)
    result = verify(_store(events), _recorded(events), events[-1][0], _identify(events))
    assert (result.ok, result.checked, result.head_position) == (True, len(events), events[-1][0])
    assert chain_head(_store(events), events[-1][0])[2] == result.head_hash


@settings(max_examples=80, deadline=None)
@given(histories, st.data())
def test_one_change_is_found_at_its_position(history: tuple[list[bytes], list[int]],
                                             data: st.DataObject) -> None:
    events = _events(*history)
    recorded = _recorded(events)
    target = data.draw(st.integers(0, len(events) - 1))
    position, originator_id, version, topic, state = events[target]
    change = data.draw(st.sampled_from(["flip", "delete", "insert", "topic", "version"]))
    tampered = list(events)
    if change == "flip":
        offset = data.draw(st.integers(0, len(state) - 1))
        flipped = bytearray(state)
        flipped[offset] ^= 1 << data.draw(st.integers(0, 7))
        tampered[target] = (position, originator_id, version, topic, bytes(flipped))
        expected = (position, "altered")
    elif change == "topic":
        tampered[target] = (position, originator_id, version, topic + "X", state)
        expected = (position, "altered")
    elif change == "version":
        tampered[target] = (position, originator_id, version + 1, topic, state)
        expected = (position, "inserted")  # another identity stands where the recorded one stood
    elif change == "delete":
        del tampered[target]
        expected = (position, "removed")
    else:
        # A forged event takes this position; this one and the later ones move up by one.
        forged = (position, uuid4().bytes, 1, topic, state)
        tampered = [*events[:target], forged,
                    *[(p + 1, o, v, t, s) for p, o, v, t, s in events[target:]]]
        expected = (position, "inserted")
    result = verify(_store(tampered), recorded, events[-1][0], _identify(events))
    assert not result.ok
    assert (result.first_bad_position, result.problem) == expected
    assert result.checked == target
    # What a digest of the last position would have caught, without the journal:
    assert chain_head(_store(tampered), events[-1][0])[2] != extend(GENESIS, events)[-1][1].hex()


def test_the_link_covers_every_part_of_the_stored_event() -> None:
    base = (7, uuid4().bytes, 3, "domain.fund:Fund.Opened", b'{"amount":100}')
    links = {link(GENESIS, *base)}
    for changed in ((8, *base[1:]), (base[0], uuid4().bytes, *base[2:]), (*base[:2], 4, *base[3:]),
                    (*base[:3], "domain.fund:Fund.Closed", base[4]), (*base[:4], b'{"amount":101}')):
        links.add(link(GENESIS, *changed))
    links.add(link(b"\x01" * 32, *base))
    assert len(links) == 7
