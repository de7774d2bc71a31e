"""The evaluation rules: a criteria set, evidence and derived shares in; a scored result out.

Pure functions over frozen dataclasses. Nothing here imports Django or touches the database
(CONVENTIONS point 4): a service loads the data, calls `evaluate`, and saves the result. Each
criterion's outcome is structured data (its criterion, the evidence or derived share, points
earned and possible, a `Reason` code); `titles.rules.explain` words it, for people and for the
stored record. The semantics are the binding contract of DESIGN section 4:

* `boolean` earns its points when true; `number` when the value ≥ min; `scale` earns the value,
  capped at max; `share` earns its points when numerator/denominator ≥ min (a share of nothing,
  denominator 0, is never met). Missing evidence earns nothing.
* Passed: total ≥ pass threshold and every required criterion met. Outstanding: passed, an
  outstanding threshold is set, and total ≥ it.

Invariants every result keeps: 0 ≤ earned ≤ possible per criterion; `met` ⇔ earned > 0;
0 ≤ points ≤ max_points; outstanding ⇒ passed. Numbers are Decimals and shares compare as exact
fractions, so 7/10 against a minimum of 0.7 is met — no float rounding anywhere.

Evidence typed by a person (`check_evidence(..., cap=False)`: the staff form and the
self-assessment form) must lie in the criterion's range; evidence from a file
(`cap=True`) keeps the file contract, a scale above its maximum counting as the maximum, and
says that it was capped so the import can warn.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType

EvidenceValue = Decimal | bool | None
"""A parsed evidence value: bool for boolean criteria, a Decimal ≥ 0 for number and scale ones,
None for missing evidence (and always for share criteria, whose value is derived)."""

RawEvidence = str | int | float | bool | Decimal | None
"""What a spreadsheet cell or a form field may hand to `parse_evidence`."""


class Title(StrEnum):
    """The five titles; the values are the entity kinds used across the project."""

    FAMILY = "family"
    CLAN = "clan"
    COMMUNITY = "community"
    UNIT = "unit"
    CITIZEN = "citizen"


class CriterionType(StrEnum):
    BOOLEAN = "boolean"
    NUMBER = "number"
    SCALE = "scale"
    SHARE = "share"


SHARE_OF: Mapping[Title, Title] = MappingProxyType(
    {Title.CLAN: Title.FAMILY, Title.COMMUNITY: Title.FAMILY, Title.UNIT: Title.CITIZEN}
)
"""The member kind a title's share criteria count: a clan's or a community's households are
Learning Families, a unit's staff are Learning Citizens. Families and citizens have no members
holding a title, so they have no share criteria."""

_EMPTY: Mapping = MappingProxyType({})


@dataclass(frozen=True)
class Criterion:
    """One criterion of a set. Which of points/min/max/of apply depends on the type:

    boolean: points.  number: min (≥ 0) and points.  scale: max (> 0), no points.
    share: of (a member title), min in [0, 1] and points.  Points are always > 0.
    `criteria_file` refuses malformed documents with readable messages; the checks here are a
    backstop for sets built in code.
    """

    code: str
    text: str
    type: CriterionType
    points: Decimal | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    of: Title | None = None
    text_en: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", CriterionType(self.type))
        if self.of is not None:
            object.__setattr__(self, "of", Title(self.of))
        wanted = {
            CriterionType.BOOLEAN: {"points"},
            CriterionType.NUMBER: {"points", "min"},
            CriterionType.SCALE: {"max"},
            CriterionType.SHARE: {"points", "min", "of"},
        }[self.type]
        given = {name for name in ("points", "min", "max", "of") if getattr(self, name) is not None}
        if given != wanted:
            raise ValueError(
                f"criterion {self.code}: a {self.type} criterion takes {sorted(wanted)}, "
                f"got {sorted(given)}"
            )
        if self.points is not None and self.points <= 0:
            raise ValueError(f"criterion {self.code}: points must be > 0")
        if self.max is not None and self.max <= 0:
            raise ValueError(f"criterion {self.code}: max must be > 0")
        if self.min is not None and self.min < 0:
            raise ValueError(f"criterion {self.code}: min must be ≥ 0")
        if self.type is CriterionType.SHARE and self.min is not None and self.min > 1:
            raise ValueError(f"criterion {self.code}: a share's min must be ≤ 1")

    @property
    def possible(self) -> Decimal:
        """The most this criterion can earn: its points, or a scale's max."""
        value = self.max if self.type is CriterionType.SCALE else self.points
        assert value is not None
        return value


