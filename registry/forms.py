"""Forms for the registry pages: one plain form per kind, the list filter and the import upload.

Forms check input and resolve references within the entity's ward (chosen before the form is
shown); the services in `registry.services` do the writing.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, ClassVar
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from registry import selectors
from registry.imports.kinds import registered_kinds
from registry.imports.pipeline import reference_refusal, references_find
from registry.markup import format_rows
from registry.models import KIND_MODELS, AdministrativeUnit, Community, EntityKindModel, Unit
from registry.spreadsheets import too_many_rows, zip_refusal

IMPORT_EXTENSIONS = (".csv", ".xlsx")
# A ward filter offers a select up to this many wards, and a code box beyond.
WARD_SELECT_MAX = 200


def kind_label(slug: str) -> str:
    """ "Residential areas", "Families", …: the plural name a page shows for a kind."""
    return capfirst(KIND_MODELS[selectors.KIND_SLUGS[slug]]._meta.verbose_name_plural)


def kind_name(slug: str) -> str:
    """ "residential area", "family", …: the singular name of a kind."""
    return KIND_MODELS[selectors.KIND_SLUGS[slug]]._meta.verbose_name


def kind_choices() -> list[tuple[str, str]]:
    return [(slug, kind_label(slug)) for slug in selectors.KIND_SLUGS]


def import_kind_choices() -> list[tuple[str, str]]:
    """The kinds of file the upload page takes: the registry's five in the lists' order, then
    those the apps above registered (`registry.imports.kinds`)."""
    others = [k for k in registered_kinds() if k.name not in selectors.KIND_SLUGS]
    return kind_choices() + [(k.name, capfirst(k.label)) for k in others]


class EntityForm(forms.Form):
    """Fields every kind has; subclasses add the display name and the kind's own fields.

    On create the form has a `code`; on edit it has none (the code is the entity's identity).
    """

    kind: ClassVar[str]
    name_field: ClassVar[str] = "name"
    attr_fields: ClassVar[tuple[str, ...]] = ()

    code = forms.CharField(
        label=_("Code"),
        max_length=64,
        help_text=_("Identifies the entry in its commune/ward; it cannot be changed later."),
    )

    def __init__(
        self,
        *args: Any,
        user,
        ward: AdministrativeUnit,
        instance: EntityKindModel | None = None,
        **kwargs: Any,
    ) -> None:
        self.user = user
        self.ward = ward
        self.instance = instance
        if instance is not None:
            kwargs.setdefault("initial", self.initial_from(instance))
        super().__init__(*args, **kwargs)
        if instance is not None:
            del self.fields["code"]

    def initial_from(self, obj: EntityKindModel) -> dict[str, Any]:
        initial: dict[str, Any] = {self.name_field: obj.entity.name}
        for field in self.attr_fields:
            initial[field] = getattr(obj, field)
        return initial

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned data as the entity service's keyword arguments (without ward and kind)."""
        data = self.cleaned_data
        kwargs = {"name": data[self.name_field], **{f: data[f] for f in self.attr_fields}}
        if "code" in data:
            kwargs["code"] = data["code"]
        return kwargs

    def reference(self, field_name: str, kind: str) -> EntityKindModel | None:
        """The ward's entity of `kind` (a list slug) that the text typed in `field_name` names:
        its code or its exact name, by the registry import's rule (`references_find`); an
        unknown text is refused with the import's reason and the closest names."""
        text = self.cleaned_data[field_name]
        if not text:
            return None
        entity_kind = selectors.KIND_SLUGS[kind]
        found = references_find(entity_kind, [(self.ward.pk, text)])[(self.ward.pk, text)]
        if found.pk is None:
            reason = reference_refusal(entity_kind, text, ward=self.ward, found=found)
            raise ValidationError(capfirst(reason) + ("" if reason.endswith("?") else "."))
        return selectors.entity_get(user=self.user, kind=kind, pk=found.pk)

    def limit_to_ward(self, field_name: str, kind: str, message: str) -> None:
        """Offer only the ward's entities of `kind`; anything else is refused with `message`."""
        field = self.fields[field_name]
        field.queryset = selectors.ward_entities(user=self.user, kind=kind, ward=self.ward)
        field.error_messages["invalid_choice"] = message


class CommunityForm(EntityForm):
    kind = "communities"
    attr_fields = ("area_type",)

    name = forms.CharField(label=_("Name"), max_length=255)
    area_type = forms.ChoiceField(
        label=_("Area type"), choices=Community.AreaType.choices, initial=Community.AreaType.OTHER
    )


class ClanForm(EntityForm):
    kind = "clans"
    attr_fields = ("head_name",)

    name = forms.CharField(label=_("Clan name"), max_length=255)
    head_name = forms.CharField(label=_("Head of clan"), max_length=255, required=False)


class SearchInput(forms.TextInput):
    """A text box that suggests the ward's entities of a kind as one types (static/js/search.js,
    reading `entity_search`); without the script the typed code or exact name is sent as is."""

    def __init__(self, *, kind: str, ward: AdministrativeUnit, chosen: str = "") -> None:
        super().__init__(
            attrs={
                "autocomplete": "off",
                "data-search": reverse("entity_search", args=[kind])
                + "?"
                + urlencode({"ward": ward.code}),
                "data-chosen": chosen,
            }
        )


# What a reference box says it takes.
REFERENCE_HELP = _("Type part of the name (with or without accents) or the code.")


class FamilyForm(EntityForm):
    """A household's residential area and clan are typed and resolved by code or exact name in
    its ward: a ward can hold thousands of them, too many for a select."""

    kind = "families"
    name_field = "head_name"
    attr_fields = ("members", "community", "clan")

    head_name = forms.CharField(label=_("Head of household"), max_length=255)
    members = forms.IntegerField(label=_("Members"), min_value=1)
    community = forms.CharField(
        label=_("Residential area"), max_length=255, help_text=REFERENCE_HELP
    )
    clan = forms.CharField(
        label=_("Clan"), max_length=255, required=False, help_text=REFERENCE_HELP
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field_name, kind in (("community", "communities"), ("clan", "clans")):
            current = getattr(self.instance, field_name, None) if self.instance else None
            self.fields[field_name].widget = SearchInput(
                kind=kind, ward=self.ward, chosen=current.entity.name if current else ""
            )

    def initial_from(self, obj: EntityKindModel) -> dict[str, Any]:
        initial = super().initial_from(obj)
        for field_name in ("community", "clan"):
            current = initial[field_name]
            initial[field_name] = current.entity.code if current else ""
        return initial

    def clean_community(self):
        return self.reference("community", "communities")

    def clean_clan(self):
        return self.reference("clan", "clans")


class UnitForm(EntityForm):
    kind = "units"
    attr_fields = ("unit_type", "staff")

    name = forms.CharField(label=_("Name"), max_length=255)
    unit_type = forms.ChoiceField(label=_("Unit type"), choices=Unit.UnitType.choices)
    staff = forms.IntegerField(label=_("Staff"), min_value=1)


class CitizenForm(EntityForm):
    """A citizen's family is entered by its code: a ward can hold thousands of households."""

    kind = "citizens"
    name_field = "full_name"
    attr_fields = ("birth_year", "family", "unit")

    full_name = forms.CharField(label=_("Full name"), max_length=255)
    birth_year = forms.IntegerField(label=_("Birth year"), min_value=1900)
    family = forms.CharField(
        label=_("Family (household code)"),
        max_length=64,
        required=False,
        help_text=_("The code of the household the citizen belongs to, if any."),
    )
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_to_ward(
            "unit", "units", _("Choose a unit of %(ward)s.") % {"ward": self.ward.name}
        )

    def initial_from(self, obj: EntityKindModel) -> dict[str, Any]:
        initial = super().initial_from(obj)
        initial["family"] = obj.family.entity.code if obj.family else ""
        return initial

    def clean_birth_year(self) -> int:
        year = self.cleaned_data["birth_year"]
        if year > timezone.localdate().year:
            raise ValidationError(_("A birth year cannot be in the future."))
        return year

    def clean_family(self):
        code = self.cleaned_data["family"]
        if not code:
            return None
        family = selectors.entity_by_code(
            user=self.user, kind="families", ward=self.ward, code=code
        )
        if family is None:
            raise ValidationError(
                _("There is no household with code %(code)s in %(ward)s."),
                params={"code": code, "ward": self.ward.name},
            )
        return family


ENTITY_FORMS: dict[str, type[EntityForm]] = {
    form.kind: form for form in (CommunityForm, FamilyForm, ClanForm, UnitForm, CitizenForm)
}


class WardPickForm(forms.Form):
    """First step of entering an entity for a user who covers several wards."""

    ward = forms.ChoiceField(label=_("Commune/ward"))

    def __init__(self, *args: Any, wards, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[str, str]]] = {}
        for ward in wards:
            groups.setdefault(ward.parent.name, []).append((ward.code, ward.name))
        self.fields["ward"].choices = [("", "---------"), *groups.items()]


class PlainSelect(forms.Select):
    """A select whose options are written straight into the page, not through a template each
    as Django's widget does: a ward's hundreds of residential areas took 20–25 ms of every
    queue and list page that way, about 1 ms so. Flat choices only (no groups)."""

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs["name"] = name
        chosen = set(self.format_value(value))
        options = format_rows(
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if str(key) in chosen else "", label)
                for key, label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final_attrs), options)


