"""Property: whatever single change a forger makes to a stored event sequence, `verify` names
the exact position and kind; an unchanged sequence always verifies."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections import hash_chain
from projections.hash_chain import (
    GENESIS,
    EventTable,
    Verification,
    chain_head,
    extend,
    link,
    verify,
    verify_beside,
)

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


# ---- verify_beside: the journal's way, one join per page, must answer exactly as `verify`

def _store_beside(events: list[Event], recorded: list[tuple[int, str | None]]) -> EventTable:
    store = _store(events)
    store.connection.execute("CREATE TABLE recorded (position BIGINT PRIMARY KEY, hash TEXT)")
    store.connection.executemany("INSERT INTO recorded VALUES (?, ?)", recorded)
    return store


CHANGES = ("none", "flip", "delete", "insert", "topic", "version", "swap", "stored_after_head",
           "link_altered", "link_upper", "link_deleted", "link_added", "link_moved", "link_null",
           "link_split")
Recorded = list[tuple[int, "str | None"]]


def _tamper(events: list[Event], change: str, target: int) -> tuple[list[Event], Recorded]:
    """One change to the stored events (first group) or to the recorded links (`link_…`)."""
    recorded: Recorded = [(p, h.hex()) for p, h in extend(GENESIS, events)]
    position, originator_id, version, topic, state = events[target]
    stored = list(events)
    taken = {p for p, _ in recorded}
    following = target + 1 < len(events)
    if change == "flip":
        stored[target] = (position, originator_id, version, topic, bytes([state[0] ^ 1]) + state[1:])
    elif change == "delete":
        del stored[target]
    elif change == "insert":  # a forged event takes this place; the later ones move up by one
        stored = [*events[:target], (position, uuid4().bytes, 1, topic, state),
                  *[(p + 1, o, v, t, s) for p, o, v, t, s in events[target:]]]
    elif change == "topic":
        stored[target] = (position, originator_id, version, topic + "X", state)
    elif change == "version":
        stored[target] = (position, originator_id, version + 1, topic, state)
    elif change == "swap" and following:  # two neighbours trade places
        stored[target], stored[target + 1] = ((position, *events[target + 1][1:]),
                                              (events[target + 1][0], *events[target][1:]))
    elif change == "stored_after_head":  # not yet journaled: pending, not wrong
        stored.append((events[-1][0] + 1, uuid4().bytes, 1, topic, state))
    elif change == "link_altered":
        recorded[target] = (position, "0" * 64)
    elif change == "link_upper":
        recorded[target] = (position, str(recorded[target][1]).upper())
    elif change == "link_deleted":
        del recorded[target]
    elif change == "link_added" and position - 1 not in taken and position > 1:
        recorded = sorted([*recorded, (position - 1, recorded[target][1])])  # no event behind it
    elif change == "link_moved" and position - 1 not in taken and position > 1:
        recorded[target] = (position - 1, recorded[target][1])
    elif change == "link_null":
        recorded[target] = (position, None)
    elif change == "link_split" and following:  # the same characters, cut elsewhere
        both = str(recorded[target][1]) + str(recorded[target + 1][1])
        recorded[target:target + 2] = [(position, both[:63]), (recorded[target + 1][0], both[63:])]
    return stored, recorded


def _verify_both_ways(events: list[Event], change: str, target: int, page_size: int,
                      monkeypatch: pytest.MonkeyPatch) -> Verification:
    stored, recorded = _tamper(events, change, target)
    head = events[-1][0]
    identify = _identify(events)
    store = _store_beside(stored, recorded)

    def recorded_after(start: int) -> list[Recorded]:
        return [[row for row in recorded if start < row[0] <= head]]

    monkeypatch.setattr(hash_chain, "VERIFY_PAGE_SIZE", page_size)
    seen: list[int] = []
    fast = verify_beside(store, "recorded", head, recorded_after, identify, seen.append)
    exact = verify(store, recorded_after(0), head, identify)
    assert fast == exact, (change, target, page_size)
    assert seen == sorted(seen)
    assert not fast.ok or seen[-1:] == ([fast.checked] if fast.checked else [])
    return fast


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("page_size", [1, 3, 1000])
def test_verify_beside_answers_as_verify_at_the_first_middle_and_last_event(
        change: str, page_size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _events([bytes([i]) * (1 + i % 5) for i in range(10)], [0, 2, 1])
    for target in (0, 4, 9):
        result = _verify_both_ways(events, change, target, page_size, monkeypatch)
        stored, recorded = _tamper(events, change, target)
        unchanged = stored[:len(events)] == events and recorded == _tamper(events, "none", 0)[1]
        assert result.ok == unchanged, (change, target)
        assert result.pending == (change == "stored_after_head")


@settings(max_examples=100, deadline=None)
@given(histories, st.data(), st.integers(1, 6))
def test_verify_beside_answers_as_verify_whatever_was_changed(
        history: tuple[list[bytes], list[int]], data: st.DataObject, page_size: int) -> None:
    """Every single change to the stored events or to the recorded links, on pages of any
    size: the join names the same position, problem, count and head as the walk."""
    events = _events(*history)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _verify_both_ways(events, data.draw(st.sampled_from(CHANGES)),
                          data.draw(st.integers(0, len(events) - 1)), page_size, monkeypatch)


def test_verify_beside_raises_where_verify_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored row the chain cannot encode is not passed over: the walk's error is raised."""
    events = _events([b"a", b"b", b"c"], [0])
    recorded: Recorded = [(p, h.hex()) for p, h in extend(GENESIS, events)]
    for column, value, error in (("originator_id", "not hex", ValueError),
                                 ("originator_version", -1, struct.error),
                                 ("topic", b"domain.x:Thing.Happened0", AttributeError)):
        store = _store_beside(events, recorded)
        store.connection.execute(f"UPDATE stored_events SET {column} = ? WHERE rowid = 2", (value,))
        with pytest.raises(error):
            verify_beside(store, "recorded", 3, lambda start: [[r for r in recorded if r[0] > start]])


def test_verify_beside_continues_from_a_checkpoint() -> None:
    events = _events([bytes([i]) * 5 for i in range(30)], [0, 1])
    links = extend(GENESIS, events)
    recorded: list[tuple[int, str | None]] = [(p, h.hex()) for p, h in links]
    middle, middle_link = links[11]
    store = _store_beside(events, recorded)
    fast = verify_beside(store, "recorded", events[-1][0],
                         lambda start: [[r for r in recorded if r[0] > start]], None, None,
                         middle, middle_link)
    assert fast == verify(store, [recorded[12:]], events[-1][0], None, None, middle, middle_link)
    assert (fast.ok, fast.checked, fast.head_hash) == (True, 18, links[-1][1].hex())