@dataclass(frozen=True)
class CriteriaSet:
    """The criteria for one title over an inclusive range of years, optionally for one province.

    `valid_to` None means open-ended; `province` None means national (the shipped defaults).
    Invariants checked here: criterion codes are unique, required codes name criteria, share
    criteria count the member kind the title has (`SHARE_OF`).
    """

    code: str
    title: Title
    name: str
    valid_from: int
    valid_to: int | None
    province: str | None
    pass_min_points: Decimal
    pass_required: tuple[str, ...]
    outstanding_min_points: Decimal | None
    criteria: tuple[Criterion, ...]
    name_en: str | None = None
    source: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", Title(self.title))
        codes = [criterion.code for criterion in self.criteria]
        if len(set(codes)) != len(codes):
            raise ValueError(f"criteria set {self.code}: duplicate criterion codes")
        unknown = set(self.pass_required) - set(codes)
        if unknown:
            raise ValueError(f"criteria set {self.code}: required {sorted(unknown)} not criteria")
        for criterion in self.criteria:
            if criterion.type is CriterionType.SHARE and SHARE_OF.get(self.title) != criterion.of:
                raise ValueError(
                    f"criteria set {self.code}: share {criterion.code} of {criterion.of} "
                    f"does not fit the title {self.title}"
                )

    @cached_property
    def max_points(self) -> Decimal:
        """The most any evidence can earn: the sum of points, scales contributing their max.
        (Computed once per set: the set is frozen, and `combine` reads it for every result.)"""
        return sum((criterion.possible for criterion in self.criteria), Decimal(0))

    def criterion(self, code: str) -> Criterion:
        """The criterion with this code; KeyError if the set has none."""
        for criterion in self.criteria:
            if criterion.code == code:
                return criterion
        raise KeyError(code)

    def is_valid_in(self, year: int) -> bool:
        """Whether the set is in force in `year` (both ends inclusive)."""
        return self.valid_from <= year and (self.valid_to is None or year <= self.valid_to)


@dataclass(frozen=True)
class Share:
    """A derived figure: `numerator` of `denominator` member entities recognised in the year."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if not 0 <= self.numerator <= self.denominator:
            shown = f"{self.numerator}/{self.denominator}"
            raise ValueError(f"a share needs 0 ≤ numerator ≤ denominator, got {shown}")


class Reason(StrEnum):
    """Why a criterion earned what it earned, by the rules alone (an override says so apart)."""

    MISSING = "missing"  # no evidence
    YES = "yes"  # boolean true: its points
    NO = "no"  # boolean false: nothing
    AT_LEAST = "at_least"  # number ≥ min: its points
    BELOW = "below"  # number < min: nothing
    SCALE = "scale"  # scale within its max: the value
    CAPPED = "capped"  # scale above its max: the max
    SHARE_MISSING = "share_missing"  # no derived share given
    SHARE_UNDEFINED = "share_undefined"  # a share of no members: never met
    SHARE_MET = "share_met"  # share ≥ min: its points
    SHARE_BELOW = "share_below"  # share < min: nothing


@dataclass(frozen=True)
class CriterionResult:
    """How one criterion scored, as data: the criterion (its type, threshold, maximum, points),
    the evidence or derived share, what the rules alone award and why (`reason`,
    `rules_earned`), and the official's override if any. `titles.rules.explain` puts it into
    words ("3 ≥ 2 → 20 points").

    Invariant: 0 ≤ earned ≤ possible, and met ⇔ earned > 0; without an override, earned is
    `rules_earned`.
    """

    criterion: Criterion
    earned: Decimal
    met: bool
    evidence: EvidenceValue
    derived: Share | None
    reason: Reason
    rules_earned: Decimal
    override: bool | None = None

    @property
    def code(self) -> str:
        return self.criterion.code

    @property
    def type(self) -> CriterionType:
        return self.criterion.type

    @property
    def possible(self) -> Decimal:
        return self.criterion.possible

    @property
    def threshold(self) -> Decimal | None:
        """A number's minimum, or a share's minimum as a fraction of 1."""
        return self.criterion.min

    @property
    def maximum(self) -> Decimal | None:
        """A scale's maximum."""
        return self.criterion.max

    @property
    def share(self) -> Fraction | None:
        """The derived share as an exact fraction; None when missing or of no members."""
        if self.derived is None or self.derived.denominator == 0:
            return None
        return Fraction(self.derived.numerator, self.derived.denominator)


