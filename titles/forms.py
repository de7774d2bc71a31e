"""Forms for the staff side of the titles pages: the list filter, registering, evidence, import.

The evidence form is generated from the criteria set in force: one field per criterion that takes
evidence (a three-way select for yes/no, since a checkbox cannot say "not yet known"; a number
box for numbers and scales). It only shapes input; `titles.services.registrations` validates and
stores it, and the reasons it refuses a value are shown next to the field they concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from registry.forms import WARD_SELECT_MAX, SpreadsheetUploadForm, fit_ward_filter
from registry.models import KIND_MODELS, AdministrativeUnit, Entity, Kind
from registry.selectors import SLUG_OF_KIND, entity_by_code
from titles import evaluation
from titles.criteria_file import FIRST_YEAR, LAST_YEAR
from titles.evaluation import CriterionType, EvidenceError, parse_evidence
from titles.models import State

YES, NO = "yes", "no"


def current_year() -> int:
    return timezone.localdate().year


def year_field(**kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=gettext_lazy("Year"),
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        **kwargs,
    )


def criterion_text(criterion: evaluation.Criterion) -> str:
    """The criterion's wording in the active language (the sets are written in Vietnamese)."""
    if translation.get_language() == "en" and criterion.text_en:
        return criterion.text_en
    return criterion.text


def _number(value: Decimal) -> str:
    """A Decimal as plain text with a dot, as a number input wants it: 2.50 → "2.5"."""
    return format(value.normalize(), "f")


# --- list filter ------------------------------------------------------------------------------


