"""Criteria-set files: what is refused and why, and the national defaults that ship."""

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from titles.rules.criteria_file import (
    DEFAULTS_DIR,
    CriteriaFileError,
    overlaps,
    parse_criteria_set,
    read_criteria_file,
)
from titles.rules.evaluation import CriterionType, Share, Title, evaluate

D = Decimal

EXAMPLE = {
    "code": "HN-FAM-2025",
    "title": "clan",
    "name": "Dòng họ học tập",
    "valid_from": 2025,
    "valid_to": None,
    "province": "01",
    "pass": {"min_points": 80, "required": ["F1"]},
    "outstanding": {"min_points": 95},
    "criteria": [
        {"code": "F1", "text": "Trẻ em đi học", "type": "boolean", "points": 20},
        {"code": "F2", "text": "Số chủ đề", "type": "number", "min": 2, "points": 20},
        {"code": "F3", "text": "Điều kiện", "type": "scale", "max": 30},
        {
            "code": "F4",
            "text": "Tỷ lệ hộ",
            "type": "share",
            "of": "family",
            "min": 0.7,
            "points": 30,
        },
    ],
}


def changed(**changes: object) -> dict:
    document = copy.deepcopy(EXAMPLE)
    document.update(changes)
    return document


def with_criterion(index: int, **changes: object) -> dict:
    document = copy.deepcopy(EXAMPLE)
    document["criteria"][index].update(changes)
    return document


def without(document: dict, *keys: str, index: int | None = None) -> dict:
    document = copy.deepcopy(document)
    target = document if index is None else document["criteria"][index]
    for key in keys:
        del target[key]
    return document


def errors_of(document: object) -> list[str]:
    with pytest.raises(CriteriaFileError) as caught:
        parse_criteria_set(document)  # type: ignore[arg-type]
    assert caught.value.errors
    for error in caught.value.errors:
        assert error in str(caught.value)
    return caught.value.errors


def test_the_design_example_parses_exactly():
    criteria_set = parse_criteria_set(json.dumps(EXAMPLE))
    assert (criteria_set.code, criteria_set.title, criteria_set.province) == (
        "HN-FAM-2025",
        Title.CLAN,
        "01",
    )
    assert (criteria_set.valid_from, criteria_set.valid_to) == (2025, None)
    assert (criteria_set.pass_min_points, criteria_set.pass_required) == (D(80), ("F1",))
    assert criteria_set.outstanding_min_points == D(95)
    assert [c.type for c in criteria_set.criteria] == list(CriterionType)
    share = criteria_set.criterion("F4")
    assert (share.min, share.of, share.points) == (D("0.7"), Title.FAMILY, D(30))
    assert isinstance(share.min, Decimal)
    assert criteria_set.max_points == D(100)


def test_text_bytes_with_a_bom_and_an_object_all_parse_to_the_same_set():
    text = json.dumps(EXAMPLE, ensure_ascii=False)
    assert (
        parse_criteria_set(text)
        == parse_criteria_set(b"\xef\xbb\xbf" + text.encode())
        == parse_criteria_set(EXAMPLE)
    )


def test_floats_are_read_as_the_decimals_they_spell():
    document = with_criterion(3, min=0.1 + 0.2)  # 0.30000000000000004 stays what it says
    assert parse_criteria_set(document).criterion("F4").min == D("0.30000000000000004")
    assert parse_criteria_set(json.dumps(EXAMPLE)).criterion("F4").min == D("0.7")


def test_optional_keys_are_optional():
    bare = without(EXAMPLE, "outstanding")
    del bare["pass"]["required"]
    criteria_set = parse_criteria_set(bare)
    assert (criteria_set.outstanding_min_points, criteria_set.pass_required) == (None, ())
    assert parse_criteria_set(changed(outstanding=None)).outstanding_min_points is None
    described = changed(name_en="Learning Clan", source="448/QĐ-KHVN", note="a default")
    described["criteria"][0]["text_en"] = "Children attend school"
    criteria_set = parse_criteria_set(described)
    assert (criteria_set.name_en, criteria_set.source, criteria_set.note) == (
        "Learning Clan",
        "448/QĐ-KHVN",
        "a default",
    )
    assert criteria_set.criterion("F1").text_en == "Children attend school"


