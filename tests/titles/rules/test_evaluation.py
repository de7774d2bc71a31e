"""The evaluation contract (DESIGN section 4), criterion type by criterion type; no database."""

import unicodedata
from datetime import date
from decimal import Decimal

import pytest

from titles.rules.evaluation import (
    CriteriaSet,
    Criterion,
    CriterionType,
    EvidenceError,
    Share,
    Title,
    evaluate,
    parse_evidence,
)
from titles.rules.explain import record

D = Decimal

BOOL = Criterion(code="F1", text="Trẻ em đi học", type=CriterionType.BOOLEAN, points=D(20))
NUMBER = Criterion(code="F2", text="Số chủ đề", type=CriterionType.NUMBER, min=D(2), points=D(20))
SCALE = Criterion(code="F3", text="Điều kiện", type=CriterionType.SCALE, max=D(30))
SHARE = Criterion(
    code="F4",
    text="Tỷ lệ hộ",
    type=CriterionType.SHARE,
    of=Title.FAMILY,
    min=D("0.7"),
    points=D(30),
)


def make_set(**changes: object) -> CriteriaSet:
    """The DESIGN example as a clan set: 20 + 20 + 30 + 30 = 100 points, pass 80 with F1."""
    fields: dict[str, object] = {
        "code": "HN-CLAN-2025",
        "title": Title.CLAN,
        "name": "Dòng họ học tập",
        "valid_from": 2025,
        "valid_to": None,
        "province": "01",
        "pass_min_points": D(80),
        "pass_required": ("F1",),
        "outstanding_min_points": D(95),
        "criteria": (BOOL, NUMBER, SCALE, SHARE),
    }
    fields.update(changes)
    return CriteriaSet(**fields)  # type: ignore[arg-type]


CLAN = make_set()


def result(evaluation, code):
    return next(r for r in evaluation.criteria if r.code == code)


def full_marks(**evidence: object) -> dict[str, object]:
    """Evidence earning everything but F3, which the caller sets."""
    return {"F1": True, "F2": D(2), **evidence}


# --- the set ------------------------------------------------------------------------------


def test_max_points_sums_points_and_scale_maxima():
    assert CLAN.max_points == D(100)
    assert make_set(criteria=(SCALE,), pass_required=(), pass_min_points=D(0)).max_points == 30


def test_validity_years_are_inclusive_and_open_ended():
    closed = make_set(valid_from=2025, valid_to=2026)
    assert not closed.is_valid_in(2024)
    assert closed.is_valid_in(2025)
    assert closed.is_valid_in(2026)
    assert not closed.is_valid_in(2027)
    assert CLAN.is_valid_in(2099)


def test_criterion_lookup_by_code():
    assert CLAN.criterion("F3") is SCALE
    with pytest.raises(KeyError):
        CLAN.criterion("F9")


# --- boolean ------------------------------------------------------------------------------


def test_boolean_true_earns_its_points():
    r = result(evaluate(CLAN, {"F1": True}), "F1")
    assert (r.earned, r.possible, r.met, r.evidence) == (D(20), D(20), True, True)
    assert record(r) == "true → 20 points"


def test_boolean_false_earns_nothing():
    r = result(evaluate(CLAN, {"F1": False}), "F1")
    assert (r.earned, r.met) == (D(0), False)
    assert record(r) == "false → 0 points"


# --- number -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "earned", "reason"),
    [
        (D(3), D(20), "3 ≥ 2 → 20 points"),
        (D(2), D(20), "2 ≥ 2 → 20 points"),
        (D("1.99"), D(0), "1.99 < 2 → 0 points"),
        (D(1), D(0), "1 < 2 → 0 points"),
        (D(0), D(0), "0 < 2 → 0 points"),
    ],
)
def test_number_earns_its_points_from_the_minimum_up(value, earned, reason):
    r = result(evaluate(CLAN, {"F2": value}), "F2")
    assert (r.earned, r.met, record(r)) == (earned, earned > 0, reason)


def test_number_with_a_decimal_minimum_compares_exactly():
    half = Criterion(code="N", text="t", type=CriterionType.NUMBER, min=D("2.5"), points=D(1))
    criteria_set = make_set(criteria=(half,), pass_required=(), pass_min_points=D(1))
    assert record(result(evaluate(criteria_set, {"N": D("2.50")}), "N")) == "2.5 ≥ 2.5 → 1 point"
    assert result(evaluate(criteria_set, {"N": D("2.49")}), "N").earned == 0


