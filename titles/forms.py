"""Forms for the staff side of the titles pages: the list filter, registering, evidence, import.

The evidence form is generated from the criteria set in force: one field per criterion that takes
evidence (a three-way select for yes/no, since a checkbox cannot say "not yet known"; a text box
with a decimal keypad for numbers and scales, so that "9,5" reaches the rules as typed). It only
shapes input: the rules (`titles.rules.evaluation.check_evidence`) validate it, here for the
messages beside each field and again in `titles.services.registrations` when it is stored, and
`titles.rules.explain` words their refusals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from registry.forms import WARD_SELECT_MAX, PlainSelect, SpreadsheetUploadForm, fit_ward_filter
from registry.models import KIND_MODELS, AdministrativeUnit, Entity, Kind
from registry.selectors import SLUG_OF_KIND, entity_by_code
from titles.models import State
from titles.review_forms import area_choices, area_field
from titles.rules import evaluation, explain
from titles.rules.criteria_file import FIRST_YEAR, LAST_YEAR
from titles.rules.evaluation import CriterionType, EvidenceError, check_evidence, parse_evidence

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


# --- list filter ------------------------------------------------------------------------------


class RegistrationFilterForm(forms.Form):
    """The filters of the registrations list. `area` is offered once a single ward is in view."""

    q = forms.CharField(label=gettext_lazy("Search"), max_length=200, required=False)
    year = year_field(required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Title"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)
    ward = forms.CharField(
        label=gettext_lazy("Commune/ward"), max_length=10, required=False, widget=PlainSelect
    )
    area = area_field()

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
            self.fields["area"].choices = area_choices(areas)


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
    """Each share criterion with how its figure stands today (not stored evidence): scored by
    the rules, worded by `explain` exactly as the result will word it."""
    share = shares.get(entity_id) or evaluation.Share(0, 0)
    lines = []
    for criterion in rules.criteria:
        if criterion.type != CriterionType.SHARE:
            continue
        assert criterion.min is not None
        outcome, _missing = evaluation.score_criterion(criterion, None, share, None)
        lines.append(
            ShareLine(
                code=criterion.code,
                text=criterion_text(criterion),
                numerator=share.numerator,
                denominator=share.denominator,
                minimum=criterion.min,
                met=outcome.met,
                explanation=explain.share_summary(outcome),
            )
        )
    return lines


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
                help_text=_("%(points)s points if yes.")
                % {"points": explain.number(criterion.possible)},
            )
        if criterion.type == CriterionType.NUMBER:
            assert criterion.min is not None
            help_text = _("Met at %(min)s or more: %(points)s points.") % {
                "min": explain.number(criterion.min),
                "points": explain.number(criterion.possible),
            }
        else:
            help_text = _("Points from 0 to %(max)s.") % {"max": explain.number(criterion.possible)}
        # Text, not type=number: a number box drops or misreads "9,5" in some browsers.
        return forms.CharField(
            label=label,
            required=False,
            max_length=20,
            help_text=help_text,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        )

    def clean(self) -> dict[str, Any]:
        """Check every value at once, as the service will (it checks again when saving)."""
        data = super().clean()
        by_code = {c.code: c for c in self.criteria}
        for criterion in self.criteria:
            if criterion.code in self.errors:
                continue
            try:
                check_evidence(criterion, data.get(criterion.code) or None, cap=False)
            except EvidenceError as exc:
                self.add_error(
                    criterion.code, explain.evidence_message(by_code[exc.criterion_code], exc)
                )
        return data

    def values(self) -> dict[str, str]:
        """What the service validates and stores: every criterion of the form, "" if unknown."""
        return {c.code: self.cleaned_data.get(c.code) or "" for c in self.criteria}

    def add_evidence_errors(self, errors: dict[str, str]) -> None:
        """Place the service's refusals (already worded) next to their fields."""
        for code, message in errors.items():
            if code in self.fields and code != "version":
                self.add_error(code, message)
            else:
                self.add_error(None, f"{code}: {message}")

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
    return explain.plain(value)


def evidence_display(rules: evaluation.CriteriaSet, evidence: dict) -> list[tuple[str, str, str]]:
    """(code, text, shown value) for each evidence criterion: a read-only view of the values."""
    shown = []
    for criterion in rules.criteria:
        if criterion.type == CriterionType.SHARE:
            continue
        stored = evidence.get(criterion.code)
        if _initial(criterion, stored) == "":
            value = _("Not yet known")
        else:
            value = explain.evidence_value(criterion, stored)
        shown.append((criterion.code, criterion_text(criterion), value))
    return shown


# --- import -----------------------------------------------------------------------------------


class RegistrationsImportForm(SpreadsheetUploadForm):
    field_order = ("year", "file")
    counts_rows = False  # in the import's job

    year = year_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("year", current_year())
        super().__init__(*args, **kwargs)


# --- self-assessment slips --------------------------------------------------------------------


class SlipSheetForm(forms.Form):
    """Print the slips of a residential area's households for a year."""

    year = year_field()
    replace_live = forms.BooleanField(
        label=gettext_lazy(
            "Also print new slips for the households whose link is working (their current link "
            "and code stop working)"
        ),
        required=False,
    )


class SelfCodeForm(forms.Form):
    """The short code of a self-assessment slip, typed by the household."""

    code = forms.CharField(
        label=gettext_lazy("Code on the slip"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "ABCDE-FGHJK",
            }
        ),
    )