def test_a_key_that_does_not_apply_may_be_null():
    document = with_criterion(0, min=None, max=None, of=None, text_en=None)
    assert parse_criteria_set(document).criterion("F1").min is None


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"valid_from": NaN}', "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ("[1, 2]", "must be a JSON object"),
        ('"family"', "must be a JSON object"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_what_is_not_a_json_object_is_refused(document, expected):
    assert any(expected in error for error in errors_of(document))


# Each case: a broken document and words the one message about it must contain.
MALFORMED = {
    "missing code": (without(EXAMPLE, "code"), ["missing 'code'"]),
    "missing several": (
        without(EXAMPLE, "name", "valid_to", "province"),
        ["missing 'name', 'valid_to', 'province'"],
    ),
    "missing criteria": (without(EXAMPLE, "criteria"), ["missing 'criteria'"]),
    "missing pass": (without(EXAMPLE, "pass"), ["missing 'pass'"]),
    "unknown key": (changed(vaild_to=2030), ["unknown key 'vaild_to'"]),
    "duplicate key": (
        json.dumps(EXAMPLE)[:-1] + ', "code": "X"}',
        ["key 'code' appears twice"],
    ),
    "code not text": (changed(code=7), ["'code' must be non-empty text"]),
    "code empty": (changed(code=" "), ["'code' must be non-empty text"]),
    "code with spaces": (changed(code="HN FAM"), ["'code' 'HN FAM' must be letters"]),
    "name null": (changed(name=None), ["'name' must be text, not null"]),
    "unknown title": (changed(title="famly"), ["unknown title 'famly'", "family, clan"]),
    "title null": (changed(title=None), ["unknown title None"]),
    "year as text": (changed(valid_from="2025"), ["'valid_from' must be a year"]),
    "year as float": (changed(valid_from=2025.5), ["'valid_from' must be a year"]),
    "year out of range": (changed(valid_from=25), ["'valid_from' must be a year"]),
    "year null": (changed(valid_from=None), ["'valid_from' must be a year, not null"]),
    "valid_to as bool": (changed(valid_to=True), ["'valid_to' must be a year"]),
    "years reversed": (
        changed(valid_from=2026, valid_to=2025),
        ["valid_from 2026 is after valid_to 2025"],
    ),
    "province as number": (changed(province=1), ["2-digit province code", "got 1"]),
    "province three digits": (changed(province="011"), ["2-digit province code"]),
    "province ward code": (changed(province="00070"), ["2-digit province code"]),
    "province letters": (changed(province="HN"), ["2-digit province code"]),
    "criteria empty": (changed(criteria=[]), ["'criteria' must be a non-empty list"]),
    "criteria object": (changed(criteria={"F1": {}}), ["'criteria' must be a non-empty list"]),
    "criterion not object": (changed(criteria=["F1"]), ["criteria[0]: must be an object"]),
    "criterion missing text": (
        without(EXAMPLE, "text", index=0),
        ["criteria[0] (F1): missing 'text'"],
    ),
    "criterion empty text": (with_criterion(0, text=""), ["(F1): 'text' must be non-empty"]),
    "criterion missing type": (without(EXAMPLE, "type", index=1), ["(F2): missing 'type'"]),
    "criterion missing code": (without(EXAMPLE, "code", index=2), ["criteria[2]: missing 'code'"]),
    "criterion code too long": (with_criterion(0, code="F" * 21), ["at most 20 characters"]),
    "criterion code with dot": (with_criterion(0, code="F.1"), ["'code' 'F.1' must be letters"]),
    "criterion unknown key": (with_criterion(0, weight=2), ["(F1): unknown key 'weight'"]),
    "unknown type": (with_criterion(0, type="yesno"), ["(F1): unknown type 'yesno'", "boolean"]),
    "text_en not text": (with_criterion(0, text_en=5), ["(F1): 'text_en' must be non-empty text"]),
    "duplicate code": (
        with_criterion(1, code="F1"),
        ["criteria[1]: duplicate criterion code 'F1' (criteria[0] has it"],
    ),
    "duplicate code ignoring case": (
        with_criterion(1, code="f1"),
        ["duplicate criterion code 'f1'"],
    ),
    "boolean without points": (
        without(EXAMPLE, "points", index=0),
        ["(F1): a boolean criterion needs 'points'"],
    ),
    "boolean with min": (with_criterion(0, min=1), ["(F1): 'min' does not apply to a boolean"]),
    "number without min": (
        without(EXAMPLE, "min", index=1),
        ["(F2): a number criterion needs 'min'"],
    ),
    "number without points": (
        without(EXAMPLE, "points", index=1),
        ["(F2): a number criterion needs 'points'"],
    ),
    "number negative min": (with_criterion(1, min=-1), ["(F2): 'min' must be 0 or more"]),
    "number with of": (with_criterion(1, of="family"), ["(F2): 'of' does not apply to a number"]),
    "scale without max": (
        without(EXAMPLE, "max", index=2),
        ["(F3): a scale criterion needs 'max'"],
    ),
    "scale with points": (
        with_criterion(2, points=30),
        ["(F3): 'points' does not apply to a scale"],
    ),
    "scale max zero": (with_criterion(2, max=0), ["(F3): 'max' must be greater than 0"]),
    "scale max text": (with_criterion(2, max="30"), ["(F3): 'max' must be a number, got '30'"]),
    "share without of": (without(EXAMPLE, "of", index=3), ["(F4): a share criterion needs 'of'"]),
    "share without min": (
        without(EXAMPLE, "min", index=3),
        ["(F4): a share criterion needs 'min'"],
    ),
    "share as percent": (with_criterion(3, min=70), ["(F4): 'min' must be between 0 and 1"]),
    "share negative": (with_criterion(3, min=-0.1), ["(F4): 'min' must be between 0 and 1"]),
    "share of unknown": (with_criterion(3, of="household"), ["(F4): 'of' must name a title"]),
    "share of wrong kind": (
        with_criterion(3, of="citizen"),
        ["a share in a clan criteria set must be of 'family', not 'citizen'"],
    ),
    "unit share of families": (
        changed(title="unit"),
        ["a share in a unit criteria set must be of 'citizen', not 'family'"],
    ),
    "family share": (changed(title="family"), ["a family criteria set cannot have share"]),
    "citizen share": (changed(title="citizen"), ["a citizen criteria set cannot have share"]),
    "points zero": (with_criterion(0, points=0), ["(F1): 'points' must be greater than 0"]),
    "points negative": (with_criterion(1, points=-5), ["(F2): 'points' must be greater than 0"]),
    "points bool": (with_criterion(0, points=True), ["(F1): 'points' must be a number, got True"]),
    "points infinite": (
        with_criterion(0, points=float("inf")),
        ["(F1): 'points' must be a number"],
    ),
    "pass not object": (changed(**{"pass": 80}), ["'pass' must be an object"]),
    "pass without min_points": (changed(**{"pass": {"required": []}}), ["'pass': missing"]),
    "pass unknown key": (
        changed(**{"pass": {"min_points": 80, "min": 1}}),
        ["'pass': unknown key 'min'"],
    ),
    "pass negative": (
        changed(**{"pass": {"min_points": -1}}),
        ["'pass': 'min_points' must be 0 or more"],
    ),
    "required not a list": (
        changed(**{"pass": {"min_points": 80, "required": "F1"}}),
        ["'required' must be a list of criterion codes"],
    ),
    "required unknown": (
        changed(**{"pass": {"min_points": 80, "required": ["F1", "F9"]}}),
        ["required 'F9' is not a criterion of this set"],
    ),
    "required twice": (
        changed(**{"pass": {"min_points": 80, "required": ["F1", "F1"]}}),
        ["required criterion 'F1' is listed twice"],
    ),
    "pass unattainable": (
        changed(**{"pass": {"min_points": 101}}, outstanding=None),
        ["'pass': min_points 101 is more than the 100 points"],
    ),
    "outstanding unattainable": (
        changed(outstanding={"min_points": 100.5}),
        ["'outstanding': min_points 100.5 is more than the 100 points"],
    ),
    "outstanding below pass": (
        changed(outstanding={"min_points": 79}),
        ["'outstanding': min_points 79 is below the pass threshold 80"],
    ),
    "outstanding not object": (changed(outstanding=95), ["'outstanding' must be an object"]),
    "outstanding without min_points": (changed(outstanding={}), ["'outstanding': missing"]),
}


@pytest.mark.parametrize(("document", "expected"), MALFORMED.values(), ids=MALFORMED.keys())
def test_each_malformed_case_is_refused_with_a_message_naming_it(document, expected):
    errors = errors_of(document)
    assert any(all(words in error for words in expected) for error in errors), errors


def test_every_error_is_collected_not_just_the_first():
    document = {
        "code": "",
        "title": "famly",
        "valid_from": 2026,
        "valid_to": 2025,
        "province": 1,
        "pass": {"min_points": 80, "required": ["Z"]},
        "outstanding": {"min_points": 50},
        "criteria": [
            {"code": "A", "type": "boolean", "points": 0, "min": 2},
            {"code": "B", "text": "x", "type": "scale", "max": -1, "points": 2},
            {"code": "C", "text": "x", "type": "share", "of": "citizen", "min": 1.5, "points": 1},
            "D",
        ],
        "extra": True,
    }
    errors = errors_of(document)
    expected = [
        "missing 'name'",
        "unknown key 'extra'",
        "'code' must be non-empty text",
        "unknown title 'famly'",
        "valid_from 2026 is after valid_to 2025",
        "2-digit province code",
        "criteria[0] (A): missing 'text'",
        "criteria[0] (A): 'min' does not apply",
        "criteria[0] (A): 'points' must be greater than 0",
        "criteria[1] (B): 'points' does not apply",
        "criteria[1] (B): 'max' must be greater than 0",
        "criteria[2] (C): 'min' must be between 0 and 1",
        "criteria[3]: must be an object",
        "required 'Z' is not a criterion",
        "'outstanding': min_points 50 is below the pass threshold 80",
    ]
    for words in expected:
        assert any(words in error for error in errors), (words, errors)
    assert len(errors) == len(expected)


def test_thresholds_are_not_checked_against_a_total_that_cannot_be_trusted():
    document = with_criterion(2, max="thirty")
    document["pass"]["min_points"] = 90
    errors = errors_of(document)
    assert errors == ["criteria[2] (F3): 'max' must be a number, got 'thirty'"]


def test_thresholds_exactly_at_the_maximum_are_attainable():
    document = changed(**{"pass": {"min_points": 100}}, outstanding={"min_points": 100})
    criteria_set = parse_criteria_set(document)
    assert criteria_set.pass_min_points == criteria_set.outstanding_min_points == D(100)


def test_the_error_lists_every_problem_in_its_message():
    error = CriteriaFileError(["first problem", "second problem"])
    assert error.errors == ["first problem", "second problem"]
    assert str(error) == "invalid criteria set:\n- first problem\n- second problem"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((2025, 2025), (2025, 2025), True),
        ((2020, 2024), (2025, None), False),
        ((2020, 2025), (2025, None), True),
        ((2025, None), (2020, 2024), False),
        ((2025, None), (2030, None), True),
        ((2020, None), (2010, 2019), False),
        ((2020, None), (2010, 2020), True),
        ((2010, 2030), (2015, 2016), True),
        ((2015, 2016), (2010, 2030), True),
        ((2010, 2012), (2013, 2015), False),
    ],
)
def test_overlaps_treats_years_as_inclusive_and_none_as_open(a, b, expected):
    assert overlaps(*a, *b) is expected
    assert overlaps(*b, *a) is expected