# --- scale --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "earned", "reason"),
    [
        (D(25), D(25), "scale 25 of 30 → 25 points"),
        (D("12.5"), D("12.5"), "scale 12.5 of 30 → 12.5 points"),
        (D(30), D(30), "scale 30 of 30 → 30 points"),
        (D(35), D(30), "scale 35 capped at 30 → 30 points"),
        (D(0), D(0), "scale 0 of 30 → 0 points"),
    ],
)
def test_scale_earns_its_value_capped_at_its_max(value, earned, reason):
    r = result(evaluate(CLAN, {"F3": value}), "F3")
    assert (r.earned, r.possible, record(r)) == (earned, D(30), reason)
    assert r.met is (earned > 0)


# --- share --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "earned", "reason"),
    [
        (Share(7, 10), D(30), "7/10 = 70.0% ≥ 70.0% → 30 points"),
        (Share(700, 1000), D(30), "700/1000 = 70.0% ≥ 70.0% → 30 points"),
        (Share(10, 10), D(30), "10/10 = 100.0% ≥ 70.0% → 30 points"),
        (Share(699, 1000), D(0), "699/1000 = 69.9% < 70.0% → 0 points"),
        (Share(6, 10), D(0), "6/10 = 60.0% < 70.0% → 0 points"),
        (Share(0, 5), D(0), "0/5 = 0.0% < 70.0% → 0 points"),
        (Share(0, 0), D(0), "0 member families: share undefined → 0 points"),
    ],
)
def test_share_earns_its_points_from_the_minimum_up(share, earned, reason):
    r = result(evaluate(CLAN, {}, {"F4": share}), "F4")
    assert (r.earned, r.met, r.derived, r.evidence, record(r)) == (
        earned,
        earned > 0,
        share,
        None,
        reason,
    )


def test_share_just_below_the_minimum_fails_and_the_reason_shows_why():
    two_thirds = Criterion(
        code="S", text="t", type=CriterionType.SHARE, of=Title.FAMILY, min=D("0.667"), points=D(5)
    )
    criteria_set = make_set(criteria=(two_thirds,), pass_required=(), pass_min_points=D(5))
    r = result(evaluate(criteria_set, {}, {"S": Share(2, 3)}), "S")
    assert r.earned == 0
    assert record(r) == "2/3 = 66.67% < 66.70% → 0 points"


def test_share_is_compared_as_an_exact_fraction_not_a_float():
    third = Criterion(
        code="S",
        text="t",
        type=CriterionType.SHARE,
        of=Title.FAMILY,
        min=D("0.3333333333333333"),
        points=D(5),
    )
    criteria_set = make_set(criteria=(third,), pass_required=(), pass_min_points=D(5))
    assert result(evaluate(criteria_set, {}, {"S": Share(1, 3)}), "S").met
    assert not result(evaluate(criteria_set, {}, {"S": Share(333, 1000)}), "S").met


def test_share_of_citizens_names_them_when_there_are_none():
    staff = Criterion(
        code="U", text="t", type=CriterionType.SHARE, of=Title.CITIZEN, min=D("0.9"), points=D(5)
    )
    unit = make_set(title=Title.UNIT, criteria=(staff,), pass_required=(), pass_min_points=D(5))
    reason = record(result(evaluate(unit, {}, {"U": Share(0, 0)}), "U"))
    assert reason == "0 member citizens: share undefined → 0 points"


def test_share_with_minimum_zero_is_met_by_any_defined_share_but_not_by_none():
    anything = Criterion(
        code="S", text="t", type=CriterionType.SHARE, of=Title.FAMILY, min=D(0), points=D(5)
    )
    criteria_set = make_set(criteria=(anything,), pass_required=(), pass_min_points=D(0))
    assert result(evaluate(criteria_set, {}, {"S": Share(0, 4)}), "S").met
    assert not result(evaluate(criteria_set, {}, {"S": Share(0, 0)}), "S").met


@pytest.mark.parametrize(("numerator", "denominator"), [(11, 10), (-1, 3), (1, 0), (0, -1)])
def test_a_share_is_a_part_of_a_whole(numerator, denominator):
    with pytest.raises(ValueError, match="numerator"):
        Share(numerator, denominator)


# --- missing evidence ---------------------------------------------------------------------


