"""The one wording of the rules: what a criterion's outcome and an evidence problem say.

The rules (`titles.rules.evaluation`) decide and return data; this module only puts that data
into words, for every page, form, certificate, import report and export:

- `describe` / `describe_rules`: a criterion's outcome in the active language ("3 ≥ 2 → 20
  điểm" in Vietnamese), through gettext;
- `record`: the fixed English reason stored with each outcome (`CriterionOutcome`), the same
  whatever the language of the request, so equal outcomes stay equal;
- `share_summary`: a derived share as the evidence page states it;
- `evidence_message` and `capped_note`: why typed evidence is refused, and the warning for a
  file's scale value counted as its maximum.

Shares and percentages go through `titles.rules.rounding` (half up, one decimal), so a figure
reads the same on the evidence page, in the result and in a roll-up. Stored results are read
back through `from_entry`, which asks the rules again rather than deciding here.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from titles.rules.evaluation import (
    Criterion,
    CriterionResult,
    CriterionType,
    EvidenceError,
    EvidenceProblem,
    Reason,
    Share,
    Title,
    parse_evidence,
    score_criterion,
)
from titles.rules.rounding import PLACES, fraction_percent

MISSING = "—"
_MORE_PLACES = 6


# --- figures ------------------------------------------------------------------------------------


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros, with a dot: 2.50 → "2.5", 1E+2 → "100"."""
    return format(value.normalize(), "f")


def as_decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a stored figure ("12.50", 3, Decimal); None for anything else."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number_ = Decimal(str(value))
    except InvalidOperation:
        return None
    return number_ if number_.is_finite() else None


def number(value: Any) -> str:
    """A number as the active language writes it, without trailing zeros: 2.50 → "2,5" in vi;
    a dash when there is none."""
    figure = as_decimal(value)
    if figure is None:
        return MISSING
    return number_format(Decimal(plain(figure)))


def share_percents(ratio: Fraction, minimum: Fraction) -> tuple[Decimal, Decimal, int]:
    """A share and its minimum as percentages, rounded half up to one decimal, or to as many
    more as it takes for a share below its minimum not to look equal to it (2/3 against 0.667:
    66.67% < 66.70%). Returns both and the number of decimals."""
    places = PLACES
    while True:
        shown, shown_min = fraction_percent(ratio, places), fraction_percent(minimum, places)
        if shown != shown_min or ratio == minimum or places >= _MORE_PLACES:
            return shown, shown_min, places
        places += 1


def _percent_pair(ratio: Fraction, minimum: Fraction) -> tuple[str, str]:
    shown, shown_min, places = share_percents(ratio, minimum)
    return (
        f"{number_format(shown, decimal_pos=places)}%",
        f"{number_format(shown_min, decimal_pos=places)}%",
    )


def _plural_count(value: Decimal) -> int:
    """What ngettext needs: the value itself when whole, else a count that reads as plural."""
    return int(value) if value == value.to_integral_value() else 2


def _fill(template_text: str, earned: Decimal, **params: Any) -> str:
    """`template_text` (an ngettext result, so makemessages sees both forms) with its points."""
    return template_text % {**params, "points": number(earned)}


def _member_noun(of: Title | None) -> str:
    return gettext("member citizens") if of == Title.CITIZEN else gettext("member families")


# --- the stored record (fixed English) ------------------------------------------------------


def _record_points(value: Decimal) -> str:
    return f"{plain(value)} point" if value == 1 else f"{plain(value)} points"


def _record_rules(result: CriterionResult) -> str:
    criterion, earned = result.criterion, _record_points(result.rules_earned)
    value, share = result.evidence, result.derived
    match result.reason:
        case Reason.MISSING:
            return f"missing evidence → {earned}"
        case Reason.YES:
            return f"true → {earned}"
        case Reason.NO:
            return f"false → {earned}"
        case Reason.AT_LEAST | Reason.BELOW:
            assert isinstance(value, Decimal) and criterion.min is not None
            sign = "≥" if result.reason is Reason.AT_LEAST else "<"
            return f"{plain(value)} {sign} {plain(criterion.min)} → {earned}"
        case Reason.CAPPED:
            assert isinstance(value, Decimal)
            return f"scale {plain(value)} capped at {plain(criterion.possible)} → {earned}"
        case Reason.SCALE:
            assert isinstance(value, Decimal)
            return f"scale {plain(value)} of {plain(criterion.possible)} → {earned}"
        case Reason.SHARE_MISSING:
            return f"missing share → {earned}"
        case Reason.SHARE_UNDEFINED:
            noun = "member citizens" if criterion.of == Title.CITIZEN else "member families"
            return f"0 {noun}: share undefined → {earned}"
    assert share is not None and criterion.min is not None
    shown, shown_min, _places = share_percents(
        Fraction(share.numerator, share.denominator), Fraction(criterion.min)
    )
    sign = "≥" if result.reason is Reason.SHARE_MET else "<"
    return f"{share.numerator}/{share.denominator} = {shown}% {sign} {shown_min}% → {earned}"