# --- the national defaults that ship ------------------------------------------------------

DEFAULT_FILES = {
    "vn-family-448.json": Title.FAMILY,
    "vn-clan-448.json": Title.CLAN,
    "vn-community-448.json": Title.COMMUNITY,
    "vn-unit-circular-24-2023.json": Title.UNIT,
    "vn-citizen-324.json": Title.CITIZEN,
}


def test_one_default_file_per_title_ships():
    assert sorted(path.name for path in DEFAULTS_DIR.glob("*.json")) == sorted(DEFAULT_FILES)


@pytest.mark.parametrize(("name", "title"), DEFAULT_FILES.items())
def test_default_sets_validate_and_are_labelled_as_defaults(name, title):
    path: Path = DEFAULTS_DIR / name
    criteria_set = read_criteria_file(path)
    assert criteria_set.title is title
    assert (criteria_set.valid_from, criteria_set.valid_to, criteria_set.province) == (
        2025,
        None,
        None,
    )
    assert criteria_set.max_points == D(100)
    assert D(0) < criteria_set.pass_min_points < criteria_set.outstanding_min_points <= D(100)
    assert criteria_set.name and criteria_set.name_en and criteria_set.source
    assert criteria_set.note.startswith("Default criteria shipped with the software, modelled on ")
    assert criteria_set.note.endswith("; a province replaces them with its own set.")
    for criterion in criteria_set.criteria:
        assert criterion.text and criterion.text_en and criterion.text != criterion.text_en
    assert criteria_set.pass_required


