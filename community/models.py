"""Groups (clubs, learning centres, digital teams, mobile teams, interest groups), their
members and activities, and the summaries kept exact beside them.

Every row carries its ward and province (the keys scoping and sharding need), like the
registry's entities. A group is identified by (ward, code), a member by (group, code), an
activity by (group, ref).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from registry.models import AdministrativeUnit, Entity
from registry.text import SORT_KEY_LENGTH, fold, sort_key


class GroupType(models.TextChoices):
    COMMUNITY_CLUB = "community_club", _("community development club")
    LEARNING_CENTRE = "learning_centre", _("community learning centre")
    DIGITAL_TEAM = "digital_team", _("community digital technology team")
    MOBILE_TEAM = "mobile_team", _("mobile Digital Literacy for All team")
    INTEREST_GROUP = "interest_group", _("interest group")
    OTHER = "other", _("other group")


class ActivityType(models.TextChoices):
    MEETING = "meeting", _("meeting")
    CLASS = "class", _("class")
    TRAINING = "training", _("training")
    HOME_VISIT = "home_visit", _("home visit")
    MOBILE_POINT = "mobile_point", _("mobile service point")
    OTHER = "other", _("other activity")


class Service(models.TextChoices):
    """What a resident was helped with."""

    VNEID = "vneid", "VNeID"
    IHANOI = "ihanoi", "iHanoi"
    # The app's own name, kept as the tax office writes it (the catalogue gives it unchanged).
    ETAX = "etax", _("eTax Mobile")
    VSSID = "vssid", "VssID"
    PUBLIC_PORTAL = "public_portal", _("public service portal")
    BINHDANHOCVUSO = "binhdanhocvuso", _("Digital Literacy for All platform")
    OTHER = "other", _("other service")


def _ward_fk(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name=related_name,
        verbose_name=_("commune/ward"),
    )


def _province_fk() -> models.ForeignKey:
    return models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province"),
        db_index=False,
    )


class Group(models.Model):
    ward = _ward_fk("community_groups")
    province = _province_fk()
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    group_type = models.CharField(_("type"), max_length=20, choices=GroupType.choices)
    community = models.ForeignKey(
        Entity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("residential area"),
    )
    founded = models.DateField(_("founded"), null=True, blank=True)
    leader_name = models.CharField(_("leader"), max_length=255, blank=True)
    search_text = models.CharField(max_length=600, editable=False, default="")
    sort_key = models.CharField(max_length=SORT_KEY_LENGTH, editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        constraints = [
            models.UniqueConstraint(fields=["ward", "code"], name="group_code_unique"),
            models.CheckConstraint(condition=~Q(code=""), name="group_code_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="group_name_not_empty"),
            models.CheckConstraint(
                condition=Q(group_type__in=[t.value for t in GroupType]), name="group_type_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["province", "group_type"], name="group_province_type"),
            models.Index(fields=["ward", "sort_key"], name="group_ward_sort"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def refresh_search_text(self) -> None:
        """What is derived from the name: the search text (with code and leader) and sort key."""
        self.search_text = fold(" ".join([self.name, self.code, self.leader_name]))[:600]
        self.sort_key = sort_key(self.name)


class Member(models.Model):
    group = models.ForeignKey(
        Group, on_delete=models.PROTECT, related_name="members", verbose_name=_("group")
    )
    ward = _ward_fk("+")
    province = _province_fk()
    code = models.CharField(_("code"), max_length=64)
    full_name = models.CharField(_("full name"), max_length=255)
    citizen = models.ForeignKey(
        Entity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("citizen"),
    )
    role = models.CharField(_("role in the group"), max_length=100, blank=True)
    joined = models.DateField(_("joined"), null=True, blank=True)
    left = models.DateField(_("left"), null=True, blank=True)
    sort_key = models.CharField(max_length=SORT_KEY_LENGTH, editable=False, default="")

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        constraints = [
            models.UniqueConstraint(fields=["group", "code"], name="member_code_unique"),
            models.CheckConstraint(condition=~Q(code=""), name="member_code_not_empty"),
            models.CheckConstraint(condition=~Q(full_name=""), name="member_name_not_empty"),
            models.CheckConstraint(
                condition=Q(joined__isnull=True) | Q(left__isnull=True) | Q(left__gte=F("joined")),
                name="member_left_after_joined",
            ),
        ]
        indexes = [models.Index(fields=["ward", "group"], name="member_ward_group")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.code})"


class Activity(models.Model):
    group = models.ForeignKey(
        Group, on_delete=models.PROTECT, related_name="activities", verbose_name=_("group")
    )
    ward = _ward_fk("+")
    province = _province_fk()
    ref = models.CharField(_("reference"), max_length=64)
    date = models.DateField(_("date"))
    year = models.PositiveSmallIntegerField(_("year"), editable=False)
    activity_type = models.CharField(_("activity"), max_length=20, choices=ActivityType.choices)
    participants = models.PositiveIntegerField(_("participants"))
    people_helped = models.PositiveIntegerField(_("people helped"), default=0)
    services = models.JSONField(_("services"), default=list, blank=True)
    dossiers = models.PositiveIntegerField(_("dossiers filed online"), default=0)
    note = models.TextField(_("note"), blank=True)
    citizens = models.ManyToManyField(
        Entity,
        through="ActivityCitizen",
        related_name="+",
        blank=True,
        verbose_name=_("citizens helped"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.UniqueConstraint(fields=["group", "ref"], name="activity_ref_unique"),
            models.CheckConstraint(condition=~Q(ref=""), name="activity_ref_not_empty"),
        ]
        indexes = [
            models.Index(fields=["ward", "year"], name="activity_ward_year"),
            models.Index(fields=["group", "date"], name="activity_group_date"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.date:%d/%m/%Y}"


class ActivityCitizen(models.Model):
    """A citizen of the activity's ward helped at it."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="helped")
    citizen = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("citizen helped")
        verbose_name_plural = _("citizens helped")
        constraints = [
            models.UniqueConstraint(fields=["activity", "citizen"], name="activity_citizen_unique")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}: {self.citizen_id}"


# --- Summaries: recomputed for a ward in the transaction of every write that moves them ---------

ALL_TYPES = "all"


class ActivitySummary(models.Model):
    """A ward's activities of a year by group type; `group_type` "all" holds the ward's totals
    (its citizens_reached counts each citizen once across the types)."""

    ward = _ward_fk("+")
    province = _province_fk()
    year = models.PositiveSmallIntegerField()
    group_type = models.CharField(max_length=20)
    activities = models.PositiveIntegerField(default=0)
    participants = models.PositiveBigIntegerField(default=0)
    people_helped = models.PositiveBigIntegerField(default=0)
    dossiers = models.PositiveBigIntegerField(default=0)
    citizens_reached = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ward", "year", "group_type"], name="activity_summary_unique"
            )
        ]
        indexes = [models.Index(fields=["province", "year"], name="activity_summary_prov")]

    def __str__(self) -> str:
        return f"{self.ward_id} {self.year} {self.group_type}"


class GroupTally(models.Model):
    """A ward's groups and members by type and by the years they are active: a group from the
    year it was founded (`from_year`; empty: always), a member from the year they joined to the
    year they left (`to_year`; empty: still a member). The count for a year Y is the sum of the
    rows with from_year ≤ Y ≤ to_year, an empty bound meaning no bound."""

    ward = _ward_fk("+")
    province = _province_fk()
    group_type = models.CharField(max_length=20)
    from_year = models.PositiveSmallIntegerField(null=True)
    to_year = models.PositiveSmallIntegerField(null=True)
    groups = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["ward"], name="group_tally_ward"),
            models.Index(fields=["province"], name="group_tally_province"),
        ]

    def __str__(self) -> str:
        return f"{self.ward_id} {self.group_type} {self.from_year}–{self.to_year}"