@dataclass(frozen=True)
class Evaluation:
    """The scored result of one entity against one criteria set.

    `missing` lists criteria that earned nothing for lack of evidence (or of a derived share)
    and were not overridden; `failed_required` lists required criteria not met.
    """

    points: Decimal
    max_points: Decimal
    passed: bool
    outstanding: bool
    criteria: tuple[CriterionResult, ...]
    missing: tuple[str, ...]
    failed_required: tuple[str, ...]


class EvidenceProblem(StrEnum):
    """What is wrong with a value given as evidence."""

    NOT_YES_NO = "not_yes_no"
    NOT_A_NUMBER = "not_a_number"
    NEGATIVE = "negative"
    ABOVE_MAX = "above_max"
    DERIVED = "derived"  # a value given for a share criterion


_PROBLEM_TEXT: Mapping[EvidenceProblem, str] = MappingProxyType(
    {
        EvidenceProblem.NOT_YES_NO: "expected yes/no: 1/0, true/false, yes/no or có/không",
        EvidenceProblem.NOT_A_NUMBER: (
            "expected a plain decimal number such as 2 or 2.5 or 2,5 (no separators)"
        ),
        EvidenceProblem.NEGATIVE: "must not be negative",
        EvidenceProblem.ABOVE_MAX: "above the scale's maximum",
        EvidenceProblem.DERIVED: "a share criterion is derived from recognitions; leave it empty",
    }
)


class EvidenceError(ValueError):
    """A value that is neither missing nor valid evidence for its criterion.

    `problem` says what is wrong (for `explain` to word it); `reason` is an English detail for
    logs and programmers.
    """

    def __init__(
        self,
        criterion_code: str,
        raw: object,
        problem: EvidenceProblem,
        detail: str | None = None,
    ) -> None:
        self.criterion_code = criterion_code
        self.raw = raw
        self.problem = problem
        self.reason = detail or _PROBLEM_TEXT[problem]
        super().__init__(f"{criterion_code}: {raw!r} is not valid evidence: {self.reason}")


@dataclass(frozen=True)
class CheckedEvidence:
    """Valid evidence: the parsed value, and whether a file's scale value above the maximum
    will count as the maximum (`capped`)."""

    value: EvidenceValue
    capped: bool = False


_TRUE = frozenset({"1", "true", "yes", "có", "co"})
_FALSE = frozenset({"0", "false", "no", "không", "khong"})
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")


def parse_evidence(criterion: Criterion, raw: RawEvidence) -> EvidenceValue:
    """Turn one spreadsheet cell, form value or stored text into evidence for `criterion`.

    None or a blank string is missing evidence (None). Booleans accept 1/0, true/false, yes/no
    and có/không in any case, with surrounding white space; "co"/"khong" without diacritics are
    accepted too, since phones and old spreadsheets often drop them. Numbers are plain decimals
    with a dot or a comma as the decimal mark ("2,5" is 2.5); there is no thousands separator,
    so "1.234" is 1.234 and "1.234,5" is refused, as are exponents, NaN and infinities. Number
    and scale values must be ≥ 0. Share criteria are derived from other recognitions, so any
    value given for one is refused. Everything else raises EvidenceError.

    A scale value above the maximum parses (stored file values count as the maximum); what a
    person types is checked against the range by `check_evidence`.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if criterion.type is CriterionType.SHARE:
        raise EvidenceError(criterion.code, raw, EvidenceProblem.DERIVED)
    if criterion.type is CriterionType.BOOLEAN:
        return _parse_boolean(criterion.code, raw)
    value = _parse_decimal(criterion.code, raw)
    if value < 0:
        raise EvidenceError(criterion.code, raw, EvidenceProblem.NEGATIVE)
    return value.copy_abs()  # "-0" is 0


def check_evidence(criterion: Criterion, raw: RawEvidence, *, cap: bool) -> CheckedEvidence:
    """Validate one value of evidence for `criterion`: the one check every path shares.

    As `parse_evidence`, and a scale value above the criterion's maximum is refused
    (EvidenceProblem.ABOVE_MAX) unless `cap`, when it is valid and marked `capped` (a file's
    contract: the value counts as the maximum).
    """
    value = parse_evidence(criterion, raw)
    if (
        criterion.type is CriterionType.SCALE
        and isinstance(value, Decimal)
        and criterion.max is not None
        and value > criterion.max
    ):
        if not cap:
            raise EvidenceError(criterion.code, raw, EvidenceProblem.ABOVE_MAX)
        return CheckedEvidence(value, capped=True)
    return CheckedEvidence(value)


def evidence_text(value: EvidenceValue) -> str:
    """How a person's valid evidence is stored: a number in plain form with a dot ("9,5" and
    "9.5" are "9.5", "07" is "7"), yes/no as "yes"/"no"; "" when missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return format(value.normalize(), "f")