def fit_ward_filter(field: forms.Field, wards) -> bool:
    """Fit a list's ward filter to the user's wards: hidden for one, a select up to
    WARD_SELECT_MAX, a code box beyond. True when there are several to filter by."""
    wards = list(wards[: WARD_SELECT_MAX + 1])
    if len(wards) <= 1:
        field.widget = forms.HiddenInput()
    elif len(wards) > WARD_SELECT_MAX:
        # A nationwide administrator: thousands of options would weigh down every page.
        field.widget = forms.TextInput(
            attrs={"placeholder": _("Commune/ward code"), "inputmode": "numeric"}
        )
    else:
        field.widget.choices = [
            ("", _("All communes/wards")),
            *((w.code, w.name) for w in wards),
        ]
    return len(wards) > 1


class ListFilterForm(forms.Form):
    """The search box and filters of a list page; the kind decides which filters exist."""

    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    ward = forms.CharField(
        label=_("Commune/ward"), max_length=10, required=False, widget=PlainSelect
    )

    def __init__(self, *args: Any, kind: str, wards, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Name or code"), "autocomplete": "off"}
        )
        self.many_wards = fit_ward_filter(self.fields["ward"], wards)
        for name, related_kind in selectors.LIST_FILTERS[kind].items():
            if related_kind is not None:
                self.fields[name] = forms.IntegerField(
                    required=False, min_value=1, widget=forms.HiddenInput
                )
        if kind == "units":
            self.fields["unit_type"] = forms.ChoiceField(
                label=_("Unit type"),
                required=False,
                choices=[("", _("All types")), *Unit.UnitType.choices],
            )
        if kind == "communities":
            self.fields["area_type"] = forms.ChoiceField(
                label=_("Area type"),
                required=False,
                choices=[("", _("All types")), *Community.AreaType.choices],
            )


