"""Template helpers for the titles pages: they put the rules' outcomes into the page.

An evaluation stores, per criterion, its evidence, derived share, points and override beside a
fixed English `reason`. These tags read a stored entry back as the rules' outcome
(`explain.from_entry`) and word it through `titles.rules.explain`, the one renderer: nothing
here decides or rounds anything. `criterion` arguments are parsed
`titles.rules.evaluation.Criterion`s; `entry` is one item of `Registration.result["criteria"]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import get_language, gettext

from titles.models import RegistrationEvent
from titles.rules import explain
from titles.rules.evaluation import Criterion

register = template.Library()

MISSING = explain.MISSING


def _attr(item: Any, name: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def number(value: Any) -> str:
    """A number as the active language writes it, without trailing zeros: 2.50 → "2,5" in vi."""
    return explain.number(value)


@register.simple_tag
def criterion_explanation(entry: Mapping[str, Any] | None, criterion: Criterion) -> str:
    """`{% criterion_explanation entry criterion %}`: "3 ≥ 2 → 20 points" in the active language."""
    if not entry:
        return gettext("not evaluated yet")
    return explain.describe(explain.from_entry(entry, criterion))


@register.simple_tag
def criterion_rules_explanation(entry: Mapping[str, Any] | None, criterion: Criterion) -> str:
    """`{% criterion_rules_explanation entry criterion %}`: what the rules alone said."""
    if not entry:
        return ""
    return explain.describe_rules(explain.from_entry(entry, criterion))


@register.simple_tag
def evidence_value(criterion: Criterion, raw: Any) -> str:
    """Stored evidence as a reader says it: Yes/No for a yes/no criterion, a localised number
    otherwise, a dash when there is none. `raw` is the entered text or the result's value."""
    return explain.evidence_value(criterion, raw)


@register.simple_tag
def share_figure(criterion: Criterion, derived: Mapping[str, int] | None) -> str:
    """A derived share in words: "7 of 10 member families recognised"."""
    return explain.share_figure(criterion, derived)


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