def _parse_boolean(code: str, raw: RawEvidence) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float | Decimal) and _is_finite(raw) and raw in (0, 1):
        return raw == 1
    if isinstance(raw, str):
        word = unicodedata.normalize("NFC", raw).strip().casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise EvidenceError(code, raw, EvidenceProblem.NOT_YES_NO)


def _parse_decimal(code: str, raw: RawEvidence) -> Decimal:
    if isinstance(raw, bool):
        raise EvidenceError(
            code, raw, EvidenceProblem.NOT_A_NUMBER, "expected a number, not yes/no"
        )
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float | Decimal):
        if not _is_finite(raw):
            raise EvidenceError(code, raw, EvidenceProblem.NOT_A_NUMBER, "expected a finite number")
        # repr gives the shortest text that round-trips, so 2.5 stays 2.5 and not 2.4999…
        return Decimal(repr(raw)) if isinstance(raw, float) else raw
    if not isinstance(raw, str):  # a spreadsheet date, say
        raise EvidenceError(code, raw, EvidenceProblem.NOT_A_NUMBER, "expected a number")
    text = raw.strip()
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise EvidenceError(code, raw, EvidenceProblem.NOT_A_NUMBER)
    return Decimal(text.replace(",", "."))


def _is_finite(value: int | float | Decimal) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


def evaluate(
    criteria_set: CriteriaSet,
    evidence: Mapping[str, EvidenceValue],
    shares: Mapping[str, Share] = _EMPTY,
    overrides: Mapping[str, bool] = _EMPTY,
) -> Evaluation:
    """Score `evidence` and `shares` against `criteria_set`; see the module docstring for rules.

    `evidence` maps criterion codes to parsed values (`parse_evidence`); absent codes are
    missing. `shares` maps share criterion codes to their derived figures; absent ones are
    missing too. `overrides` lets an official force a criterion met (it earns its full points,
    a scale its max) or not met (it earns 0); the reason records both the override and what the
    rules alone said. Codes that are not criteria of the set, a value given for a share
    criterion, or a share given for another type are programming errors: ValueError.
    """
    _check_codes(criteria_set, evidence, shares, overrides)
    results: list[CriterionResult] = []
    missing: list[str] = []
    for criterion in criteria_set.criteria:
        result, is_missing = score_criterion(
            criterion,
            evidence.get(criterion.code),
            shares.get(criterion.code),
            overrides.get(criterion.code),
        )
        results.append(result)
        if is_missing:
            missing.append(criterion.code)
    return combine(criteria_set, results, missing)


def score_criterion(
    criterion: Criterion, value: EvidenceValue, share: Share | None, override: bool | None
) -> tuple[CriterionResult, bool]:
    """One criterion's part of `evaluate`: its result, and whether it counts as missing.

    It depends on nothing but its arguments, so a caller scoring many entities may reuse it
    for every entity with the same value, share and override. Its arguments are trusted:
    `evaluate` checks them first. An override forces the criterion met (its full points, a
    scale its max) or not met (nothing); the result keeps what the rules alone said.
    """
    rules_earned, reason = _score(criterion, value, share)
    earned = rules_earned
    is_missing = False
    if override is not None:
        earned = criterion.possible if override else Decimal(0)
    elif _is_missing(criterion, value, share):
        is_missing = True
    result = CriterionResult(
        criterion=criterion,
        earned=earned,
        met=earned > 0,
        evidence=value,
        derived=share,
        reason=reason,
        rules_earned=rules_earned,
        override=override,
    )
    return result, is_missing


