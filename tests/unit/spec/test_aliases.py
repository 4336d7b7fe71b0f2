"""The rewrite mechanics behind other spellings: moves remember the author's path, the
longest moved prefix wins, conflicting values and rejected fields become errors."""

from __future__ import annotations

import pytest

from lattice_pulumi.spec.aliases import Normalized, Rewrite


def test_a_moved_field_maps_back_to_where_the_author_wrote_it() -> None:
    rewrite = Rewrite({"a": {"old": {"x": 1}}})
    rewrite.move(("a", "old"), ("a", "new"))
    result = rewrite.result()
    assert result.data == {"a": {"new": {"x": 1}}}
    assert result.author_path(("a", "new", "x")) == ("a", "old", "x")
    assert result.author_path(("a", "other")) == ("a", "other")


def test_the_longest_moved_prefix_wins() -> None:
    normalized = Normalized({}, {("s",): ("t",), ("s", "n"): ("t", "m", "name")})
    assert normalized.author_path(("s", "n", "k")) == ("t", "m", "name", "k")
    assert normalized.author_path(("s", "z")) == ("t", "z")


def test_the_rewrite_leaves_the_authors_data_alone() -> None:
    data = {"a": {"old": 1}}
    rewrite = Rewrite(data)
    rewrite.move(("a", "old"), ("a", "new"))
    assert data == {"a": {"old": 1}}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param(2, ["a.old: 1 differs from a.new (2); set it in one place"], id="differs"),
        pytest.param(1, [], id="same value twice"),
    ],
)
def test_a_value_given_in_both_places(target: int, expected: list[str]) -> None:
    rewrite = Rewrite({"a": {"old": 1, "new": target}})
    rewrite.move(("a", "old"), ("a", "new"))
    assert [f"{'.'.join(map(str, e.path))}: {e.message}" for e in rewrite.errors] == expected
    assert rewrite.data == {"a": {"new": target}}


def test_a_default_fills_only_the_groups_that_leave_it_out() -> None:
    rewrite = Rewrite({"d": 5, "g": {"one": {}, "two": {"v": 7}}})
    rewrite.default(("d",), [("g", "one"), ("g", "two")], ("v",))
    result = rewrite.result()
    assert result.data == {"g": {"one": {"v": 5}, "two": {"v": 7}}}
    assert result.author_path(("g", "one", "v")) == ("d",)


def test_rejected_fields_leave_the_document_with_their_reason() -> None:
    rewrite = Rewrite({"b": {"host": "x", "keep": 1}})
    rewrite.reject_known(("b",), {"host": "is not used; remove it"})
    assert rewrite.data == {"b": {"keep": 1}}
    assert [(e.path, e.message) for e in rewrite.errors] == [
        (("b", "host"), "host is not used; remove it")
    ]


def test_a_level_in_the_way_that_is_not_a_mapping_stops_the_move() -> None:
    rewrite = Rewrite({"a": {"old": 1, "new": "scalar"}})
    assert not rewrite.put(("a", "new", "x"), 1, ("a", "old"))
    assert rewrite.data == {"a": {"old": 1, "new": "scalar"}}
