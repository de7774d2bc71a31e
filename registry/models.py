"""Registry: administrative units, associations, and the five kinds of entity that hold titles.

Every family, clan, community, unit and citizen has one `Entity` row (its kind, province, ward,
code and display name); the kind's own table shares that row's primary key. Registrations,
roll-ups and search work on `Entity` alone, so they never need a GenericForeignKey nor a join
per kind, and every row carries the province and ward it counts toward (the keys a roll-up
groups by and a province-sharded deployment distributes by).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from registry.text import SORT_KEY_LENGTH, fold, sort_key

# The two-tier system (34 provinces, 3,321 communes/wards) came into force on this day; the
# units of the three tiers before it (provinces, districts, communes) ended the day before.
TWO_TIER_START = dt.date(2025, 7, 1)
BEFORE_TWO_TIER_END = TWO_TIER_START - dt.timedelta(days=1)


class AdministrativeUnit(models.Model):
    """A province or a commune/ward, as in the official list, or a unit from before 1 July 2025.

    Units are never rewritten: a unit abolished by a merger gets `valid_to` and its records keep
    pointing at it. Codes are unique among the units in force at each level.

    The units of the three tiers before 1 July 2025 (provinces, districts, communes) have levels
    of their own, so nothing that works on today's provinces and wards (scopes, grants, lists,
    roll-ups, imports) ever sees them, and a code they share with a current unit (00322 was
    Phường Hoàng Văn Thụ, it is now Phường Tương Mai) never clashes. They all ended on
    2025-06-30, hold no records (the database refuses an entity in anything but a current-tier
    ward) and are linked to the current units they went into (`UnitSuccession`).
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        WARD = "ward", _("Commune/ward")
        PROVINCE_BEFORE_2025 = "pre_prov", _("Province (before 1/7/2025)")
        DISTRICT = "district", _("District (before 1/7/2025)")
        WARD_BEFORE_2025 = "pre_ward", _("Commune/ward (before 1/7/2025)")

    LEVELS_BEFORE_2025 = ("pre_prov", "district", "pre_ward")

    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    division_type = models.CharField(_("division type"), max_length=40, blank=True)
    codename = models.CharField(max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    successors = models.ManyToManyField(
        "self",
        through="UnitSuccession",
        through_fields=("before", "after"),
        symmetrical=False,
        related_name="predecessors",
        blank=True,
    )

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["level", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["level", "code"],
                condition=Q(valid_to__isnull=True),
                name="adminunit_code_unique_in_force",
            ),
            models.UniqueConstraint(
                fields=["level", "code"],
                condition=Q(level__in=["pre_prov", "district", "pre_ward"]),
                name="adminunit_code_unique_before_2025",
            ),
            models.CheckConstraint(
                condition=Q(level__in=["province", "pre_prov"], parent__isnull=True)
                | Q(level__in=["ward", "district", "pre_ward"], parent__isnull=False),
                name="adminunit_parent_by_level",
            ),
            models.CheckConstraint(
                condition=~Q(level__in=["pre_prov", "district", "pre_ward"])
                | Q(valid_to__lt=TWO_TIER_START),
                name="adminunit_before_2025_ended",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="adminunit_valid_range",
            ),
        ]
        indexes = [models.Index(fields=["parent", "level"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_province(self) -> bool:
        return self.level == self.Level.PROVINCE

    @property
    def is_before_2025(self) -> bool:
        """A unit of the tiers before 1 July 2025 (it can hold no new records)."""
        return self.level in self.LEVELS_BEFORE_2025

    @property
    def province_id_for_scope(self) -> int:
        return self.pk if self.is_province else self.parent_id


class UnitSuccession(models.Model):
    """A unit before 1 July 2025 went, wholly or in part, into a current unit.

    From the official conversion table the `vietnam-provinces` package ships: a commune split
    among several wards has one row per ward (`whole` false); one that went wholly into a ward
    has one row with `whole` true. Provinces are linked the same way.
    """

    before = models.ForeignKey(
        AdministrativeUnit, on_delete=models.CASCADE, related_name="successions"
    )
    after = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    whole = models.BooleanField(_("wholly"), default=False)

    class Meta:
        verbose_name = _("succession of units")
        verbose_name_plural = _("successions of units")
        constraints = [
            models.UniqueConstraint(fields=["before", "after"], name="unitsuccession_unique")
        ]
        indexes = [models.Index(fields=["after"])]

    def __str__(self) -> str:
        return f"{self.before_id} -> {self.after_id}"


class Kind(models.TextChoices):
    """The five kinds of entity that register for a 'learning' title."""

    FAMILY = "family", _("Learning Family")
    CLAN = "clan", _("Learning Clan")
    COMMUNITY = "community", _("Learning Community")
    UNIT = "unit", _("Learning Unit")
    CITIZEN = "citizen", _("Learning Citizen")


# Kinds named after a person (a household after its head): listed by given name first.
PERSON_KINDS = frozenset({Kind.FAMILY, Kind.CITIZEN})


class Entity(models.Model):
    """What every registrable thing has in common; the kind's row shares this primary key."""

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # No single-column indexes on province and ward: the composite indexes below lead with them
    # (and entity_code_unique with the ward), and every index costs each of millions of inserts.
    province = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province"),
        db_index=False,
    )
    ward = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="entities",
        verbose_name=_("commune/ward"),
        db_index=False,
    )
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    # Lower-case, diacritics-free name, code and head of household: what search matches against.
    search_text = models.CharField(max_length=600, editable=False, default="")
    # The name's place in a Vietnamese list (`registry.text.sort_key`): what every list of
    # entities is ordered by, on PostgreSQL and SQLite alike.
    sort_key = models.CharField(max_length=SORT_KEY_LENGTH, editable=False, default="")
    # The first year the entity counts in (the registry as of 31 December of a year: see
    # `registry.services.tallies`); empty: it counts in every year (it was recorded before its
    # ward recorded any earlier year). Set when the entity is recorded, lowered when it
    # registers for an earlier year.
    counted_from = models.PositiveSmallIntegerField(
        _("counted from (year)"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("entity")
        verbose_name_plural = _("entities")
        constraints = [
            models.UniqueConstraint(fields=["ward", "kind", "code"], name="entity_code_unique"),
            models.CheckConstraint(condition=~Q(code=""), name="entity_code_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="entity_name_not_empty"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in Kind]), name="entity_kind_valid"
            ),
        ]
        indexes = [
            # A province's list in its order (`registry.selectors.LIST_ORDER_COLUMNS`), walked
            # by keyset pages; its prefix serves the province's counts per kind as before.
            models.Index(
                fields=["province", "kind", "ward", "sort_key"],
                name="entity_province_kind_ward_sort",
            ),
            models.Index(fields=["ward", "kind", "sort_key"], name="entity_ward_kind_sort"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def refresh_search_text(self, *extra: str) -> None:
        """Recompute what is derived from the name: the search text and the sort key."""
        self.search_text = fold(" ".join([self.name, self.code, *extra]))[:600]
        self.sort_key = sort_key(self.name, person=self.kind in PERSON_KINDS)


class EntityKindModel(models.Model):
    """Base of the five kinds: the shared `Entity` row is the primary key."""

    entity = models.OneToOneField(
        Entity, on_delete=models.PROTECT, primary_key=True, related_name="%(class)s"
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return str(self.entity)


class Community(EntityKindModel):
    """A residential area: village, hamlet, mountain village or residential group."""

    class AreaType(models.TextChoices):
        THON = "thon", _("Village (thôn)")
        XOM = "xom", _("Hamlet (xóm)")
        BAN = "ban", _("Mountain village (bản)")
        TO_DAN_PHO = "to_dan_pho", _("Residential group (tổ dân phố)")
        KHU_PHO = "khu_pho", _("Quarter (khu phố)")
        OTHER = "other", _("Other")

    area_type = models.CharField(
        _("area type"), max_length=12, choices=AreaType.choices, default=AreaType.OTHER
    )

    class Meta:
        verbose_name = _("residential area")
        verbose_name_plural = _("residential areas")


class Clan(EntityKindModel):
    """A family line; its households may live in several residential areas of the ward."""

    head_name = models.CharField(_("head of clan"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("clan")
        verbose_name_plural = _("clans")


class Family(EntityKindModel):
    """A household. Its display name is the head of household's name."""

    members = models.PositiveIntegerField(_("members"))
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="families",
        verbose_name=_("residential area"),
    )
    clan = models.ForeignKey(
        Clan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="families",
        verbose_name=_("clan"),
    )

    class Meta:
        verbose_name = _("family")
        verbose_name_plural = _("families")
        constraints = [
            models.CheckConstraint(condition=Q(members__gt=0), name="family_members_positive"),
        ]

    @property
    def head_name(self) -> str:
        return self.entity.name


class Unit(EntityKindModel):
    """An agency, school, enterprise or production facility at commune level."""

    class UnitType(models.TextChoices):
        AGENCY = "agency", _("Agency")
        SCHOOL = "school", _("School")
        ENTERPRISE = "enterprise", _("Enterprise")
        OTHER = "other", _("Other")

    unit_type = models.CharField(_("unit type"), max_length=12, choices=UnitType.choices)
    staff = models.PositiveIntegerField(_("staff"))

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.CheckConstraint(condition=Q(staff__gt=0), name="unit_staff_positive"),
            models.CheckConstraint(
                condition=Q(unit_type__in=["agency", "school", "enterprise", "other"]),
                name="unit_type_valid",
            ),
        ]


class Citizen(EntityKindModel):
    """A person: official, public employee, worker or resident."""

    birth_year = models.PositiveSmallIntegerField(_("birth year"))
    family = models.ForeignKey(
        Family,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="citizens",
        verbose_name=_("family"),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff_citizens",
        verbose_name=_("unit"),
    )

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year__gte=1900, birth_year__lte=2100),
                name="citizen_birth_year_range",
            ),
        ]

    @property
    def full_name(self) -> str:
        return self.entity.name


KIND_MODELS: dict[str, type[EntityKindModel]] = {
    Kind.FAMILY: Family,
    Kind.CLAN: Clan,
    Kind.COMMUNITY: Community,
    Kind.UNIT: Unit,
    Kind.CITIZEN: Citizen,
}


class Association(models.Model):
    """An Association for Promoting Education at one level, with its parent association."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province/city association")
        WARD = "ward", _("Commune/ward association")
        SUB = "sub", _("Sub-association (residential area)")
        COMMITTEE = "committee", _("Committee in an agency, school or enterprise")

    name = models.CharField(_("name"), max_length=255)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    admin_unit = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="associations",
        verbose_name=_("administrative unit"),
        help_text=_("The province for a province association, otherwise the commune/ward."),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent association"),
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="associations",
        verbose_name=_("residential area"),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="associations",
        verbose_name=_("unit"),
    )

    class Meta:
        verbose_name = _("association")
        verbose_name_plural = _("associations")
        constraints = [
            models.CheckConstraint(
                condition=Q(level="province", parent__isnull=True)
                | (~Q(level="province") & Q(parent__isnull=False)),
                name="association_parent_by_level",
            ),
            models.CheckConstraint(
                condition=Q(level="sub", community__isnull=False, unit__isnull=True)
                | Q(level="committee", unit__isnull=False, community__isnull=True)
                | Q(level__in=["province", "ward"], community__isnull=True, unit__isnull=True),
                name="association_place_by_level",
            ),
            models.UniqueConstraint(
                fields=["admin_unit"],
                condition=Q(level__in=["province", "ward"]),
                name="association_one_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AssociationMembership(models.Model):
    """How many members an association had in a year."""

    association = models.ForeignKey(
        Association, on_delete=models.CASCADE, related_name="memberships"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    members = models.PositiveIntegerField(_("members"))

    class Meta:
        verbose_name = _("association membership")
        verbose_name_plural = _("association memberships")
        constraints = [
            models.UniqueConstraint(fields=["association", "year"], name="membership_one_per_year"),
            models.CheckConstraint(condition=Q(members__gt=0), name="membership_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.association} · {self.year}: {self.members}"


class Role(models.TextChoices):
    STAFF = "staff", _("Association staff")
    OFFICIAL = "official", _("Ward official")
    VIEWER = "viewer", _("Dashboard viewer")
    ADMIN = "admin", _("Administrator")


class Grant(models.Model):
    """A user's role and the unit (ward or province) it covers; an admin without a unit covers all.

    Every selector scopes by this row; a user without one sees nothing.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grant"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    unit = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grants",
        verbose_name=_("unit"),
    )

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.CheckConstraint(
                condition=Q(role="admin") | Q(unit__isnull=False), name="grant_unit_unless_admin"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit or '*'}"

    @property
    def can_edit_registry(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)


class RollupLevel(models.TextChoices):
    """Where figures roll up: residential area → commune/ward → province."""

    COMMUNITY = "community", _("Residential area")
    WARD = "ward", _("Commune/ward")
    PROVINCE = "province", _("Province")


class EntityTally(models.Model):
    """How many entities of a kind a residential area, ward or province has.

    A summary of the registry kept exact by the registry services: every write that adds
    entities or moves one between residential areas recomputes the tallies of its ward in the
    same transaction (one entity created moves them by one instead, `tallies_add`, and one
    household's members changed by the difference, `tallies_change`);
    `rollup --verify` recomputes them from the detail rows and compares.
    `unit_id` is an AdministrativeUnit for the ward and province levels and the residential
    area's Entity for the community level; a residential area counts its households, the
    citizens of those households, and itself.

    One row per first year counted (`counted_from`, 0 for the entities counted in every year):
    the entities of a year are the sum of the rows counted from that year or earlier.
    A family row also keeps the members of those households (`members`, 0 on other kinds),
    so the overview's "members of families" is read here too.
    """

    level = models.CharField(max_length=10, choices=RollupLevel.choices)
    unit_id = models.BigIntegerField()
    province = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    ward = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    counted_from = models.PositiveSmallIntegerField(default=0)
    entities = models.PositiveIntegerField(default=0)
    members = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("entity tally")
        verbose_name_plural = _("entity tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "unit_id", "kind", "counted_from"], name="tally_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["province", "level", "kind"], name="tally_province_level"),
            models.Index(fields=["ward", "level"], name="tally_ward_level"),
        ]

    def __str__(self) -> str:
        return f"{self.level}:{self.unit_id} {self.kind} = {self.entities}"


class BirthYearTally(models.Model):
    """How many citizens of a ward were born in each year.

    What "adults in a year" reads (born in that year − 15 or earlier): a sum over about a
    hundred rows per ward instead of a count over its citizens (a province's: millions). Kept
    exact with `EntityTally`, in the same transaction: every registry write that adds citizens
    or changes birth years recomputes the ward's rows (`tallies_refresh`), or, for one citizen
    added or changed, moves the rows it touches (`tallies_add`, `tallies_change`).
    """

    # Both keys are looked up through the indexes below.
    ward = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    province = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    birth_year = models.PositiveSmallIntegerField(_("birth year"))
    citizens = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("birth year tally")
        verbose_name_plural = _("birth year tallies")
        constraints = [
            models.UniqueConstraint(fields=["ward", "birth_year"], name="birth_tally_unique"),
        ]
        indexes = [
            models.Index(fields=["province", "birth_year"], name="birth_tally_province"),
        ]

    def __str__(self) -> str:
        return f"{self.ward_id} {self.birth_year} = {self.citizens}"
