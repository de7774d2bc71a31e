"""Checking typed evidence and wording outcomes: `check_evidence` and `explain`; no database."""

from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from titles.rules import explain
from titles.rules.evaluation import (
    Criterion,
    CriterionType,
    EvidenceError,
    EvidenceProblem,
    Reason,
    Share,
    Title,
    check_evidence,
    evidence_text,
    score_criterion,
)

D = Decimal

BOOL = Criterion(code="F1", text="t", type=CriterionType.BOOLEAN, points=D(20))
NUMBER = Criterion(code="F2", text="t", type=CriterionType.NUMBER, min=D(2), points=D(20))
SCALE = Criterion(code="F3", text="t", type=CriterionType.SCALE, max=D(10))
SHARE = Criterion(
    code="C2", text="t", type=CriterionType.SHARE, of=Title.FAMILY, min=D("0.05"), points=D(60)
)


def outcome(criterion, value=None, share=None, override=None):
    return score_criterion(criterion, value, share, override)[0]


# --- check_evidence: one check for forms (refuse) and files (cap) ---------------------------------


@pytest.mark.parametrize("raw", ["9,5", "9.5", " 9,5 ", "09.50"])
def test_a_comma_and_a_dot_mean_the_same(raw):
    checked = check_evidence(SCALE, raw, cap=False)
    assert checked.value == D("9.5") and not checked.capped
    assert evidence_text(checked.value) == "9.5"


@pytest.mark.parametrize("raw", ["15", "10.01", "10,5", 11])
def test_typed_scale_above_its_maximum_is_refused(raw):
    with pytest.raises(EvidenceError) as caught:
        check_evidence(SCALE, raw, cap=False)
    assert caught.value.problem is EvidenceProblem.ABOVE_MAX


def test_a_files_scale_above_its_maximum_is_kept_and_marked_capped():
    checked = check_evidence(SCALE, "15", cap=True)
    assert checked.value == D(15) and checked.capped
    assert outcome(SCALE, checked.value).earned == D(10)
    assert not check_evidence(SCALE, "10", cap=True).capped


@pytest.mark.parametrize("cap", [False, True])
@pytest.mark.parametrize(
    ("criterion", "raw", "problem"),
    [
        (SCALE, "abc", EvidenceProblem.NOT_A_NUMBER),
        (SCALE, "-1", EvidenceProblem.NEGATIVE),
        (NUMBER, "abc", EvidenceProblem.NOT_A_NUMBER),
        (NUMBER, "-0,5", EvidenceProblem.NEGATIVE),
        (NUMBER, "1.234,5", EvidenceProblem.NOT_A_NUMBER),
        (BOOL, "maybe", EvidenceProblem.NOT_YES_NO),
        (SHARE, "0.7", EvidenceProblem.DERIVED),
    ],
)
def test_bad_values_are_refused_whatever_the_path(criterion, raw, problem, cap):
    with pytest.raises(EvidenceError) as caught:
        check_evidence(criterion, raw, cap=cap)
    assert caught.value.problem is problem


def test_a_number_has_no_maximum():
    assert check_evidence(NUMBER, "15", cap=False).value == D(15)


@pytest.mark.parametrize(
    ("criterion", "raw", "vietnamese"),
    [
        (SCALE, "15", "Tối đa 10 điểm: 15 vượt quá mức tối đa."),
        (SCALE, "abc", "Nhập số điểm từ 0 đến 10, ví dụ 7 hoặc 7,5."),
        (SCALE, "-1", "Nhập số điểm từ 0 đến 10, ví dụ 7 hoặc 7,5."),
        (NUMBER, "abc", "Nhập một số từ 0 trở lên, ví dụ 3 hoặc 2,5."),
        (BOOL, "maybe", "Chọn Có, Không hoặc Chưa rõ."),
    ],
)
def test_refusals_are_worded_in_vietnamese(criterion, raw, vietnamese):
    with pytest.raises(EvidenceError) as caught:
        check_evidence(criterion, raw, cap=False)
    with translation.override("vi"):
        assert explain.evidence_message(criterion, caught.value) == vietnamese