def combine(
    criteria_set: CriteriaSet, results: Sequence[CriterionResult], missing: Sequence[str]
) -> Evaluation:
    """The rest of `evaluate`: the total, pass and outstanding from the set's criteria
    `results` (in the set's order, from `score_criterion`) and the codes `missing`."""
    points = sum((result.earned for result in results), Decimal(0))
    met = {result.code for result in results if result.met}
    failed_required = tuple(code for code in criteria_set.pass_required if code not in met)
    passed = points >= criteria_set.pass_min_points and not failed_required
    threshold = criteria_set.outstanding_min_points
    return Evaluation(
        points=points,
        max_points=criteria_set.max_points,
        passed=passed,
        outstanding=passed and threshold is not None and points >= threshold,
        criteria=tuple(results),
        missing=tuple(missing),
        failed_required=failed_required,
    )


def _check_codes(
    criteria_set: CriteriaSet,
    evidence: Mapping[str, EvidenceValue],
    shares: Mapping[str, Share],
    overrides: Mapping[str, bool],
) -> None:
    types = {criterion.code: criterion.type for criterion in criteria_set.criteria}
    for name, mapping in (("evidence", evidence), ("shares", shares), ("overrides", overrides)):
        unknown = sorted(set(mapping) - set(types))
        if unknown:
            raise ValueError(f"{name} for codes not in {criteria_set.code}: {unknown}")
    for code, value in evidence.items():
        if value is not None:
            _check_value(code, types[code], value)
    wrong = sorted(code for code in shares if types[code] is not CriterionType.SHARE)
    if wrong:
        raise ValueError(f"shares given for criteria that are not share criteria: {wrong}")
    not_bool = sorted(code for code, forced in overrides.items() if not isinstance(forced, bool))
    if not_bool:
        raise ValueError(f"overrides must be True or False: {not_bool}")


def _check_value(code: str, type: CriterionType, value: Decimal | bool) -> None:
    if type is CriterionType.SHARE:
        raise ValueError(f"{code} is a share criterion: its value is derived, not evidence")
    if type is CriterionType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError(f"{code}: boolean evidence must be a bool, got {value!r}")
    elif not (isinstance(value, Decimal) and value.is_finite() and value >= 0):
        raise ValueError(f"{code}: evidence must be a finite Decimal ≥ 0, got {value!r}")


def _is_missing(criterion: Criterion, value: EvidenceValue, share: Share | None) -> bool:
    if criterion.type is CriterionType.SHARE:
        return share is None
    return value is None


def _score(
    criterion: Criterion, value: EvidenceValue, share: Share | None
) -> tuple[Decimal, Reason]:
    """What the rules alone award, and why."""
    nothing = Decimal(0)
    if criterion.type is CriterionType.SHARE:
        return _score_share(criterion, share)
    if value is None:
        return nothing, Reason.MISSING
    if criterion.type is CriterionType.BOOLEAN:
        return (criterion.possible, Reason.YES) if value else (nothing, Reason.NO)
    assert isinstance(value, Decimal)
    if criterion.type is CriterionType.NUMBER:
        assert criterion.min is not None
        if value >= criterion.min:
            return criterion.possible, Reason.AT_LEAST
        return nothing, Reason.BELOW
    top = criterion.possible
    if value > top:
        return top, Reason.CAPPED
    return value, Reason.SCALE


def _score_share(criterion: Criterion, share: Share | None) -> tuple[Decimal, Reason]:
    nothing = Decimal(0)
    assert criterion.min is not None and criterion.of is not None
    if share is None:
        return nothing, Reason.SHARE_MISSING
    if share.denominator == 0:
        return nothing, Reason.SHARE_UNDEFINED
    if Fraction(share.numerator, share.denominator) >= Fraction(criterion.min):
        return criterion.possible, Reason.SHARE_MET
    return nothing, Reason.SHARE_BELOW
