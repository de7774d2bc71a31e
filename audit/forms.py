from __future__ import annotations

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from audit.signals import audited_models


def model_choices() -> list[tuple[str, str]]:
    types = ContentType.objects.get_for_models(*audited_models(), for_concrete_models=False)
    choices = [(str(ct.pk), capfirst(model._meta.verbose_name)) for model, ct in types.items()]
    return [("", _("Any")), *sorted(choices, key=lambda choice: str(choice[1]))]


class AuditFilterForm(forms.Form):
    """The log page's filters; every one may be left empty."""

    username = forms.CharField(label=_("User"), max_length=150, required=False)
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("Any")), *AuditEntry.Action.choices], required=False
    )
    model = forms.TypedChoiceField(
        label=_("Type"), choices=model_choices, coerce=int, empty_value=None, required=False
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError(_("The first date is after the second."))
        return data

    def filters(self) -> dict:
        """The valid filters (an invalid form filters by nothing but shows its errors)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "username": data["username"].strip(),
            "action": data["action"],
            "content_type_id": data["model"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }
