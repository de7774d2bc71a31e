"""Support programmes and funds: what an association raises for children and what it delivers.

A programme belongs to a province (its administrators, and the organiser accounts they link to
it, manage it and its contributions). Its beneficiaries are children of a commune/ward, each
at a school of that ward (a registry unit of type school); its deliveries go to a school of a
ward, optionally to one child. Contributions are money (`amount_vnd`) or items (`item`,
`quantity`), or both.

`ProgrammeTally` is a summary kept exact by every write (services and imports) in the writing
transaction; `programmes.services.tallies.tallies_verify` recomputes it from the detail rows.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from registry.models import AdministrativeUnit, Unit


class ProgrammeKind(models.TextChoices):
    MEALS = "meals", _("School meals")
    DEVICES = "devices", _("Learning devices")
    MILK = "milk", _("Milk")
    SCHOLARSHIP = "scholarship", _("Scholarships")
    SCHOOL_BUILDING = "school_building", _("School building")
    FUND = "fund", _("Fund")
    OTHER = "other", _("Other")


class DeliveryKind(models.TextChoices):
    MEALS = "meals", _("Meals")
    ITEMS = "items", _("Items")
    CASH = "cash", _("Cash")
    WORKS = "works", _("Works")


CODE_VALIDATOR = RegexValidator(
    r"^[^/?#%\\\s]+$",
    _(
        "A programme's code has no spaces and none of / ? # %% \\ "
        "(it is part of the page's address)."
    ),
)


class Programme(models.Model):
    """A support programme or fund of a province, identified by its code everywhere."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=255)
    organiser = models.CharField(_("organiser"), max_length=255)
    province = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ProgrammeKind.choices)
    starts = models.DateField(_("starts"))
    ends = models.DateField(_("ends"), null=True, blank=True)
    daily_rate_vnd = models.PositiveBigIntegerField(
        _("daily rate (VND)"),
        null=True,
        blank=True,
        help_text=_("For meals: what one child's meals of one day may cost."),
    )
    target_beneficiaries = models.PositiveIntegerField(
        _("target beneficiaries"), null=True, blank=True
    )
    public_note = models.TextField(_("purpose (public)"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["-starts", "code"]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="programme_code_not_empty"),
            models.CheckConstraint(
                condition=Q(ends__isnull=True) | Q(ends__gte=F("starts")),
                name="programme_period_valid",
                violation_error_message=_("The programme ends before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ProgrammeKind]),
                name="programme_kind_valid",
            ),
        ]
        indexes = [models.Index(fields=["province", "starts"], name="programme_province")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ProgrammeOrganiser(models.Model):
    """A user account that manages one programme and its contributions and deliveries,
    linked by an administrator of the programme's province."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="organisers", verbose_name=_("programme")
    )
    province = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="organised_programmes",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("programme organiser")
        verbose_name_plural = _("programme organisers")
        constraints = [
            models.UniqueConstraint(fields=["programme", "user"], name="organiser_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.programme.code} · {self.user}"


class Contribution(models.Model):
    """Money or items given to a programme; `ref` identifies it within the programme."""

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="contributions",
        verbose_name=_("programme"),
    )
    province = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    ref = models.CharField(_("reference"), max_length=64)
    date = models.DateField(_("date"))
    donor = models.CharField(_("donor"), max_length=255)
    amount_vnd = models.PositiveBigIntegerField(_("amount (VND)"), default=0)
    item = models.CharField(_("item"), max_length=120, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    donor_public = models.BooleanField(
        _("donor may be named"),
        default=False,
        help_text=_("The donor agreed to be named on the programme's public page."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")
        ordering = ["-date", "ref"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "ref"],
                name="contribution_ref_unique",
                violation_error_message=_("The programme already has this reference."),
            ),
            models.CheckConstraint(
                condition=Q(amount_vnd__gt=0) | (~Q(item="") & Q(quantity__gt=0)),
                name="contribution_money_or_items",
                violation_error_message=_("Give an amount, or an item and its quantity."),
            ),
            models.CheckConstraint(
                condition=Q(item="", quantity=0) | (~Q(item="") & Q(quantity__gt=0)),
                name="contribution_item_quantity",
                violation_error_message=_("An item needs a quantity, and a quantity its item."),
            ),
        ]
        indexes = [models.Index(fields=["programme", "date"], name="contribution_date")]

    def __str__(self) -> str:
        return f"{self.programme.code}/{self.ref}"


class Beneficiary(models.Model):
    """A child supported by a programme, at a school of their commune/ward, for a period.

    Personal data (name, code, birth year): shown only to staff, officials and administrators
    of the child's scope; never on the public page, to viewers or through the API to them.
    """

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="beneficiaries",
        verbose_name=_("programme"),
    )
    province = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    ward = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("commune/ward"),
    )
    code = models.CharField(_("code"), max_length=64)
    full_name = models.CharField(_("full name"), max_length=255)
    birth_year = models.PositiveSmallIntegerField(_("birth year"))
    school = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    starts = models.DateField(_("starts"))
    ends = models.DateField(_("ends"), null=True, blank=True)
    # Lower-case, diacritics-free name and code: what search matches against.
    search_text = models.CharField(max_length=400, editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")
        ordering = ["ward", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "ward", "code"],
                name="beneficiary_code_unique",
                violation_error_message=_(
                    "The programme already has a beneficiary with this code in this ward."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ends__isnull=True) | Q(ends__gte=F("starts")),
                name="beneficiary_period_valid",
                violation_error_message=_("The period ends before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(birth_year__gte=1900, birth_year__lte=2100),
                name="beneficiary_birth_year_range",
            ),
        ]
        indexes = [
            models.Index(fields=["ward", "code"], name="beneficiary_ward_code"),
            models.Index(fields=["province", "code"], name="beneficiary_province_code"),
        ]

    def __str__(self) -> str:
        # Never the child's name: this text reaches the audit log's list and messages.
        return f"{self.programme.code}/{self.ward.code}/{self.code}"


class Delivery(models.Model):
    """Meals, items, cash or works delivered at a school, optionally to one child."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("programme")
    )
    province = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    ward = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("commune/ward"),
    )
    ref = models.CharField(_("reference"), max_length=64)
    date = models.DateField(_("date"))
    school = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=DeliveryKind.choices)
    beneficiary = models.ForeignKey(
        Beneficiary,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("beneficiary"),
    )
    days = models.PositiveIntegerField(
        _("child-days"), default=0, help_text=_("For meals: child-days served.")
    )
    item = models.CharField(_("item"), max_length=120, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    amount_vnd = models.PositiveBigIntegerField(_("amount (VND)"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-date", "ref"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "ref"],
                name="delivery_ref_unique",
                violation_error_message=_("The programme already has this reference."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in DeliveryKind]), name="delivery_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind="meals") | Q(days__gt=0),
                name="delivery_meals_have_days",
                violation_error_message=_("Meals need the child-days served."),
            ),
            models.CheckConstraint(
                condition=Q(item="", quantity=0) | (~Q(item="") & Q(quantity__gt=0)),
                name="delivery_item_quantity",
                violation_error_message=_("An item needs a quantity, and a quantity its item."),
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "date"], name="delivery_date"),
            models.Index(fields=["ward", "date"], name="delivery_ward_date"),
        ]

    def __str__(self) -> str:
        return f"{self.programme.code}/{self.ref}"


class ProgrammeTally(models.Model):
    """A programme's figures for one commune/ward, school and month (a summary).

    Deliveries give rows with a ward, a school and a month; contributions rows with only a month
    (`raised_vnd`); beneficiaries rows with a ward and a school and no month (`beneficiaries`,
    counting each child once per programme). Recomputed for the programme in every writing
    transaction; never edited by hand.
    """

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="tallies")
    province = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    ward = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, null=True, related_name="+"
    )
    school = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, related_name="+")
    month = models.DateField(null=True)
    raised_vnd = models.PositiveBigIntegerField(default=0)
    spent_vnd = models.PositiveBigIntegerField(default=0)
    deliveries = models.PositiveIntegerField(default=0)
    meal_days = models.PositiveBigIntegerField(default=0)
    beneficiaries = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("programme tally")
        verbose_name_plural = _("programme tallies")
        indexes = [
            models.Index(fields=["programme", "ward", "school"], name="ptally_programme"),
            models.Index(fields=["province", "ward"], name="ptally_province_ward"),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}:{self.ward_id}:{self.school_id}:{self.month}"