def test_default_sets_have_distinct_codes():
    codes = [read_criteria_file(DEFAULTS_DIR / name).code for name in DEFAULT_FILES]
    assert len(set(codes)) == len(codes)


def test_family_default_follows_decision_448_groups():
    family = read_criteria_file(DEFAULTS_DIR / "vn-family-448.json")
    groups: dict[str, Decimal] = {}
    for criterion in family.criteria:
        groups[criterion.code[:2]] = groups.get(criterion.code[:2], D(0)) + criterion.possible
    assert groups == {"F1": D(30), "F2": D(30), "F3": D(20), "F4": D(20)}
    assert (family.pass_min_points, family.outstanding_min_points) == (D(80), D(95))
    assert family.pass_required == ("F1a",)
    assert "19" in family.criterion("F2a").text and "60" in family.criterion("F2a").text


@pytest.mark.parametrize(
    ("name", "of", "minimum"),
    [
        ("vn-clan-448.json", Title.FAMILY, D("0.7")),
        ("vn-community-448.json", Title.FAMILY, D("0.7")),
        ("vn-unit-circular-24-2023.json", Title.CITIZEN, D("0.9")),
    ],
)
def test_group_defaults_require_their_share_of_recognised_members(name, of, minimum):
    criteria_set = read_criteria_file(DEFAULTS_DIR / name)
    (share,) = [c for c in criteria_set.criteria if c.type is CriterionType.SHARE]
    assert (share.of, share.min) == (of, minimum)
    assert share.code in criteria_set.pass_required