def test_missing_evidence_earns_nothing_and_is_listed():
    evaluation = evaluate(CLAN, {"F1": True, "F2": None})
    assert evaluation.missing == ("F2", "F3", "F4")
    for code in ("F2", "F3"):
        r = result(evaluation, code)
        assert (r.earned, r.met, r.evidence, record(r)) == (
            D(0),
            False,
            None,
            "missing evidence → 0 points",
        )
    assert record(result(evaluation, "F4")) == "missing share → 0 points"


def test_nothing_at_all_scores_zero_and_fails():
    evaluation = evaluate(CLAN, {})
    assert (evaluation.points, evaluation.passed, evaluation.outstanding) == (D(0), False, False)
    assert evaluation.missing == ("F1", "F2", "F3", "F4")
    assert evaluation.failed_required == ("F1",)


def test_a_share_of_nothing_is_not_missing_but_undefined():
    assert "F4" not in evaluate(CLAN, {}, {"F4": Share(0, 0)}).missing


# --- passing and outstanding --------------------------------------------------------------


def test_everything_met_scores_the_maximum():
    evaluation = evaluate(CLAN, full_marks(F3=D(30)), {"F4": Share(7, 10)})
    assert evaluation.points == evaluation.max_points == D(100)
    assert (evaluation.passed, evaluation.outstanding) == (True, True)
    assert [r.code for r in evaluation.criteria] == ["F1", "F2", "F3", "F4"]
    assert evaluation.missing == evaluation.failed_required == ()


@pytest.mark.parametrize(
    ("scale", "points", "passed"),
    [
        (D(10), D(80), True),
        (D(11), D(81), True),
        (D(9), D(79), False),
        (D("9.99"), D("79.99"), False),
    ],
)
def test_pass_threshold_is_inclusive(scale, points, passed):
    evaluation = evaluate(CLAN, full_marks(F3=scale), {"F4": Share(7, 10)})
    assert (evaluation.points, evaluation.passed) == (points, passed)


def test_enough_points_without_a_required_criterion_fails():
    evaluation = evaluate(CLAN, full_marks(F1=False, F3=D(30)), {"F4": Share(7, 10)})
    assert evaluation.points == D(80)
    assert not evaluation.passed
    assert evaluation.failed_required == ("F1",)


def test_missing_required_evidence_fails_and_is_listed_in_both():
    evaluation = evaluate(CLAN, {"F2": D(5), "F3": D(30)}, {"F4": Share(7, 10)})
    assert (evaluation.passed, evaluation.failed_required, evaluation.missing) == (
        False,
        ("F1",),
        ("F1",),
    )


def test_every_required_criterion_is_checked():
    criteria_set = make_set(pass_required=("F1", "F2", "F4"), pass_min_points=D(0))
    evaluation = evaluate(criteria_set, {"F1": True, "F2": D(1)}, {"F4": Share(1, 10)})
    assert evaluation.failed_required == ("F2", "F4")


@pytest.mark.parametrize(
    ("scale", "outstanding"),
    [(D(25), True), (D(26), True), (D(24), False), (D("24.9"), False)],
)
def test_outstanding_threshold_is_inclusive(scale, outstanding):
    evaluation = evaluate(CLAN, full_marks(F3=scale), {"F4": Share(7, 10)})
    assert evaluation.passed
    assert evaluation.outstanding is outstanding


def test_outstanding_needs_a_pass():
    loose = Criterion(code="R", text="t", type=CriterionType.BOOLEAN, points=D(5))
    wide = Criterion(code="S", text="t", type=CriterionType.SCALE, max=D(100))
    criteria_set = make_set(
        criteria=(loose, wide),
        pass_min_points=D(50),
        pass_required=("R",),
        outstanding_min_points=D(90),
    )
    evaluation = evaluate(criteria_set, {"R": False, "S": D(100)})
    assert evaluation.points == D(100)
    assert (evaluation.passed, evaluation.outstanding) == (False, False)


def test_without_an_outstanding_threshold_nobody_is_outstanding():
    criteria_set = make_set(outstanding_min_points=None)
    evaluation = evaluate(criteria_set, full_marks(F3=D(30)), {"F4": Share(1, 1)})
    assert (evaluation.points, evaluation.passed, evaluation.outstanding) == (D(100), True, False)


def test_points_are_decimals_and_the_result_is_deterministic():
    evidence = full_marks(F3=D("12.5"))
    first = evaluate(CLAN, evidence, {"F4": Share(3, 4)})
    again = evaluate(CLAN, dict(reversed(list(evidence.items()))), {"F4": Share(3, 4)})
    assert first == again
    assert isinstance(first.points, Decimal)
    assert first.points == D("82.5")