def record(result: CriterionResult) -> str:
    """The reason stored with an outcome, in fixed English: "3 ≥ 2 → 20 points",
    "overridden: met → 20 points (rules said: 1 < 2 → 0 points)"."""
    rules_said = _record_rules(result)
    if result.override is None:
        return rules_said
    verdict = "met" if result.override else "not met"
    return f"overridden: {verdict} → {_record_points(result.earned)} (rules said: {rules_said})"


# --- in the active language -----------------------------------------------------------------


def describe_rules(result: CriterionResult) -> str:
    """What the rules alone award for the evidence or share, in words. For an outcome that was
    not overridden this is its whole explanation."""
    criterion, earned = result.criterion, result.rules_earned
    value, share = result.evidence, result.derived
    match result.reason:
        case Reason.MISSING:
            text = ngettext(
                "no evidence yet → %(points)s point",
                "no evidence yet → %(points)s points",
                _plural_count(earned),
            )
            return _fill(text, earned)
        case Reason.YES:
            text = ngettext(
                "Yes → %(points)s point", "Yes → %(points)s points", _plural_count(earned)
            )
            return _fill(text, earned)
        case Reason.NO:
            text = ngettext(
                "No → %(points)s point", "No → %(points)s points", _plural_count(earned)
            )
            return _fill(text, earned)
        case Reason.AT_LEAST:
            text = ngettext(
                "%(value)s ≥ %(min)s → %(points)s point",
                "%(value)s ≥ %(min)s → %(points)s points",
                _plural_count(earned),
            )
            return _fill(text, earned, value=number(value), min=number(criterion.min))
        case Reason.BELOW:
            text = ngettext(
                "%(value)s < %(min)s → %(points)s point",
                "%(value)s < %(min)s → %(points)s points",
                _plural_count(earned),
            )
            return _fill(text, earned, value=number(value), min=number(criterion.min))
        case Reason.CAPPED:
            text = ngettext(
                "scale %(value)s, at most %(max)s → %(points)s point",
                "scale %(value)s, at most %(max)s → %(points)s points",
                _plural_count(earned),
            )
            return _fill(text, earned, value=number(value), max=number(criterion.possible))
        case Reason.SCALE:
            text = ngettext(
                "scale %(value)s of %(max)s → %(points)s point",
                "scale %(value)s of %(max)s → %(points)s points",
                _plural_count(earned),
            )
            return _fill(text, earned, value=number(value), max=number(criterion.possible))
        case Reason.SHARE_MISSING:
            text = ngettext(
                "share not computed yet → %(points)s point",
                "share not computed yet → %(points)s points",
                _plural_count(earned),
            )
            return _fill(text, earned)
        case Reason.SHARE_UNDEFINED:
            text = ngettext(
                "no %(members)s: share undefined → %(points)s point",
                "no %(members)s: share undefined → %(points)s points",
                _plural_count(earned),
            )
            return _fill(text, earned, members=_member_noun(criterion.of))
    assert share is not None and criterion.min is not None
    shown, shown_min = _percent_pair(
        Fraction(share.numerator, share.denominator), Fraction(criterion.min)
    )
    params = {"num": share.numerator, "den": share.denominator, "share": shown, "min": shown_min}
    if result.reason is Reason.SHARE_MET:
        text = ngettext(
            "%(num)s/%(den)s = %(share)s ≥ %(min)s → %(points)s point",
            "%(num)s/%(den)s = %(share)s ≥ %(min)s → %(points)s points",
            _plural_count(earned),
        )
    else:
        text = ngettext(
            "%(num)s/%(den)s = %(share)s < %(min)s → %(points)s point",
            "%(num)s/%(den)s = %(share)s < %(min)s → %(points)s points",
            _plural_count(earned),
        )
    return _fill(text, earned, **params)


