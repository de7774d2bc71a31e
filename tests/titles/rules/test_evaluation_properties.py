"""Properties of the evaluation rules over random valid criteria sets and evidence."""

import json
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from titles.rules.criteria_file import parse_criteria_set
from titles.rules.evaluation import (
    SHARE_OF,
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

amounts = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(40), places=1)
values = st.decimals(min_value=Decimal(0), max_value=Decimal(60), places=2)
fractions = st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=3)


@st.composite
def shares(draw: st.DrawFn) -> Share:
    denominator = draw(st.integers(min_value=0, max_value=60))
    return Share(draw(st.integers(min_value=0, max_value=denominator)), denominator)


@st.composite
def criteria(draw: st.DrawFn, code: str, title: Title) -> Criterion:
    kinds = list(CriterionType) if title in SHARE_OF else list(CriterionType)[:3]
    kind = draw(st.sampled_from(kinds))
    if kind is CriterionType.BOOLEAN:
        return Criterion(code=code, text="t", type=kind, points=draw(amounts))
    if kind is CriterionType.NUMBER:
        return Criterion(code=code, text="t", type=kind, min=draw(values), points=draw(amounts))
    if kind is CriterionType.SCALE:
        return Criterion(code=code, text="t", type=kind, max=draw(amounts))
    return Criterion(
        code=code,
        text="t",
        type=kind,
        of=SHARE_OF[title],
        min=draw(fractions),
        points=draw(amounts),
    )


@st.composite
def criteria_sets(draw: st.DrawFn) -> CriteriaSet:
    title = draw(st.sampled_from(list(Title)))
    count = draw(st.integers(min_value=1, max_value=8))
    items = tuple(draw(criteria(f"K{i}", title)) for i in range(count))
    top = sum((c.possible for c in items), Decimal(0))
    pass_min = draw(st.decimals(min_value=Decimal(0), max_value=top, places=1))
    outstanding = draw(st.none() | st.decimals(min_value=pass_min, max_value=top, places=1))
    valid_from = draw(st.integers(min_value=2000, max_value=2040))
    return CriteriaSet(
        code="SET",
        title=title,
        name="n",
        valid_from=valid_from,
        valid_to=draw(st.none() | st.integers(min_value=valid_from, max_value=2050)),
        province=draw(st.none() | st.sampled_from(["01", "17", "79"])),
        pass_min_points=pass_min,
        pass_required=tuple(draw(st.lists(st.sampled_from([c.code for c in items]), unique=True))),
        outstanding_min_points=outstanding,
        criteria=items,
    )


BOOLEAN = Criterion(code="X", text="t", type=CriterionType.BOOLEAN, points=Decimal(1))
NUMBER = Criterion(code="X", text="t", type=CriterionType.NUMBER, min=Decimal(1), points=Decimal(1))
SCALE = Criterion(code="X", text="t", type=CriterionType.SCALE, max=Decimal(1))
SHARE = Criterion(
    code="X", text="t", type=CriterionType.SHARE, of=Title.FAMILY, min=Decimal(1), points=Decimal(1)
)


def value_for(criterion: Criterion) -> st.SearchStrategy:
    if criterion.type is CriterionType.BOOLEAN:
        return st.booleans()
    return values


@st.composite
def cases(draw: st.DrawFn) -> tuple[CriteriaSet, dict, dict]:
    """A set with complete evidence and shares for every criterion."""
    criteria_set = draw(criteria_sets())
    evidence = {
        c.code: draw(value_for(c))
        for c in criteria_set.criteria
        if c.type is not CriterionType.SHARE
    }
    derived = {
        c.code: draw(shares()) for c in criteria_set.criteria if c.type is CriterionType.SHARE
    }
    return criteria_set, evidence, derived


def drop_some(draw: st.DrawFn, mapping: dict) -> dict:
    kept = draw(st.lists(st.sampled_from(sorted(mapping)), unique=True)) if mapping else []
    return {code: mapping[code] for code in kept}


@given(cases())
def test_points_stay_between_zero_and_the_maximum(case):
    criteria_set, evidence, derived = case
    evaluation = evaluate(criteria_set, evidence, derived)
    assert Decimal(0) <= evaluation.points <= criteria_set.max_points == evaluation.max_points
    assert evaluation.points == sum(r.earned for r in evaluation.criteria)
    for r in evaluation.criteria:
        assert Decimal(0) <= r.earned <= r.possible
        assert r.met == (r.earned > 0)
        assert record(r)


@given(cases(), st.data())
def test_adding_evidence_never_lowers_points(case, data):
    criteria_set, evidence, derived = case
    partial = evaluate(
        criteria_set, drop_some(data.draw, evidence), drop_some(data.draw, derived)
    ).points
    assert evaluate(criteria_set, evidence, derived).points >= partial


