"""Forms of the groups' pages: the list's filters, a group, a member, an activity and the
dashboard's year. They check input and resolve references within the group's ward; the
services in `community.services.groups` write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from community.models import ActivityType, Group, GroupType, Service
from registry.forms import fit_ward_filter
from registry.models import AdministrativeUnit, Entity, Kind
from titles.forms import year_field

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def _date_field(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        **kwargs,
    )


class GroupFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    group_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("All types")), *GroupType.choices]
    )
    ward = forms.CharField(
        label=_("Commune/ward"), max_length=10, required=False, widget=forms.Select
    )

    def __init__(self, *args: Any, wards, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Name, code or leader"), "autocomplete": "off"}
        )
        self.many_wards = fit_ward_filter(self.fields["ward"], wards)


class _WardEntityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Entity) -> str:
        return f"{obj.name} ({obj.code})"


class GroupForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=255)
    group_type = forms.ChoiceField(label=_("Type"), choices=GroupType.choices)
    community = _WardEntityChoice(
        label=_("Residential area"), queryset=Entity.objects.none(), required=False
    )
    founded = _date_field(_("Founded"), required=False)
    leader_name = forms.CharField(label=_("Leader"), max_length=255, required=False)

    def __init__(
        self, *args: Any, ward: AdministrativeUnit, instance: Group | None = None, **kwargs: Any
    ) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": instance.name,
                    "group_type": instance.group_type,
                    "community": instance.community_id,
                    "founded": instance.founded,
                    "leader_name": instance.leader_name,
                },
            )
        super().__init__(*args, **kwargs)
        self.ward = ward
        self.fields["community"].queryset = Entity.objects.filter(
            ward=ward, kind=Kind.COMMUNITY
        ).order_by("sort_key", "code")
        if instance is not None:
            del self.fields["code"]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name] if name != "leader_name" else data[name] or ""
            for name in ("name", "group_type", "community", "founded", "leader_name")
        } | ({"code": data["code"]} if "code" in data else {})


class MemberForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=64)
    full_name = forms.CharField(label=_("Full name"), max_length=255)
    role = forms.CharField(label=_("Role in the group"), max_length=100, required=False)
    joined = _date_field(_("Joined"), required=False)
    left = _date_field(_("Left"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("joined") and data.get("left") and data["left"] < data["joined"]:
            self.add_error("left", _("The date left is before the date joined."))
        return data


class _CitizenChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Entity) -> str:
        return f"{obj.name} ({obj.code}, {obj.citizen.birth_year})"


class ActivityForm(forms.Form):
    """An activity of a group. The citizens helped are chosen among the ward's citizens found
    by the page's search (`shown`) and those already ticked; anyone else is refused."""

    date = _date_field(_("Date"))
    activity_type = forms.ChoiceField(label=_("Activity"), choices=ActivityType.choices)
    participants = forms.IntegerField(label=_("Participants"), min_value=0, max_value=100_000)
    services = forms.MultipleChoiceField(
        label=_("Services helped with"),
        choices=Service.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    citizens = _CitizenChoice(
        label=_("Citizens helped"),
        queryset=Entity.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    people_helped = forms.IntegerField(
        label=_("People helped"),
        min_value=0,
        max_value=100_000,
        required=False,
        help_text=_("Leave empty to count the citizens ticked above."),
    )
    dossiers = forms.IntegerField(
        label=_("Dossiers filed online"), min_value=0, max_value=100_000, initial=0
    )
    ref = forms.CharField(
        label=_("Reference"),
        max_length=64,
        required=False,
        help_text=_("Leave empty to number it by its date."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, ward: AdministrativeUnit, shown: list[int], **kwargs: Any):
        super().__init__(*args, **kwargs)
        posted = []
        if self.is_bound:
            posted = [v for v in self.data.getlist("citizens") if str(v).isdigit()]
        self.fields["citizens"].queryset = (
            Entity.objects.filter(ward=ward, kind=Kind.CITIZEN, pk__in=[*shown, *posted])
            .select_related("citizen")
            .order_by("sort_key", "code")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        helped, citizens = data.get("people_helped"), data.get("citizens") or []
        if helped is not None and helped < len(citizens):
            self.add_error("people_helped", _("At least the number of citizens chosen as helped."))
        return data


class DashboardForm(forms.Form):
    year = year_field(required=False)
