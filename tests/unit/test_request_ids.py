"""Request ids (:mod:`voxregen_core.request_ids`): which caller-sent values are kept, and that
every other one is replaced by a fresh id."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxregen_core.request_ids import (
    MAX_REQUEST_ID_CHARS,
    is_valid_request_id,
    new_request_id,
    request_id_or_new,
)

ALLOWED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
"""The characters a request id may hold, spelled out rather than taken from the module."""


@pytest.mark.parametrize(
    "value",
    [
        "a",
        "0" * MAX_REQUEST_ID_CHARS,
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "6f1d4c2e-0d7a-4b8e-9a51-2c3f0b7e9d10",
        "req_2024.05.01-17",
        "...",
        "-",
    ],
)
def test_a_request_id_of_1_to_128_allowed_characters_is_kept(value):
    assert is_valid_request_id(value)
    assert request_id_or_new(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "0" * (MAX_REQUEST_ID_CHARS + 1),
        "abc\n",  # a newline would split a log line
        "abc def",
        "id/with/slashes",
        "id:colon",
        "naïve",
        "\u212a",  # KELVIN SIGN, which a case-insensitive pattern would take for "k"
        "١٢٣",  # Arabic-Indic digits, which \d would take
        "<script>",
    ],
)
def test_a_request_id_outside_the_rule_is_replaced_by_a_new_one(value):
    assert not is_valid_request_id(value)
    replaced = request_id_or_new(value)
    assert replaced != value
    assert re.fullmatch("[0-9a-f]{32}", replaced)


def test_a_missing_request_id_is_made_and_never_the_same_twice():
    made = {request_id_or_new(None) for _ in range(100)}
    assert len(made) == 100
    assert all(re.fullmatch("[0-9a-f]{32}", made_id) for made_id in made)


@pytest.mark.parametrize("value", [None, 17, b"abc", ["abc"]])
def test_only_a_string_can_be_a_request_id(value):
    assert not is_valid_request_id(value)


@given(st.text(alphabet=ALLOWED, min_size=1, max_size=MAX_REQUEST_ID_CHARS))
def test_every_string_of_allowed_characters_up_to_the_bound_is_valid(value):
    assert is_valid_request_id(value)


@given(st.text(min_size=1, max_size=MAX_REQUEST_ID_CHARS).filter(lambda s: set(s) - set(ALLOWED)))
def test_any_other_character_makes_it_invalid(value):
    assert not is_valid_request_id(value)


def test_a_new_request_id_is_valid():
    assert is_valid_request_id(new_request_id())
