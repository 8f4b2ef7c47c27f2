"""Row places for messages without a string per row: numbered runs and lists, one after another."""

from __future__ import annotations

import pytest

from dabs_lib.userdomain.places import Numbered, Places


def _as_list() -> list[str]:
    return ["a.csv row 2", "a.csv row 3", "b/x.png", "b/y.png", "c.npz row 0", "c.npz row 1", "c.npz row 2"]


def _places() -> Places:
    table = Numbered("a.csv row")
    for number in (2, 3):
        table.add(number)
    return Places(table, ["b/x.png", "b/y.png"], Places(Numbered("c.npz row", range(3)), []))


def test_places_read_as_the_list_of_strings_they_stand_for():
    places, expected = _places(), _as_list()
    assert len(places) == len(expected) and list(places) == expected
    assert [places[i] for i in range(len(expected))] == expected
    assert places[-1] == expected[-1] and places[1:5] == expected[1:5] and places[::3] == expected[::3]
    with pytest.raises(IndexError):
        places[len(expected)]


def test_an_empty_run_adds_nothing_and_a_numbered_run_slices():
    assert len(Places([], Numbered("x row"))) == 0 and not Places()
    assert Numbered("x row", range(5, 9))[1:3] == ["x row 6", "x row 7"]
