"""Template helpers for the titles pages: one criterion's explanation in the active language.

An evaluation stores, per criterion, structured fields (type, evidence, derived share, earned,
possible, met, overridden) beside an English `reason`. Pages explain a result from those fields
and the criterion's definition, through gettext, so a Vietnamese reader sees "3 ≥ 2 → 20 điểm"
while the stored English reason stays available for audit. Nothing here decides anything: the
rules live in `titles.evaluation`; these helpers only put their figures into words.

`criterion` arguments accept either a parsed `titles.evaluation.Criterion` or the criterion's
dict from a `CriteriaSet.definition`; `entry` is one item of `Registration.result["criteria"]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext, ngettext

from titles.evaluation import Criterion, EvidenceError, parse_evidence
from titles.models import RegistrationEvent

register = template.Library()

MISSING = "—"


def _attr(item: Any, name: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def number(value: Any) -> str:
    """A number as the active language writes it, without trailing zeros: 2.50 → "2,5" in vi."""
    figure = _decimal(value)
    if figure is None:
        return MISSING
    return number_format(Decimal(format(figure.normalize(), "f")))


def _plural_count(value: Decimal) -> int:
    """What ngettext needs: the value itself when whole, else a count that reads as plural."""
    return int(value) if value == value.to_integral_value() else 2


def _fill(template_text: str, earned: Decimal, **params: Any) -> str:
    """`template_text` (an ngettext result, so makemessages sees both forms) with its points."""
    return template_text % {**params, "points": number(earned)}


def _percent(fraction: Fraction, places: int) -> Decimal:
    exact = Decimal(fraction.numerator * 100) / Decimal(fraction.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent_pair(numerator: int, denominator: int, minimum: Decimal) -> tuple[str, str]:
    """The share and its minimum as percentages with one decimal, or as many more as it takes
    for a share below its minimum not to look equal to it (as the rules' own reason does)."""
    ratio, floor = Fraction(numerator, denominator), Fraction(minimum)
    places = 1
    while True:
        shown, shown_min = _percent(ratio, places), _percent(floor, places)
        if shown != shown_min or ratio == floor or places >= 6:
            break
        places += 1
    return (
        f"{number_format(shown, decimal_pos=places)}%",
        f"{number_format(shown_min, decimal_pos=places)}%",
    )


def _member_noun(of: Any) -> str:
    return gettext("member citizens") if str(of) == "citizen" else gettext("member families")


def rules_explanation(entry: Mapping[str, Any], criterion: Any) -> str:
    """What the rules alone award for the entry's evidence or share, in words.

    For an entry that was not overridden this is its whole explanation; for an overridden one
    it is what the rules would have said.
    """
    kind = str(entry.get("type") or _attr(criterion, "type"))
    evidence = entry.get("evidence")
    nothing = Decimal(0)
    if kind == "share":
        return _share_explanation(entry.get("derived"), criterion)
    if evidence is None:
        return _fill(
            ngettext(
                "no evidence yet → %(points)s point",
                "no evidence yet → %(points)s points",
                _plural_count(nothing),
            ),
            nothing,
        )
    if kind == "boolean":
        points = _decimal(_attr(criterion, "points")) or nothing
        if str(evidence).lower() == "true":
            return _fill(
                ngettext(
                    "Yes → %(points)s point", "Yes → %(points)s points", _plural_count(points)
                ),
                points,
            )
        return _fill(
            ngettext("No → %(points)s point", "No → %(points)s points", _plural_count(nothing)),
            nothing,
        )
    value = _decimal(evidence)
    if value is None:
        return MISSING
    if kind == "number":
        minimum = _decimal(_attr(criterion, "min")) or nothing
        points = _decimal(_attr(criterion, "points")) or nothing
        params = {"value": number(value), "min": number(minimum)}
        if value >= minimum:
            return _fill(
                ngettext(
                    "%(value)s ≥ %(min)s → %(points)s point",
                    "%(value)s ≥ %(min)s → %(points)s points",
                    _plural_count(points),
                ),
                points,
                **params,
            )
        return _fill(
            ngettext(
                "%(value)s < %(min)s → %(points)s point",
                "%(value)s < %(min)s → %(points)s points",
                _plural_count(nothing),
            ),
            nothing,
            **params,
        )
    top = _decimal(_attr(criterion, "max")) or nothing
    params = {"value": number(value), "max": number(top)}
    if value > top:
        return _fill(
            ngettext(
                "scale %(value)s, at most %(max)s → %(points)s point",
                "scale %(value)s, at most %(max)s → %(points)s points",
                _plural_count(top),
            ),
            top,
            **params,
        )
    return _fill(
        ngettext(
            "scale %(value)s of %(max)s → %(points)s point",
            "scale %(value)s of %(max)s → %(points)s points",
            _plural_count(value),
        ),
        value,
        **params,
    )


def _share_explanation(derived: Mapping[str, int] | None, criterion: Any) -> str:
    nothing = Decimal(0)
    if not derived:
        return _fill(
            ngettext(
                "share not computed yet → %(points)s point",
                "share not computed yet → %(points)s points",
                _plural_count(nothing),
            ),
            nothing,
        )
    numerator, denominator = int(derived["numerator"]), int(derived["denominator"])
    if denominator == 0:
        return _fill(
            ngettext(
                "no %(members)s: share undefined → %(points)s point",
                "no %(members)s: share undefined → %(points)s points",
                _plural_count(nothing),
            ),
            nothing,
            members=_member_noun(_attr(criterion, "of")),
        )
    minimum = _decimal(_attr(criterion, "min")) or nothing
    shown, shown_min = percent_pair(numerator, denominator, minimum)
    params = {"num": numerator, "den": denominator, "share": shown, "min": shown_min}
    if Fraction(numerator, denominator) >= Fraction(minimum):
        earned = _decimal(_attr(criterion, "points")) or nothing
        return _fill(
            ngettext(
                "%(num)s/%(den)s = %(share)s ≥ %(min)s → %(points)s point",
                "%(num)s/%(den)s = %(share)s ≥ %(min)s → %(points)s points",
                _plural_count(earned),
            ),
            earned,
            **params,
        )
    return _fill(
        ngettext(
            "%(num)s/%(den)s = %(share)s < %(min)s → %(points)s point",
            "%(num)s/%(den)s = %(share)s < %(min)s → %(points)s points",
            _plural_count(nothing),
        ),
        nothing,
        **params,
    )


def explanation(entry: Mapping[str, Any], criterion: Any) -> str:
    """One criterion's result in words, in the active language; overrides say so first."""
    if not entry.get("overridden"):
        return rules_explanation(entry, criterion)
    earned = _decimal(entry.get("earned")) or Decimal(0)
    if entry.get("met"):
        return _fill(
            ngettext(
                "overridden: met → %(points)s point",
                "overridden: met → %(points)s points",
                _plural_count(earned),
            ),
            earned,
        )
    return _fill(
        ngettext(
            "overridden: not met → %(points)s point",
            "overridden: not met → %(points)s points",
            _plural_count(earned),
        ),
        earned,
    )


@register.simple_tag
def criterion_explanation(entry: Mapping[str, Any] | None, criterion: Any) -> str:
    """`{% criterion_explanation entry criterion %}`: "3 ≥ 2 → 20 points" in the active language."""
    if not entry:
        return gettext("not evaluated yet")
    return explanation(entry, criterion)


@register.simple_tag
def criterion_rules_explanation(entry: Mapping[str, Any] | None, criterion: Any) -> str:
    """`{% criterion_rules_explanation entry criterion %}`: what the rules alone said."""
    if not entry:
        return ""
    return rules_explanation(entry, criterion)


@register.simple_tag
def evidence_value(criterion: Any, raw: Any) -> str:
    """Stored evidence as a reader says it: Yes/No for a yes/no criterion, a localised number
    otherwise, a dash when there is none. `raw` is the entered text or the result's value."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return MISSING
    if str(_attr(criterion, "type")) == "boolean":
        # Only the type matters to parsing a yes/no: "1", "có", "true" and True all read Yes.
        as_boolean = Criterion(
            code=str(_attr(criterion, "code")), text="", type="boolean", points=Decimal(1)
        )
        try:
            value = parse_evidence(as_boolean, raw)
        except EvidenceError:
            return str(raw)
        return gettext("Yes") if value else gettext("No")
    figure = _decimal(str(raw).strip().replace(",", "."))
    return number(figure) if figure is not None else str(raw)


@register.simple_tag
def share_figure(criterion: Any, derived: Mapping[str, int] | None) -> str:
    """A derived share in words: "7 of 10 member families recognised"."""
    if not derived:
        return MISSING
    return gettext("%(num)s of %(den)s %(members)s recognised") % {
        "num": derived["numerator"],
        "den": derived["denominator"],
        "members": _member_noun(_attr(criterion, "of")),
    }


@register.filter
def in_language(item: Any, field: str = "text") -> str:
    """`{{ criterion|in_language:"text" }}`: the English `<field>_en` when English is active
    and the item has one, otherwise the Vietnamese original."""
    english = _attr(item, f"{field}_en")
    if english and (get_language() or "").startswith("en"):
        return english
    return _attr(item, field) or ""


@register.filter
def points(value: Any) -> str:
    """Points as the active language writes numbers: "12.5" → "12,5" in Vietnamese."""
    return number(value)


@register.simple_tag
def event_notes(event: RegistrationEvent) -> list[str]:
    """What a history line adds to who/when/from/to/why, from the event's structured detail."""
    detail = event.detail or {}
    Action = RegistrationEvent.Action
    notes: list[str] = []
    if event.action == Action.OVERRIDE and "criterion" in detail:
        template_text = (
            gettext("%(code)s: met") if detail.get("met") else gettext("%(code)s: not met")
        )
        notes.append(template_text % {"code": detail["criterion"]})
    elif event.action == Action.EVALUATE and "points" in detail:
        verdict = gettext("passed") if detail.get("passed") else gettext("not passed")
        notes.append(
            gettext("%(points)s points, %(verdict)s")
            % {"points": number(detail["points"]), "verdict": verdict}
        )
    if "after" in detail:
        before, after = detail.get("before") or {}, detail.get("after") or {}
        for code in sorted(set(before) | set(after)):
            if before.get(code) != after.get(code):
                was, now = before.get(code) or MISSING, after.get(code) or MISSING
                notes.append(f"{code}: {was} → {now}")
    if "decision" in detail:
        notes.append(gettext("decision %(number)s") % {"number": detail["decision"]})
    if "area" in detail:
        notes.append(gettext("with residential area %(code)s") % {"code": detail["area"]})
    if "row" in detail:
        notes.append(gettext("file row %(row)s") % {"row": detail["row"]})
    return notes
