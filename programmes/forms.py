"""Forms of the programmes' pages: they check input; the services write."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from programmes.models import (
    Beneficiary,
    Contribution,
    Delivery,
    DeliveryKind,
    Programme,
    ProgrammeKind,
)
from programmes.services.imports import KINDS
from registry.forms import SpreadsheetUploadForm
from registry.models import AdministrativeUnit, Unit
from titles.forms import year_field

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SchoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{obj.entity.name} · {obj.entity.ward.name}"


def _school_field(wards) -> SchoolChoiceField:
    return SchoolChoiceField(
        label=_("School"),
        queryset=Unit.objects.filter(unit_type=Unit.UnitType.SCHOOL, entity__ward__in=wards)
        .select_related("entity__ward")
        .order_by("entity__ward__code", "entity__sort_key"),
        help_text=_("A unit of type school in the registry; its commune/ward is the record's."),
    )


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = [
            "code",
            "name",
            "organiser",
            "kind",
            "starts",
            "ends",
            "daily_rate_vnd",
            "target_beneficiaries",
            "public_note",
        ]
        widgets = {"starts": DATE, "ends": DATE, "public_note": forms.Textarea(attrs={"rows": 4})}

    province = forms.ModelChoiceField(
        label=_("Province"), queryset=AdministrativeUnit.objects.none()
    )

    def __init__(self, *args, provinces, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["province"].queryset = provinces
        if self.instance.pk:
            del self.fields["province"]
            self.fields["code"].disabled = True
        elif provinces.count() == 1:
            self.fields["province"].initial = provinces.first()
            self.fields["province"].widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        if data.get("kind") == ProgrammeKind.MEALS and not data.get("daily_rate_vnd"):
            self.add_error("daily_rate_vnd", _("A meals programme needs its daily rate."))
        return data

    def validate_unique(self) -> None:
        """The service checks the model; nothing twice."""


class OrganiserForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)


class ContributionForm(forms.ModelForm):
    class Meta:
        model = Contribution
        fields = ["ref", "date", "donor", "amount_vnd", "item", "quantity", "donor_public"]
        widgets = {"date": DATE}

    def validate_unique(self) -> None:
        """The service checks the model."""


class BeneficiaryForm(forms.ModelForm):
    class Meta:
        model = Beneficiary
        fields = ["code", "full_name", "birth_year", "starts", "ends"]
        widgets = {"starts": DATE, "ends": DATE}

    def __init__(self, *args, wards, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"] = _school_field(wards)
        if self.instance.pk:
            self.fields["school"].initial = self.instance.school_id
            self.fields["code"].disabled = True

    def validate_unique(self) -> None:
        """The service checks the model."""


class DeliveryForm(forms.ModelForm):
    class Meta:
        model = Delivery
        fields = ["ref", "date", "kind", "days", "item", "quantity", "amount_vnd"]
        widgets = {"date": DATE}

    beneficiary_code = forms.CharField(
        label=_("Beneficiary code"),
        required=False,
        max_length=64,
        help_text=_("Optional: the child's code, for a delivery to one child."),
    )

    def __init__(self, *args, wards, programme: Programme, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.fields["school"] = _school_field(wards)
        self.order_fields(["ref", "date", "school", "kind", "beneficiary_code"])
        if self.instance.pk:
            self.fields["school"].initial = self.instance.school_id
            if self.instance.beneficiary_id:
                self.fields["beneficiary_code"].initial = self.instance.beneficiary.code

    def clean(self):
        data = super().clean()
        code, school = data.get("beneficiary_code"), data.get("school")
        data["beneficiary"] = None
        if code and school is not None:
            data["beneficiary"] = Beneficiary.objects.filter(
                programme=self.programme, ward_id=school.entity.ward_id, code=code
            ).first()
            if data["beneficiary"] is None:
                self.add_error(
                    "beneficiary_code",
                    _("No beneficiary of the programme with this code at this school's ward."),
                )
        return data

    def validate_unique(self) -> None:
        """The service checks the model."""


class ProgrammeFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *ProgrammeKind.choices]
    )


class RecordFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    programme = forms.CharField(label=_("Programme code"), required=False, max_length=40)
    ward = forms.CharField(label=_("Commune/ward code"), required=False, max_length=10)


class DeliveryFilterForm(RecordFilterForm):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *DeliveryKind.choices]
    )


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError(_("The end of the period is before its start."))
        return data


KIND_LABELS = {
    "programmes": _("Programmes"),
    "contributions": _("Contributions"),
    "beneficiaries": _("Beneficiaries"),
    "deliveries": _("Deliveries"),
}


class ProgrammeImportForm(SpreadsheetUploadForm):
    field_order = ("kind", "file")

    kind = forms.ChoiceField(
        label=_("What the file holds"), choices=[(k, KIND_LABELS[k]) for k in KINDS]
    )


class DashboardForm(forms.Form):
    """The dashboard's year (`?year=`, the one every tab keeps); empty: this year."""

    year = year_field(required=False)