# --- overrides ----------------------------------------------------------------------------


def test_override_met_earns_full_points_and_says_so():
    r = result(evaluate(CLAN, {"F2": D(1)}, overrides={"F2": True}), "F2")
    assert (r.earned, r.met, r.evidence) == (D(20), True, D(1))
    assert record(r) == "overridden: met → 20 points (rules said: 1 < 2 → 0 points)"


def test_override_not_met_earns_nothing():
    r = result(evaluate(CLAN, {"F1": True}, overrides={"F1": False}), "F1")
    assert (r.earned, r.met) == (D(0), False)
    assert record(r) == "overridden: not met → 0 points (rules said: true → 20 points)"


def test_override_met_on_a_scale_earns_its_max():
    r = result(evaluate(CLAN, {"F3": D(4)}, overrides={"F3": True}), "F3")
    assert r.earned == D(30)


def test_override_met_on_a_share_of_nothing():
    r = result(evaluate(CLAN, {}, {"F4": Share(0, 0)}, overrides={"F4": True}), "F4")
    assert r.earned == D(30)
    assert record(r).startswith("overridden: met → 30 points (rules said: 0 member families")


def test_an_overridden_criterion_is_not_missing():
    evaluation = evaluate(CLAN, {}, overrides={"F2": True, "F4": False})
    assert evaluation.missing == ("F1", "F3")


def test_overrides_decide_required_criteria():
    evidence = full_marks(F1=False, F3=D(30))
    rescued = evaluate(CLAN, evidence, {"F4": Share(7, 10)}, overrides={"F1": True})
    assert (rescued.points, rescued.passed, rescued.outstanding) == (D(100), True, True)
    refused = evaluate(CLAN, full_marks(F3=D(30)), {"F4": Share(7, 10)}, overrides={"F1": False})
    assert (refused.passed, refused.failed_required) == (False, ("F1",))


# --- programming errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("evidence", "shares", "overrides", "message"),
    [
        ({"F9": True}, {}, {}, "evidence for codes not in"),
        ({}, {"F9": Share(1, 2)}, {}, "shares for codes not in"),
        ({}, {}, {"F9": True}, "overrides for codes not in"),
        ({"F4": D("0.7")}, {}, {}, "share criterion"),
        ({}, {"F1": Share(1, 2)}, {}, "not share criteria"),
        ({"F1": "yes"}, {}, {}, "must be a bool"),
        ({"F1": 1}, {}, {}, "must be a bool"),
        ({"F2": 3}, {}, {}, "finite Decimal"),
        ({"F2": 2.5}, {}, {}, "finite Decimal"),
        ({"F2": True}, {}, {}, "finite Decimal"),
        ({"F3": D(-1)}, {}, {}, "finite Decimal"),
        ({"F3": D("NaN")}, {}, {}, "finite Decimal"),
        ({}, {}, {"F1": "yes"}, "True or False"),
    ],
)
def test_evaluate_refuses_what_a_caller_should_never_pass(evidence, shares, overrides, message):
    with pytest.raises(ValueError, match=message):
        evaluate(CLAN, evidence, shares, overrides)


@pytest.mark.parametrize(
    "fields",
    [
        {"type": CriterionType.NUMBER, "points": D(5)},
        {"type": CriterionType.BOOLEAN, "points": D(5), "min": D(1)},
        {"type": CriterionType.SCALE, "max": D(5), "points": D(5)},
        {"type": CriterionType.SHARE, "min": D("0.5"), "points": D(5)},
        {"type": CriterionType.BOOLEAN, "points": D(0)},
        {"type": CriterionType.SCALE, "max": D(0)},
        {"type": CriterionType.NUMBER, "min": D(-1), "points": D(5)},
        {"type": CriterionType.SHARE, "of": Title.FAMILY, "min": D("1.1"), "points": D(5)},
    ],
)
def test_a_malformed_criterion_cannot_be_built(fields):
    with pytest.raises(ValueError, match="criterion X"):
        Criterion(code="X", text="t", **fields)