class RegistrationFilterForm(forms.Form):
    """The filters of the registrations list. `area` is offered once a single ward is in view."""

    q = forms.CharField(label=gettext_lazy("Search"), max_length=200, required=False)
    year = year_field(required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Title"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)
    ward = forms.CharField(
        label=gettext_lazy("Commune/ward"), max_length=10, required=False, widget=forms.Select
    )
    area = forms.TypedChoiceField(
        label=gettext_lazy("Residential area"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, wards, areas=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Name or code"), "autocomplete": "off"}
        )
        self.fields["kind"].choices = [("", _("All titles")), *Kind.choices]
        self.fields["state"].choices = [("", _("All states")), *State.choices]
        self.many_wards = fit_ward_filter(self.fields["ward"], wards)
        if areas is None:
            # Residential areas are listed once the ward is known; an `area` in the URL still
            # filters (a link from another page), shown as a notice instead of a select.
            self.fields["area"] = forms.IntegerField(
                required=False, min_value=1, widget=forms.HiddenInput
            )
        else:
            self.fields["area"].choices = [
                ("", _("All residential areas")),
                *((a.pk, a.entity.name) for a in areas),
            ]


# --- registering ------------------------------------------------------------------------------


class RegistrationCreateForm(forms.Form):
    """Register one entity: chosen by title and code within the user's wards, or preselected."""

    year = year_field()
    kind = forms.ChoiceField(label=gettext_lazy("Title"))
    ward = forms.CharField(label=gettext_lazy("Commune/ward"), max_length=10, widget=forms.Select)
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=64,
        help_text=gettext_lazy("The code of the household, clan, area, unit or citizen."),
    )

    def __init__(
        self, *args: Any, user, wards, entity: Entity | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {}).setdefault("year", current_year())
        super().__init__(*args, **kwargs)
        self.user = user
        self.entity = entity
        if entity is not None:
            for name in ("kind", "ward", "code"):
                del self.fields[name]
            return
        self.wards = wards
        self.fields["kind"].choices = [("", "---------"), *Kind.choices]
        shown = list(wards[: WARD_SELECT_MAX + 1])
        if len(shown) == 1:
            self.fields["ward"].widget = forms.HiddenInput()
            self.fields["ward"].initial = shown[0].code
        elif len(shown) > WARD_SELECT_MAX:
            # A nationwide administrator: the ward is typed by its code.
            self.fields["ward"].widget = forms.TextInput(
                attrs={"placeholder": _("Commune/ward code"), "inputmode": "numeric"}
            )
        else:
            self.fields["ward"].widget.choices = [(w.code, w.name) for w in shown]
        self.fields["code"].widget.attrs.update({"autocomplete": "off", "autocapitalize": "none"})

    def clean_ward(self) -> AdministrativeUnit:
        code = self.cleaned_data["ward"].strip()
        ward = self.wards.filter(code=code).first()
        if ward is None:
            raise ValidationError(_("Choose one of your communes/wards."))
        return ward

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.entity is not None or self.errors:
            return data
        ward: AdministrativeUnit = data["ward"]
        code = data["code"].strip()
        found = entity_by_code(
            user=self.user, kind=SLUG_OF_KIND[data["kind"]], ward=ward, code=code
        )
        if found is None:
            self.add_error(
                "code",
                _("There is no %(kind)s with code %(code)s in %(ward)s.")
                % {"kind": _kind_noun(data["kind"]), "code": code, "ward": ward.name},
            )
            return data
        self.entity = found.entity
        return data


def _kind_noun(kind: str) -> str:
    return str(KIND_MODELS[kind]._meta.verbose_name)


def _area_label(area) -> str:
    """ "Tổ dân phố 1 (TDP01) · 3 households": `area` is annotated with `households`."""
    return ngettext(
        "%(name)s (%(code)s) · %(count)d household",
        "%(name)s (%(code)s) · %(count)d households",
        area.households,
    ) % {"name": area.entity.name, "code": area.entity.code, "count": area.households}


class RegisterAreaForm(forms.Form):
    """Register every household of one residential area for a year."""

    area = forms.TypedChoiceField(label=gettext_lazy("Residential area"), coerce=int)
    year = year_field()

    def __init__(self, *args: Any, areas, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("year", current_year())
        super().__init__(*args, **kwargs)
        self.areas = {a.pk: a for a in areas}
        self.fields["area"].choices = [
            ("", "---------"),
            *((a.pk, _area_label(a)) for a in self.areas.values()),
        ]

    @property
    def community(self):
        return self.areas[self.cleaned_data["area"]]


# --- evidence ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareLine:
    """A derived share as the evidence page explains it."""

    code: str
    text: str
    numerator: int
    denominator: int
    minimum: Decimal
    met: bool
    explanation: str


def share_lines(rules: evaluation.CriteriaSet, shares: dict[int, evaluation.Share], entity_id):
    """Each share criterion with how its figure is computed today (not stored evidence)."""
    share = shares.get(entity_id)
    lines = []
    for criterion in rules.criteria:
        if criterion.type != CriterionType.SHARE:
            continue
        assert criterion.min is not None
        numerator, denominator = (share.numerator, share.denominator) if share else (0, 0)
        minimum = Fraction(criterion.min)
        met = denominator > 0 and Fraction(numerator, denominator) >= minimum
        needs = _percent(minimum)
        params = {"num": numerator, "den": denominator, "needs": needs}
        if criterion.of == evaluation.Title.CITIZEN:
            params["what"] = _("staff recognised as Learning Citizens")
        else:
            params["what"] = _("households recognised as Learning Families")
        if denominator == 0:
            explanation = _("No members yet, so the share cannot be computed (needs ≥ %(needs)s).")
            explanation %= {"needs": needs}
        else:
            params["share"] = _percent(Fraction(numerator, denominator))
            explanation = _("%(num)s of %(den)s %(what)s = %(share)s, needs ≥ %(needs)s") % params
        lines.append(
            ShareLine(
                code=criterion.code,
                text=criterion_text(criterion),
                numerator=numerator,
                denominator=denominator,
                minimum=criterion.min,
                met=met,
                explanation=explanation,
            )
        )
    return lines


def _percent(value: Fraction) -> str:
    """A share as a percentage, one decimal, trailing ".0" dropped: 7/10 → "70%", 2/3 → "66.7%"."""
    exact = Decimal(value.numerator * 100) / Decimal(value.denominator)
    shown = exact.quantize(Decimal("0.1"))
    return f"{_number(shown)}%"


class EvidenceForm(forms.Form):
    """One field per evidence criterion of the set in force; `version` is what the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(
        self, *args: Any, rules: evaluation.CriteriaSet, evidence: dict, version: int, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rules = rules
        self.fields["version"].initial = version
        self.criteria = [c for c in rules.criteria if c.type != CriterionType.SHARE]
        for criterion in self.criteria:
            self.fields[criterion.code] = self._field(criterion)
            self.fields[criterion.code].initial = _initial(criterion, evidence.get(criterion.code))

    @staticmethod
    def _field(criterion: evaluation.Criterion) -> forms.Field:
        label = criterion_text(criterion)
        if criterion.type == CriterionType.BOOLEAN:
            return forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", _("Not yet known")), (YES, _("Yes")), (NO, _("No"))],
                help_text=_("%(points)s points if yes.") % {"points": _number(criterion.possible)},
            )
        if criterion.type == CriterionType.NUMBER:
            assert criterion.min is not None
            help_text = _("Met at %(min)s or more: %(points)s points.") % {
                "min": _number(criterion.min),
                "points": _number(criterion.possible),
            }
        else:
            help_text = _("Points from 0 to %(max)s.") % {"max": _number(criterion.possible)}
        return forms.CharField(
            label=label,
            required=False,
            max_length=20,
            help_text=help_text,
            widget=forms.NumberInput(attrs={"min": "0", "step": "any", "inputmode": "decimal"}),
        )

    def clean(self) -> dict[str, Any]:
        """Check every value at once, as the service will (it checks again when saving)."""
        data = super().clean()
        errors = {}
        for criterion in self.criteria:
            if criterion.code in self.errors:
                continue
            try:
                parse_evidence(criterion, data.get(criterion.code) or None)
            except EvidenceError as exc:
                errors[criterion.code] = exc.reason
        self.add_evidence_errors(errors)
        return data

    def values(self) -> dict[str, str]:
        """What the service validates and stores: every criterion of the form, "" if unknown."""
        return {c.code: self.cleaned_data.get(c.code) or "" for c in self.criteria}

    def add_evidence_errors(self, errors: dict[str, str]) -> None:
        """Place the service's refusals next to their fields, in the user's language."""
        by_code = {c.code: c for c in self.criteria}
        for code, reason in errors.items():
            criterion = by_code.get(code)
            if criterion is None:
                self.add_error(None, f"{code}: {reason}")
            elif criterion.type == CriterionType.BOOLEAN:
                self.add_error(code, _("Choose yes, no or not yet known."))
            elif criterion.type == CriterionType.NUMBER:
                self.add_error(code, _("Enter a number of 0 or more, such as 3 or 2.5."))
            else:
                self.add_error(
                    code,
                    _("Enter points from 0 to %(max)s, such as 7 or 7.5.")
                    % {"max": _number(criterion.possible)},
                )

    def rows(self):
        """(bound field, criterion) pairs, in the set's order, for the template."""
        return [(self[c.code], c) for c in self.criteria]


def _initial(criterion: evaluation.Criterion, stored: str | None) -> str:
    """A stored value as the form shows it ("có" → "yes", "2,5" → "2.5"); "" when missing."""
    try:
        value = parse_evidence(criterion, stored)
    except EvidenceError:
        return stored or ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    return _number(value)


def evidence_display(rules: evaluation.CriteriaSet, evidence: dict) -> list[tuple[str, str, str]]:
    """(code, text, shown value) for each evidence criterion: a read-only view of the values."""
    shown = []
    for criterion in rules.criteria:
        if criterion.type == CriterionType.SHARE:
            continue
        initial = _initial(criterion, evidence.get(criterion.code))
        if initial == "":
            value = _("Not yet known")
        elif criterion.type == CriterionType.BOOLEAN:
            value = _("Yes") if initial == YES else _("No")
        else:
            value = initial
        shown.append((criterion.code, criterion_text(criterion), value))
    return shown


# --- import -----------------------------------------------------------------------------------


class RegistrationsImportForm(SpreadsheetUploadForm):
    field_order = ("year", "file")

    year = year_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("year", current_year())
        super().__init__(*args, **kwargs)
