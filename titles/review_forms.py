"""Forms of the officials' pages: review actions, the review queue's filters, decisions, lists.

Every action form on a registration carries the `version` its page showed, so an action taken
on a page someone else has changed meanwhile is refused instead of silently winning.
Forms only check input; `titles.services.review` does the writing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from registry.forms import WARD_SELECT_MAX, PlainSelect
from registry.models import Kind
from titles.models import Registration, State
from titles.selectors import RESULT_FILTERS

CODE_SEPARATORS = re.compile(r"[\r\n,;]+")

YEAR_MIN, YEAR_MAX = 2000, 2100
REASON_MAX = 2000


def current_year() -> int:
    return timezone.localdate().year


def _reason_widget() -> forms.Textarea:
    return forms.Textarea(attrs={"rows": 3, "maxlength": REASON_MAX})


class VersionedForm(forms.Form):
    """An action on one registration, naming the version of it the user saw."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ApproveForm(VersionedForm):
    pass


class RejectForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason for rejection"),
        max_length=REASON_MAX,
        widget=_reason_widget(),
        help_text=_("Shown to the association staff and kept in the history."),
        error_messages={"required": _("Write why the registration is rejected.")},
    )


class OverrideForm(VersionedForm):
    """An official's ruling on one criterion; the written reason is required."""

    criterion = forms.ChoiceField(label=_("Criterion"))
    met = forms.TypedChoiceField(
        label=_("Ruling"),
        choices=[("1", _("Met")), ("0", _("Not met"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        widget=_reason_widget(),
        help_text=_("Why you rule otherwise than the evidence; kept with the override."),
        error_messages={"required": _("Write why you override this criterion.")},
    )

    def __init__(self, *args: Any, criteria: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["criterion"].choices = [("", "---------"), *criteria]


def _year_field(**kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Year"), min_value=YEAR_MIN, max_value=YEAR_MAX, required=False, **kwargs
    )


def _kind_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Title"), required=False, choices=[("", _("All titles")), *Kind.choices]
    )


def area_field() -> forms.TypedChoiceField:
    """A ward's residential area to narrow a list to, by id; its choices from `area_choices`."""
    return forms.TypedChoiceField(
        label=_("Residential area"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=PlainSelect,
    )


def _with_year(args: tuple) -> tuple:
    """Bound data with this year filled in when none was asked for, so the field shows it."""
    if args and args[0] is not None and not args[0].get("year"):
        data = args[0].copy()
        data["year"] = str(current_year())
        return (data, *args[1:])
    return args


def area_choices(areas: list[tuple[int, str]]) -> list[tuple[Any, str]]:
    """The options of `area_field` from a ward's (id, name) pairs
    (`registry.selectors.ward_entity_choices`)."""
    return [("", _("All residential areas")), *areas]


class WardPickForm(forms.Form):
    """Which ward to work on, for a user who covers several (a select, or a code box for many)."""

    ward = forms.CharField(label=_("Commune/ward"), max_length=10)

    def __init__(self, *args: Any, wards, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        wards = list(wards[: WARD_SELECT_MAX + 1])
        if len(wards) > WARD_SELECT_MAX:
            self.fields["ward"].widget = forms.TextInput(
                attrs={"placeholder": _("Commune/ward code"), "inputmode": "numeric"}
            )
        else:
            self.fields["ward"].widget = forms.Select(
                choices=[("", "---------"), *((w.code, f"{w.name} ({w.code})") for w in wards)]
            )


class QueueFilterForm(forms.Form):
    """The review queue's filters; every one optional, the year defaulting to this year."""

    year = _year_field()
    kind = _kind_field()
    area = area_field()
    result = forms.ChoiceField(
        label=_("Result"),
        required=False,
        choices=[
            ("", _("Any result")),
            *zip(RESULT_FILTERS, (_("Passed"), _("Failed"), _("Not evaluated")), strict=True),
        ],
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *State.choices]
    )
    q = forms.CharField(label=_("Search"), max_length=200, required=False)

    def __init__(self, *args: Any, areas, **kwargs: Any) -> None:
        super().__init__(*_with_year(args), **kwargs)
        self.fields["area"].choices = area_choices(areas)
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Name or code"), "autocomplete": "off"}
        )

    def filters(self) -> dict[str, Any]:
        """The valid filters (invalid ones are shown as errors and left out)."""
        self.is_valid()  # invalid fields are dropped from cleaned_data, the others kept
        data = self.cleaned_data
        return {
            "year": data.get("year") or current_year(),
            "kind": data.get("kind") or None,
            "area": data.get("area"),
            "result": data.get("result") or None,
            "state": data.get("state") or None,
            "q": data.get("q") or None,
        }


class IdListField(forms.Field):
    """Repeated `ids` values (the ticked rows) as a list of positive integers."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            ids = [int(item) for item in value]
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("The selection is not valid."), code="invalid") from exc
        if any(item < 1 for item in ids):
            raise ValidationError(_("The selection is not valid."), code="invalid")
        return ids


class WardYearForm(forms.Form):
    """The ward and year a queue-wide action applies to, carried by the queue's forms."""

    ward = forms.CharField(max_length=10, widget=forms.HiddenInput)
    year = forms.IntegerField(min_value=YEAR_MIN, max_value=YEAR_MAX, widget=forms.HiddenInput)


class ApprovePassedForm(WardYearForm):
    """Approve the ticked rows that passed, or every passed one under the queue's filters."""

    kind = forms.ChoiceField(required=False, choices=[("", ""), *Kind.choices])
    area = forms.IntegerField(required=False, min_value=1)
    q = forms.CharField(required=False, max_length=200)
    scope = forms.ChoiceField(choices=[("selected", "selected"), ("all", "all")])
    ids = IdListField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("scope") == "selected" and not data.get("ids"):
            raise ValidationError(_("Tick the registrations to approve first."))
        return data


class DecisionForm(forms.Form):
    """A recognition decision for approved registrations of one ward and year."""

    number = forms.CharField(
        label=_("Decision number"),
        max_length=64,
        help_text=_("As written on the signed decision, e.g. 125/QĐ-UBND."),
    )
    date = forms.DateField(
        label=_("Decision date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    registrations = forms.ModelMultipleChoiceField(
        label=_("Approved registrations"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one approved registration.")},
    )

    # When the form does not list the registrations (`listed` false): a decision for all that
    # are approved, but those whose codes are left out; `expected` is what the user was shown
    # (`selectors.approved_fingerprint`), so that a change meanwhile is caught.
    expected = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    leave_out = forms.CharField(
        label=pgettext_lazy("decision", "Leave out"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Codes of approved registrations this decision does not cover, one per line or "
            "separated by commas. They stay approved for a later decision."
        ),
    )

    def __init__(self, *args: Any, approved, year: int, listed: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.year = year
        self.approved = approved
        if listed:
            self.fields["registrations"].queryset = approved
            del self.fields["expected"]
            del self.fields["leave_out"]
        else:
            del self.fields["registrations"]
        today = timezone.localdate()
        self.fields["date"].initial = today if today.year == year else None

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip()

    def clean_date(self) -> dt.date:
        """A decision recognises a year's titles: it is dated in that year, and not later than
        today (it has been signed)."""
        date = self.cleaned_data["date"]
        if date.year != self.year:
            raise ValidationError(
                _("The decision's date must be in %(year)d, the year of the registrations.")
                % {"year": self.year}
            )
        if date > timezone.localdate():
            raise ValidationError(_("The decision's date cannot be in the future."))
        return date

    def clean_leave_out(self) -> list:
        """The approved registrations left out (`approved_by_codes`); a code no approved
        registration has, or that several have, is refused by name, as typed."""
        found, unknown, ambiguous = approved_by_codes(self.approved, self.cleaned_data["leave_out"])
        if unknown:
            raise ValidationError(
                _("Not among the approved registrations: %(codes)s.")
                % {"codes": ", ".join(unknown)}
            )
        if ambiguous:
            raise ValidationError(
                _(
                    "More than one approved registration has the code %(codes)s: choose the "
                    "title above, or type the code exactly as it is written."
                )
                % {"codes": ", ".join(ambiguous)}
            )
        return found


def approved_by_codes(approved, typed: str) -> tuple[list[Registration], list[str], list[str]]:
    """The approved registrations whose entities' codes were typed, each once, in the order
    typed; the codes none has (`unknown`) and those several have (`ambiguous`), as typed.

    Codes are one per line or separated by commas or semicolons; a piece that is no code is
    tried word by word (codes typed with spaces between them). A code is matched as written,
    else in any case (compared in Python: the databases fold Vietnamese letters differently).
    A code may hold spaces, and two titles' registrations may share one.
    """
    pieces = [piece.strip() for piece in CODE_SEPARATORS.split(typed)]
    if not any(pieces):
        return [], [], []
    exact: dict[str, list[int]] = {}
    folded: dict[str, list[int]] = {}
    for pk, code in approved.order_by().values_list("pk", "entity__code"):
        exact.setdefault(code, []).append(pk)
        folded.setdefault(code.casefold(), []).append(pk)

    def lookup(code: str) -> list[int]:
        return exact.get(code) or folded.get(code.casefold(), [])

    chosen: dict[int, None] = {}
    unknown: list[str] = []
    ambiguous: list[str] = []
    for piece in filter(None, pieces):
        codes = [piece] if lookup(piece) else piece.split()
        for code in codes:
            matches = lookup(code)
            if not matches:
                unknown.append(code)
            elif len(matches) > 1:
                ambiguous.append(code)
            else:
                chosen[matches[0]] = None
    rows = {row.pk: row for row in approved.filter(pk__in=chosen).select_related("entity")}
    found = [rows[pk] for pk in chosen if pk in rows]
    return found, list(dict.fromkeys(unknown)), list(dict.fromkeys(ambiguous))


class DecisionRowsForm(forms.Form):
    """Which of a decision's registrations its page lists: one title, one residential area."""

    kind = _kind_field()
    area = area_field()

    def __init__(self, *args: Any, areas, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = area_choices(areas)

    def filters(self) -> dict[str, Any]:
        self.is_valid()  # invalid fields are dropped from cleaned_data, the others kept
        data = self.cleaned_data
        return {"kind": data.get("kind") or None, "area": data.get("area")}


class PublicListForm(forms.Form):
    """What the printable public list shows, and from when it is posted."""

    year = _year_field()
    kind = _kind_field()
    area = area_field()
    posted_from = forms.DateField(
        label=_("Posted from"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_("The first day of the posting, printed on the list."),
    )

    def __init__(self, *args: Any, areas, **kwargs: Any) -> None:
        super().__init__(*_with_year(args), **kwargs)
        self.fields["area"].choices = area_choices(areas)

    def filters(self) -> dict[str, Any]:
        self.is_valid()  # invalid fields are dropped from cleaned_data, the others kept
        data = self.cleaned_data
        return {
            "year": data.get("year") or current_year(),
            "kind": data.get("kind") or None,
            "area": data.get("area"),
            "posted_from": data.get("posted_from"),
        }