def describe(result: CriterionResult) -> str:
    """One criterion's outcome in words, in the active language; an override says so first."""
    if result.override is None:
        return describe_rules(result)
    earned = result.earned
    if result.override:
        text = ngettext(
            "overridden: met → %(points)s point",
            "overridden: met → %(points)s points",
            _plural_count(earned),
        )
    else:
        text = ngettext(
            "overridden: not met → %(points)s point",
            "overridden: not met → %(points)s points",
            _plural_count(earned),
        )
    return _fill(text, earned)


def share_summary(result: CriterionResult) -> str:
    """A share criterion's figure as the evidence page states it: "7 of 10 households
    recognised as Learning Families = 70,0%, needs ≥ 70,0%" — the same percentages as the
    result's explanation."""
    criterion, share = result.criterion, result.derived
    assert criterion.min is not None
    if criterion.of == Title.CITIZEN:
        what = gettext("staff recognised as Learning Citizens")
    else:
        what = gettext("households recognised as Learning Families")
    minimum = Fraction(criterion.min)
    if share is None or share.denominator == 0:
        needs = _percent_pair(minimum, minimum)[1]
        return gettext("No members yet, so the share cannot be computed (needs ≥ %(needs)s).") % {
            "needs": needs
        }
    shown, needs = _percent_pair(Fraction(share.numerator, share.denominator), minimum)
    return gettext("%(num)s of %(den)s %(what)s = %(share)s, needs ≥ %(needs)s") % {
        "num": share.numerator,
        "den": share.denominator,
        "what": what,
        "share": shown,
        "needs": needs,
    }


def share_figure(criterion: Criterion, derived: Mapping[str, int] | None) -> str:
    """A derived share's counts in words: "7 of 10 member families recognised"."""
    if not derived:
        return MISSING
    return gettext("%(num)s of %(den)s %(members)s recognised") % {
        "num": derived["numerator"],
        "den": derived["denominator"],
        "members": _member_noun(criterion.of),
    }


def evidence_value(criterion: Criterion, raw: Any) -> str:
    """Evidence as a reader says it: Yes/No for a yes/no criterion, a number in the active
    language otherwise, a dash when there is none. `raw` is stored text or a result's value."""
    if isinstance(raw, str) and raw.strip().casefold() in ("true", "false"):
        raw = raw.strip().casefold() == "true"  # how a stored result writes a yes/no
    try:
        value = parse_evidence(criterion, raw)
    except EvidenceError:
        return str(raw)
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    return number(value)


def evidence_message(criterion: Criterion, error: EvidenceError) -> str:
    """Why a typed value is refused, for the field it was typed in."""
    if criterion.type is CriterionType.BOOLEAN:
        return gettext("Choose yes, no or not yet known.")
    if criterion.type is CriterionType.NUMBER:
        return gettext("Enter a number of 0 or more, such as 3 or 2.5.")
    if criterion.type is CriterionType.SCALE:
        if error.problem is EvidenceProblem.ABOVE_MAX:
            return gettext("At most %(max)s points: %(value)s is above the maximum.") % {
                "max": number(criterion.possible),
                "value": str(error.raw).strip(),
            }
        return gettext("Enter points from 0 to %(max)s, such as 7 or 7.5.") % {
            "max": number(criterion.possible)
        }
    return gettext("Not an evidence criterion of this title.")


def capped_note(*, row: int, column: str, criterion: Criterion, raw: Any) -> str:
    """The import's warning for a scale value above its maximum, naming the cell."""
    return gettext(
        "Row %(row)s, column %(column)s: %(value)s is above the maximum of %(max)s for "
        "%(code)s and counts as %(max)s."
    ) % {
        "row": row,
        "column": column,
        "value": str(raw).strip(),
        "max": number(criterion.possible),
        "code": criterion.code,
    }


# --- stored results -------------------------------------------------------------------------


def from_entry(entry: Mapping[str, Any], criterion: Criterion) -> CriterionResult:
    """A stored result's criterion entry (`Registration.result["criteria"]` item) as the rules'
    outcome, by scoring its stored evidence, share and override again."""
    raw = entry.get("evidence")
    if isinstance(raw, str) and raw in ("true", "false"):
        raw = raw == "true"
    try:
        value = None if criterion.type is CriterionType.SHARE else parse_evidence(criterion, raw)
    except EvidenceError:
        value = None
    derived = entry.get("derived")
    share = None
    if criterion.type is CriterionType.SHARE and derived:
        share = Share(int(derived["numerator"]), int(derived["denominator"]))
    override = bool(entry.get("met")) if entry.get("overridden") else None
    return score_criterion(criterion, value, share, override)[0]