def test_the_capped_note_names_the_cell():
    with translation.override("en"):
        note = explain.capped_note(row=3, column="c.F3", criterion=SCALE, raw="15")
    assert note == "Row 3, column c.F3: 15 is above the maximum of 10 for F3 and counts as 10."
    with translation.override("vi"):
        note = explain.capped_note(row=3, column="c.F3", criterion=SCALE, raw="15")
    assert note.startswith("Dòng 3, cột c.F3: 15 vượt quá mức tối đa 10")


# --- outcomes as data, worded once ------------------------------------------------------------


def test_an_outcome_carries_its_figures_and_a_reason_code():
    r = outcome(SHARE, share=Share(1, 16))
    assert (r.type, r.reason, r.earned, r.possible, r.threshold) == (
        CriterionType.SHARE,
        Reason.SHARE_MET,
        D(60),
        D(60),
        D("0.05"),
    )
    assert r.share is not None and r.share.numerator == 1 and r.share.denominator == 16
    capped = outcome(SCALE, D(15))
    assert (capped.reason, capped.earned, capped.maximum) == (Reason.CAPPED, D(10), D(10))


@pytest.mark.parametrize(
    ("result", "english", "vietnamese"),
    [
        (outcome(BOOL, True), "Yes → 20 points", "Có → 20 điểm"),
        (outcome(NUMBER, D("2.5")), "2.5 ≥ 2 → 20 points", "2,5 ≥ 2 → 20 điểm"),
        (outcome(SCALE, D("9.5")), "scale 9.5 of 10 → 9.5 points", "thang điểm 9,5/10 → 9,5 điểm"),
        (outcome(SHARE, share=Share(1, 16)), "1/16 = 6.3% ≥ 5.0% → 60 points", "6,3%"),
    ],
)
def test_describe_in_both_languages(result, english, vietnamese):
    with translation.override("en"):
        assert explain.describe(result) == english
    with translation.override("vi"):
        assert vietnamese in explain.describe(result)


def test_the_record_is_fixed_english_whatever_the_language():
    r = outcome(SHARE, share=Share(1, 16))
    with translation.override("vi"):
        assert explain.record(r) == "1/16 = 6.3% ≥ 5.0% → 60 points"
    assert explain.record(outcome(SCALE, D(15))) == "scale 15 capped at 10 → 10 points"


def test_the_evidence_page_and_the_result_show_the_same_share():
    r = outcome(SHARE, share=Share(1, 16))
    with translation.override("vi"):
        assert "= 6,3%, cần ≥ 5,0%" in explain.share_summary(r)
        assert "1/16 = 6,3% ≥ 5,0%" in explain.describe(r)


def test_a_stored_entry_is_read_back_through_the_rules():
    entry = {
        "code": "F3",
        "type": "scale",
        "evidence": "15",
        "derived": None,
        "earned": "10",
        "met": True,
        "overridden": False,
    }
    assert explain.from_entry(entry, SCALE) == outcome(SCALE, D(15))
    overridden = {**entry, "evidence": "true", "overridden": True, "met": False}
    r = explain.from_entry(overridden, BOOL)
    assert (r.earned, r.override, r.rules_earned) == (D(0), False, D(20))


@given(st.decimals(min_value=D(0), max_value=D(100), places=2))
def test_typed_scale_values_are_accepted_exactly_within_the_range(value):
    typed = format(value, "f").replace(".", ",")
    if value <= SCALE.max:
        assert check_evidence(SCALE, typed, cap=False).value == value
    else:
        with pytest.raises(EvidenceError):
            check_evidence(SCALE, typed, cap=False)
    from_file = check_evidence(SCALE, typed, cap=True)
    assert (from_file.value, from_file.capped) == (value, value > SCALE.max)
