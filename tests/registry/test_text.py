"""The Vietnamese sort key, without a database: what a list ordered by it looks like."""

import unicodedata

import pytest

from registry.text import sort_key


def _sorted(names: list[str], *, person: bool = False) -> list[str]:
    return sorted(names, key=lambda name: sort_key(name, person=person))


def test_letters_in_the_vietnamese_alphabet_and_tones_after_letters():
    words = ["đa", "Da", "ơn", "ôn", "on", "ưa", "ua", "ân", "ăn", "an", "ản", "ẫn", "ạn", "àn"]
    assert _sorted(words) == [
        "an", "àn", "ản", "ạn", "ăn", "ân", "ẫn", "Da", "đa", "on", "ôn", "ơn", "ua", "ưa"
    ]  # fmt: skip


def test_numbers_by_value_and_case_ignored():
    areas = ["Tổ dân phố 10", "tổ dân phố 2", "Tổ dân phố 1", "Thôn Đông", "thôn An"]
    assert _sorted(areas) == [
        "thôn An", "Thôn Đông", "Tổ dân phố 1", "tổ dân phố 2", "Tổ dân phố 10"
    ]  # fmt: skip


def test_people_by_given_name_then_family_then_middle_names():
    people = ["Trần Văn Bình", "Nguyễn Thị Bình", "Nguyễn Văn An", "Nguyễn Bình", "Lê An"]
    assert _sorted(people, person=True) == [
        "Lê An", "Nguyễn Văn An", "Nguyễn Bình", "Nguyễn Thị Bình", "Trần Văn Bình"
    ]  # fmt: skip
    # Not a person: word by word, as written.
    assert _sorted(people) == [
        "Lê An", "Nguyễn Bình", "Nguyễn Thị Bình", "Nguyễn Văn An", "Trần Văn Bình"
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["Nguyễn Văn An", "Tổ dân phố 10", "Đơn vị (cũ) – số 3", ""])
def test_the_key_is_digits_only_so_any_collation_orders_it_as_bytes(name):
    key = sort_key(name, person=True)
    assert key == "" or key.isascii() and key.isdigit()
    # Composed and decomposed spellings of a name are the same name.
    assert sort_key(unicodedata.normalize("NFD", name)) == sort_key(name)