def test_criterion_and_set_accept_plain_strings_for_their_enums():
    criterion = Criterion(code="S", text="t", type="share", of="family", min=D(1), points=D(1))
    assert (criterion.type, criterion.of) == (CriterionType.SHARE, Title.FAMILY)
    assert make_set(title="clan").title is Title.CLAN


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"criteria": (BOOL, BOOL)}, "duplicate"),
        ({"pass_required": ("F9",)}, "not criteria"),
        ({"title": Title.UNIT}, "does not fit"),
        ({"title": Title.FAMILY}, "does not fit"),
    ],
)
def test_a_malformed_set_cannot_be_built(changes, message):
    with pytest.raises(ValueError, match=message):
        make_set(**changes)


# --- parse_evidence -----------------------------------------------------------------------

NFD_CO = unicodedata.normalize("NFD", "có")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("0", False),
        ("true", True),
        ("TRUE", True),
        (" True ", True),
        ("false", False),
        ("False", False),
        ("yes", True),
        ("YES", True),
        ("no", False),
        ("No", False),
        ("có", True),
        ("Có", True),
        ("CÓ", True),
        ("\tcó\n", True),
        (NFD_CO, True),
        ("không", False),
        ("Không", False),
        ("KHÔNG", False),
        ("co", True),
        ("khong", False),
        ("KHONG", False),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (1.0, True),
        (0.0, False),
        (D(1), True),
    ],
)
def test_boolean_spellings_accepted(raw, expected):
    assert parse_evidence(BOOL, raw) is expected


@pytest.mark.parametrize(
    "raw",
    ["2", "-1", "y", "n", "x", "t", "f", "ok", "oui", "có không", "1.0", "yes!", 2, -1, 0.5]
    + [float("nan"), date(2025, 3, 1)],
)
def test_boolean_spellings_refused(raw):
    with pytest.raises(EvidenceError) as caught:
        parse_evidence(BOOL, raw)
    assert caught.value.criterion_code == "F1"
    assert caught.value.raw is raw
    assert "yes/no" in caught.value.reason
    assert str(caught.value).startswith("F1: ")


@pytest.mark.parametrize("criterion", [NUMBER, SCALE], ids=["number", "scale"])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2", D(2)),
        ("2.5", D("2.5")),
        ("2,5", D("2.5")),
        (" 3 ", D(3)),
        ("0", D(0)),
        ("0,75", D("0.75")),
        ("007", D(7)),
        ("1.234", D("1.234")),
        ("-0", D(0)),
        (3, D(3)),
        (0, D(0)),
        (2.5, D("2.5")),
        (0.1, D("0.1")),
        (D("4.25"), D("4.25")),
    ],
)
def test_numbers_accepted(criterion, raw, expected):
    value = parse_evidence(criterion, raw)
    assert isinstance(value, Decimal)
    assert value == expected
    assert not value.is_signed()


@pytest.mark.parametrize("criterion", [NUMBER, SCALE], ids=["number", "scale"])
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1.234,5", "plain decimal"),
        ("1,234.5", "plain decimal"),
        ("1 234", "plain decimal"),
        ("2,5,0", "plain decimal"),
        ("1..2", "plain decimal"),
        ("abc", "plain decimal"),
        ("1e3", "plain decimal"),
        ("1E3", "plain decimal"),
        ("NaN", "plain decimal"),
        ("nan", "plain decimal"),
        ("inf", "plain decimal"),
        ("Infinity", "plain decimal"),
        ("+3", "plain decimal"),
        (".5", "plain decimal"),
        ("5.", "plain decimal"),
        ("0x10", "plain decimal"),
        ("\u0663", "plain decimal"),  # an Arabic-Indic three: a digit to Python, not to us
        ("\uff11", "plain decimal"),  # a full-width one
        ("có", "plain decimal"),
        ("-1", "negative"),
        ("-0,5", "negative"),
        (-1, "negative"),
        (-0.5, "negative"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (D("NaN"), "finite"),
        (True, "not yes/no"),
        (False, "not yes/no"),
        (date(2025, 3, 1), "expected a number"),
    ],
)
def test_numbers_refused(criterion, raw, reason):
    with pytest.raises(EvidenceError, match=reason):
        parse_evidence(criterion, raw)


@pytest.mark.parametrize(
    "criterion", [BOOL, NUMBER, SCALE, SHARE], ids=["boolean", "number", "scale", "share"]
)
@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_empty_cells_are_missing_evidence(criterion, raw):
    assert parse_evidence(criterion, raw) is None


@pytest.mark.parametrize("raw", ["0.7", "70%", "1", 1, 0.7, True, "có"])
def test_share_criteria_take_no_evidence(raw):
    with pytest.raises(EvidenceError, match="derived"):
        parse_evidence(SHARE, raw)