@given(cases(), st.data())
def test_raising_a_value_never_lowers_points(case, data):
    criteria_set, evidence, derived = case
    raised = {
        code: (value or data.draw(st.booleans()))
        if isinstance(value, bool)
        else value + data.draw(values)
        for code, value in evidence.items()
    }
    assert (
        evaluate(criteria_set, raised, derived).points
        >= evaluate(criteria_set, evidence, derived).points
    )


@given(cases(), st.data())
def test_a_larger_share_never_lowers_points(case, data):
    criteria_set, evidence, derived = case
    larger = {}
    for code, share in derived.items():
        other = data.draw(shares().filter(lambda s: s.denominator > 0))
        undefined = share.denominator == 0
        if undefined or Fraction(other.numerator, other.denominator) >= Fraction(
            share.numerator, share.denominator
        ):
            larger[code] = other
        else:
            larger[code] = share
    assert (
        evaluate(criteria_set, evidence, larger).points
        >= evaluate(criteria_set, evidence, derived).points
    )


@given(cases(), st.data())
def test_verdicts_follow_the_thresholds(case, data):
    criteria_set, evidence, derived = case
    evaluation = evaluate(
        criteria_set, drop_some(data.draw, evidence), drop_some(data.draw, derived)
    )
    met = {r.code for r in evaluation.criteria if r.met}
    if evaluation.passed:
        assert evaluation.points >= criteria_set.pass_min_points
        assert set(criteria_set.pass_required) <= met
        assert evaluation.failed_required == ()
    else:
        assert evaluation.points < criteria_set.pass_min_points or evaluation.failed_required
    if evaluation.outstanding:
        assert evaluation.passed
        assert criteria_set.outstanding_min_points is not None
        assert evaluation.points >= criteria_set.outstanding_min_points


@given(cases(), st.data())
def test_forcing_a_criterion_met_never_lowers_points_and_not_met_never_raises(case, data):
    criteria_set, evidence, derived = case
    code = data.draw(st.sampled_from([c.code for c in criteria_set.criteria]))
    plain = evaluate(criteria_set, evidence, derived)
    met = evaluate(criteria_set, evidence, derived, {code: True})
    unmet = evaluate(criteria_set, evidence, derived, {code: False})
    assert unmet.points <= plain.points <= met.points
    assert (
        next(r for r in met.criteria if r.code == code).earned
        == criteria_set.criterion(code).possible
    )


@given(cases())
def test_mapping_order_does_not_matter(case):
    criteria_set, evidence, derived = case
    reordered = dict(reversed(list(evidence.items())))
    assert evaluate(criteria_set, evidence, derived) == evaluate(criteria_set, reordered, derived)


@given(st.decimals(min_value=Decimal(0), max_value=Decimal(10**6), places=4), st.booleans())
def test_plain_decimals_parse_back_to_themselves(number, comma):
    criterion = Criterion(
        code="N", text="t", type=CriterionType.NUMBER, min=Decimal(1), points=Decimal(1)
    )
    text = format(number, "f")
    assert parse_evidence(criterion, text.replace(".", ",") if comma else text) == number


@given(
    st.sampled_from(list(CriterionType)),
    st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none()),
)
def test_any_cell_is_evidence_or_an_evidence_error(kind, raw):
    criterion = {
        CriterionType.BOOLEAN: BOOLEAN,
        CriterionType.NUMBER: NUMBER,
        CriterionType.SCALE: SCALE,
        CriterionType.SHARE: SHARE,
    }[kind]
    try:
        value = parse_evidence(criterion, raw)
    except EvidenceError as error:
        assert error.criterion_code == "X"
        return
    if value is None:
        return
    if kind is CriterionType.BOOLEAN:
        assert isinstance(value, bool)
    else:
        assert kind is not CriterionType.SHARE
        assert isinstance(value, Decimal) and value.is_finite() and value >= 0


def as_document(criteria_set: CriteriaSet) -> dict:
    """The criteria-set file a set was (or could have been) read from, numbers as floats."""

    def number(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    outstanding = criteria_set.outstanding_min_points
    return {
        "code": criteria_set.code,
        "title": str(criteria_set.title),
        "name": criteria_set.name,
        "valid_from": criteria_set.valid_from,
        "valid_to": criteria_set.valid_to,
        "province": criteria_set.province,
        "pass": {
            "min_points": number(criteria_set.pass_min_points),
            "required": list(criteria_set.pass_required),
        },
        "outstanding": None if outstanding is None else {"min_points": number(outstanding)},
        "criteria": [
            {
                key: value
                for key, value in {
                    "code": c.code,
                    "text": c.text,
                    "type": str(c.type),
                    "points": number(c.points),
                    "min": number(c.min),
                    "max": number(c.max),
                    "of": None if c.of is None else str(c.of),
                }.items()
                if value is not None
            }
            for c in criteria_set.criteria
        ],
    }


@given(criteria_sets())
def test_every_valid_set_survives_a_trip_through_its_json_file(criteria_set):
    assert parse_criteria_set(json.dumps(as_document(criteria_set))) == criteria_set