class SpreadsheetUploadForm(forms.Form):
    """A spreadsheet to import: a .csv or .xlsx file of at most IMPORT_MAX_BYTES.

    Each import's form adds what the file is about (the registry's kind, the registrations'
    year) and lists it before the file in `field_order`. A form whose file is checked in a
    background job leaves its rows to be counted there (`counts_rows` off, see
    `registry.uploads.import_job`): counting a workbook of IMPORT_MAX_ROWS rows reads all of it,
    seconds the upload's request should not wait.
    """

    counts_rows = True

    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8) or Excel (.xlsx). The row of column headers may stand below title "
            "rows; headers may be in Vietnamese, as in the template."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_EXTENSIONS)}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if PurePath(upload.name).suffix.lower() not in IMPORT_EXTENSIONS:
            raise ValidationError(_("Choose a .csv or .xlsx file."))
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise ValidationError(
                _("The file is too large (at most %(size)s)."),
                params={"size": filesizeformat(settings.IMPORT_MAX_BYTES)},
            )
        data = upload.read()
        upload.seek(0)
        refusal = zip_refusal(data=data, filename=upload.name)
        if not refusal and self.counts_rows:
            refusal = too_many_rows(data=data, filename=upload.name)
        if refusal:
            raise ValidationError(refusal)
        return upload


class ImportForm(SpreadsheetUploadForm):
    field_order = ("kind", "file")
    counts_rows = False

    kind = forms.ChoiceField(label=_("What the file holds"), choices=import_kind_choices)


class ImportConfirmForm(forms.Form):
    """The second step: the dry-run file kept in the session, named by its token."""

    token = forms.CharField(max_length=64, widget=forms.HiddenInput)
