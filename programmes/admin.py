"""Django admin for the support programmes and their records, scoped like the pages (see
registry/admin.py for who gets in): an administrator sees the programmes of their province and
their records, a global administrator all of them; a row outside the scope is a 404.

Read-only here: programmes, contributions, beneficiaries and deliveries are written through the
programme's pages and imports, which keep the references unique, the audit trail and the
programme's summary (`ProgrammeTally`) exact in the same transaction.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from programmes.models import Beneficiary, Contribution, Delivery, Programme
from registry.admin import ReadOnlyAdmin, entity_scope_q, unit_scope_q

READ_ONLY_NOTE = _(
    "Read-only here: programmes and their records are changed on the programme's pages and by "
    "spreadsheet import."
)


class ProgrammesAdmin(ReadOnlyAdmin):
    """Rows of the provinces in the user's scope (each row carries its province)."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    ordering = ("-pk",)

    def scope(self, user) -> Q:
        return unit_scope_q(user, "province")

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, extra_context={"subtitle": READ_ONLY_NOTE, **(extra_context or {})}
        )


class WardRecordAdmin(ProgrammesAdmin):
    """Records of a ward (a child, a delivery): scoped by their ward and province."""

    def scope(self, user) -> Q:
        return entity_scope_q(user)


@admin.register(Programme)
class ProgrammeAdmin(ProgrammesAdmin):
    search_fields = ("code", "name", "organiser")
    list_display = ("code", "name", "kind", "organiser", "starts", "ends", "province")
    list_filter = ("kind",)
    list_select_related = ("province",)


@admin.register(Contribution)
class ContributionAdmin(ProgrammesAdmin):
    search_fields = ("ref", "donor")
    list_display = ("ref", "date", "programme", "donor", "amount_vnd", "item", "quantity")
    list_select_related = ("programme",)


@admin.register(Beneficiary)
class BeneficiaryAdmin(WardRecordAdmin):
    # A child's name stays on the programme's pages, for those who manage it.
    search_fields = ("code",)
    list_display = ("code", "birth_year", "programme", "school", "ward", "starts", "ends")
    list_select_related = ("programme", "school__entity", "ward")
    exclude = ("search_text", "full_name")
    raw_id_fields = ("school",)


@admin.register(Delivery)
class DeliveryAdmin(WardRecordAdmin):
    search_fields = ("ref",)
    list_display = ("ref", "date", "programme", "kind", "school", "days", "amount_vnd", "ward")
    list_filter = ("kind",)
    list_select_related = ("programme", "school__entity", "ward")
    raw_id_fields = ("school", "beneficiary")
