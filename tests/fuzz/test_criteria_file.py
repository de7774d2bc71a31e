"""The criteria-set loader on bad input: random JSON, damaged documents, hostile text, huge
numbers. A document is refused with CriteriaFileError listing its problems, or it loads; no
other exception, and what loads is stored as written."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.strategies import examples, hostile_text
from tests.titles.factories import CLAN_DOC, FAMILY_DOC
from titles.models import CriteriaSet as StoredSet
from titles.rules.criteria_file import CriteriaFileError, parse_criteria_set
from titles.rules.evaluation import CriteriaSet
from titles.services.criteria import criteria_load, parsed

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text(max_size=20),
    st.sampled_from(["family", "clan", "share", "boolean", "number", "scale", "F1", "01"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(hostile_text(max_size=10), st.sampled_from(sorted(FAMILY_DOC))),
            children,
            max_size=5,
        ),
    ),
    max_leaves=20,
)


def _parse(document) -> CriteriaSet | None:
    """The set, or None when refused with a list of messages; anything else fails the test."""
    try:
        return parse_criteria_set(document)
    except CriteriaFileError as exc:
        assert exc.errors and all(isinstance(e, str) and e for e in exc.errors)
        return None


@examples(150)
@given(document=json_values)
def test_any_json_value_is_loaded_or_refused(document):
    _parse(document)
    _parse(json.dumps(document))


@examples(60)
@given(data=st.binary(max_size=300))
@example(data=b"\xef\xbb\xbf" + json.dumps(FAMILY_DOC).encode())  # a byte-order mark is fine
@example(data=json.dumps(FAMILY_DOC).encode("utf-16"))
@example(data=b"[" * 100_000 + b"]" * 100_000)  # nested deeper than the parser's stack
@example(data=b'{"a":' * 50_000 + b"1" + b"}" * 50_000)
@example(data=b"NaN")
@example(data=b'{"code": "X", "code": "Y"}')
def test_any_bytes_are_loaded_or_refused(data):
    _parse(data)
    _parse(data.decode("utf-8", "replace"))


_PATHS = [
    ("code",),
    ("title",),
    ("name",),
    ("valid_from",),
    ("valid_to",),
    ("province",),
    ("pass",),
    ("pass", "min_points"),
    ("pass", "required"),
    ("outstanding",),
    ("outstanding", "min_points"),
    ("criteria",),
    ("criteria", 0),
    ("criteria", 1, "type"),
    ("criteria", 1, "min"),
    ("criteria", 2, "max"),
    ("criteria", 0, "points"),
    ("criteria", 0, "code"),
    ("criteria", 0, "text"),
    ("criteria", 1, "of"),
]


@examples(200)
@given(
    base=st.sampled_from([FAMILY_DOC, CLAN_DOC]),
    changes=st.lists(
        st.tuples(st.sampled_from(_PATHS), st.one_of(json_values, st.just(KeyError))),
        min_size=1,
        max_size=3,
    ),
)
def test_damaged_documents_are_refused_with_messages(base, changes):
    """A valid document with values replaced by anything (or keys removed)."""
    document = copy.deepcopy(base)
    for path, value in changes:
        target = document
        for step in path[:-1]:
            try:
                target = target[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            try:
                if value is KeyError:
                    del target[path[-1]]
                else:
                    target[path[-1]] = value
            except (KeyError, IndexError, TypeError):
                pass
    _parse(document)
    _parse(json.dumps(document, default=str))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": []}, "unknown title"),
        ({"title": {"a": 1}}, "unknown title"),
        ({"criteria": [{"code": "F1", "text": "x", "type": ["boolean"], "points": 1}]}, "type"),
        ({"criteria": [{"code": "F1", "text": "x", "type": {}, "points": 1}]}, "type"),
    ],
)
def test_unhashable_values_where_a_word_is_expected_are_refused(change, message):
    with pytest.raises(CriteriaFileError, match=message):
        parse_criteria_set({**FAMILY_DOC, **change})


def test_a_share_of_an_unhashable_value_is_refused():
    document = copy.deepcopy(CLAN_DOC)
    document["criteria"][1]["of"] = ["family"]
    with pytest.raises(CriteriaFileError, match="'of' must name a title"):
        parse_criteria_set(document)


def test_nesting_deeper_than_the_parser_can_go_is_refused():
    with pytest.raises(CriteriaFileError, match="not valid JSON"):
        parse_criteria_set("[" * 100_000 + "]" * 100_000)


# --- valid sets ------------------------------------------------------------------------------

_CODES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,9}", fullmatch=True)
_TEXT = hostile_text(max_size=80, nul=False).filter(str.strip)


@st.composite
def criteria_documents(draw) -> dict:
    """A family criteria set that is valid by construction, its texts hostile."""
    codes = draw(st.lists(_CODES, min_size=1, max_size=5, unique_by=str.casefold))
    criteria = []
    total = Decimal(0)
    for code in codes:
        kind = draw(st.sampled_from(["boolean", "number", "scale"]))
        amount = draw(st.integers(1, 40))
        item = {"code": code, "text": draw(_TEXT), "type": kind}
        if draw(st.booleans()):
            item["text_en"] = draw(_TEXT)
        if kind == "scale":
            item["max"] = amount
        else:
            item["points"] = amount
        if kind == "number":
            item["min"] = draw(st.integers(0, 10))
        criteria.append(item)
        total += amount
    pass_min = draw(st.integers(0, int(total)))
    document = {
        "code": draw(st.from_regex(r"FZ-[A-Za-z0-9_.-]{1,20}", fullmatch=True)),
        "title": "family",
        "name": draw(_TEXT),
        "valid_from": 2025,
        "valid_to": None,
        "province": None,
        "pass": {
            "min_points": pass_min,
            "required": draw(st.lists(st.sampled_from(codes), unique=True, max_size=2)),
        },
        "criteria": criteria,
    }
    if draw(st.booleans()):
        document["outstanding"] = {"min_points": draw(st.integers(pass_min, int(total)))}
    if draw(st.booleans()):
        document["note"] = draw(_TEXT)
    return document


@examples(40)
@given(document=criteria_documents())
def test_valid_sets_load_and_are_stored_verbatim(db, document):
    StoredSet.objects.filter(title="family").delete()
    text = json.dumps(document, ensure_ascii=False)
    stored, status = criteria_load(document=text)
    assert status == "created"
    stored.refresh_from_db()
    assert stored.definition == document
    assert stored.name == document["name"].strip()
    rules = parsed(stored)
    assert [c.code for c in rules.criteria] == [c["code"] for c in document["criteria"]]
    assert [c.text for c in rules.criteria] == [c["text"].strip() for c in document["criteria"]]
    assert criteria_load(document=text)[1] == "unchanged"


@examples(30)
@given(
    where=st.sampled_from(["name", "text", "text_en", "note"]),
    value=st.sampled_from(["a\x00b", "\x00", "Nguyễn\x00", "lone \ud800 surrogate"]),
)
def test_nul_characters_are_refused_with_a_message(db, where, value):
    """PostgreSQL's jsonb and text columns cannot hold NUL (nor SQLite's JSON check), and a lone
    surrogate (a JSON escape like \\ud800) is not text at all: both are refused as bad input."""
    document = copy.deepcopy(FAMILY_DOC)
    if where in ("text", "text_en"):
        document["criteria"][0][where] = value
    else:
        document[where] = value
    with pytest.raises(CriteriaFileError, match="NUL"):
        criteria_load(document=json.dumps(document))
    assert not StoredSet.objects.exists()


@pytest.mark.parametrize("number", ["1e400", "1e6", "100000", "99999.999"])
def test_points_the_results_cannot_hold_are_refused(db, number):
    """A registration's points hold at most 99,999.99; a set that could earn more is refused
    (and 1e400 would otherwise be stored as an infinite float)."""
    text = json.dumps(FAMILY_DOC).replace('"points": 40', f'"points": {number}')
    with pytest.raises(CriteriaFileError, match="points"):
        criteria_load(document=text)
    assert not StoredSet.objects.exists()