def test_citizen_default_is_a_self_assessment_in_three_competency_groups():
    citizen = read_criteria_file(DEFAULTS_DIR / "vn-citizen-324.json")
    assert [c.type for c in citizen.criteria] == [CriterionType.SCALE] * 3
    assert citizen.pass_required == tuple(c.code for c in citizen.criteria)


def test_a_model_family_passes_the_default_and_a_family_without_schooling_does_not():
    family = read_criteria_file(DEFAULTS_DIR / "vn-family-448.json")
    everything = {
        c.code: True if c.type is CriterionType.BOOLEAN else c.min or c.possible
        for c in family.criteria
    }
    best = evaluate(family, everything)
    assert (best.points, best.passed, best.outstanding) == (D(100), True, True)
    dropout = evaluate(family, {**everything, "F1a": False})
    assert (dropout.points, dropout.passed, dropout.failed_required) == (D(90), False, ("F1a",))


def test_a_clan_default_turns_on_its_households():
    clan = read_criteria_file(DEFAULTS_DIR / "vn-clan-448.json")
    evidence = {c.code: True if c.type is CriterionType.BOOLEAN else c.max for c in clan.criteria}
    del evidence["C1"]
    assert evaluate(clan, evidence, {"C1": Share(7, 10)}).outstanding
    below = evaluate(clan, evidence, {"C1": Share(6, 10)})
    assert (below.points, below.passed, below.failed_required) == (D(60), False, ("C1",))
