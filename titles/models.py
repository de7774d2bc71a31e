"""Titles: criteria sets, registrations, evaluation results, review history and decisions.

A registration is one entity's bid for its kind's title in one year. It carries the entity's
kind, ward and province so that review queues and roll-ups read one indexed table and never
join across provinces. Nothing here is deleted: state changes, overrides and evidence edits
are appended to `RegistrationEvent`; an override is superseded by a later one, never removed.
"""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from registry.models import AdministrativeUnit, Entity, Kind, RollupLevel
from registry.text import SORT_KEY_LENGTH


class CriteriaSet(models.Model):
    """A criteria set loaded from its JSON file; `definition` is the validated document.

    The set in force for (title, year, province) is the province's own if it has one, else the
    national one (province null). Validity ranges of one scope and title never overlap.
    `digest` identifies the exact definition an evaluation used.
    """

    code = models.CharField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=255)
    valid_from = models.PositiveSmallIntegerField(_("valid from (year)"))
    valid_to = models.PositiveSmallIntegerField(_("valid to (year)"), null=True, blank=True)
    province = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="criteria_sets",
        verbose_name=_("province"),
        help_text=_("Empty for a national set."),
    )
    definition = models.JSONField(_("definition"))
    digest = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("criteria set")
        verbose_name_plural = _("criteria sets")
        ordering = ["title", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="criteriaset_valid_range",
            ),
        ]
        indexes = [models.Index(fields=["title", "province", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class RegistrationWindow(models.Model):
    """When staff may register for a year in a province; outside it only an admin may."""

    province = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="registration_windows"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))

    class Meta:
        verbose_name = _("registration window")
        verbose_name_plural = _("registration windows")
        constraints = [
            models.UniqueConstraint(fields=["province", "year"], name="window_one_per_year"),
            models.CheckConstraint(
                condition=Q(closes_on__gte=F("opens_on")), name="window_valid_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province} {self.year}: {self.opens_on} – {self.closes_on}"


class Decision(models.Model):
    """A recognition decision (quyết định công nhận) issued by a ward for a batch."""

    ward = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="decisions")
    province = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.CharField(_("decision number"), max_length=64)
    date = models.DateField(_("decision date"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.UniqueConstraint(fields=["ward", "number"], name="decision_number_unique"),
            models.CheckConstraint(condition=~Q(number=""), name="decision_number_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.date:%d/%m/%Y})"


class State(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    SUBMITTED = "submitted", _("Submitted")
    EVALUATED = "evaluated", _("Evaluated")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RECOGNIZED = "recognized", _("Recognised")


class CriterionOutcome(models.Model):
    """How one criterion scored: one entry of an explained result's "criteria" list.

    `body` is the entry as the registration page shows it (code, type, earned, possible, met,
    evidence, derived share, overridden, reason); `digest` is the SHA-256 of its canonical JSON
    text (`titles.services.evaluate.canonical_text`), so an outcome is stored once however many
    results include it. A criteria set has few distinct outcomes (a yes/no criterion has a
    handful, a scale one per score given), so this table stays small. Rows are never changed or
    deleted.
    """

    digest = models.CharField(max_length=64)
    body = models.JSONField()

    class Meta:
        verbose_name = _("criterion outcome")
        verbose_name_plural = _("criterion outcomes")
        constraints = [models.UniqueConstraint(fields=["digest"], name="outcome_digest_unique")]

    def __str__(self) -> str:
        return f"{self.body.get('code', '?')} {self.digest[:12]}"


class EvaluationResult(models.Model):
    """One distinct evaluation result: what a registration's evaluation found, explained.

    A result is determined by the criteria set it was computed under (the row and the version
    of its definition, `criteria_digest`) and by each criterion's outcome, in the set's order:
    households with the same evidence get the same result, so it is stored once and
    registrations point at it (`Registration.evaluation`). `digest` is the SHA-256 of exactly
    that (`titles.services.evaluate.result_digest`). `body` holds the totals and the outcome
    ids: `{"criteria": [outcome ids], "points", "max_points", "passed", "outstanding",
    "missing", "failed_required"}`; `explained` gives it back with the outcomes in place.
    Rows are never changed or deleted: a registration evaluated again points at another row.
    """

    digest = models.CharField(max_length=64)
    criteria_set = models.ForeignKey(
        CriteriaSet, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    criteria_digest = models.CharField(max_length=64)
    body = models.JSONField()

    class Meta:
        verbose_name = _("evaluation result")
        verbose_name_plural = _("evaluation results")
        constraints = [models.UniqueConstraint(fields=["digest"], name="result_digest_unique")]

    def __str__(self) -> str:
        return self.digest[:12]

    @cached_property
    def explained(self) -> dict:
        """The result with each criterion's outcome in place of its id: the dict the
        registration page and the override form read (one query, once per instance)."""
        ids = self.body["criteria"]
        bodies = dict(CriterionOutcome.objects.filter(pk__in=ids).values_list("pk", "body"))
        return {**self.body, "criteria": [bodies[pk] for pk in ids]}


class Registration(models.Model):
    """One entity's registration for its title in one year, with evidence and latest result.

    `evidence` maps criterion code to the value as entered (text); `evaluation` is the latest
    evaluation's result (stored once per distinct result, with the criteria set and the version
    of it the result was computed under), and `points`, `passed` and `eval_outstanding` repeat
    its totals for the queues and filters. `version` increases on every change, so two
    officials acting at once cannot both win: a write names the version it saw.

    Indexes are kept to what queries need, since every evaluation rewrites the row and each
    index costs an entry per write: the entity is covered by `registration_once_a_year`, the ward
    and the province by the two composite indexes; a decision's registrations are found through
    a partial index (most registrations have none). The API's cursor pages walk one more index
    per scope (`reg_*_keyset`), whose columns never change once a row exists but its state. The
    creator and the evaluation result are only ever looked up from the registration, so they
    have no index.

    `sort_key` repeats the entity's (`registry.text.sort_key`) so that the lists, in Vietnamese
    name order, walk one index of this table (`reg_*_list`) instead of sorting a join: it is
    copied when a registration is created (`titles.workflow.registrations_create`, the demo's
    bulk load) and when the entity is renamed (`registrations_sort_key_refresh`, a registry
    hook); a signed-off ward-year keeps the order it was signed off in.
    """

    entity = models.ForeignKey(
        Entity, on_delete=models.PROTECT, related_name="registrations", db_index=False
    )
    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(_("title"), max_length=10, choices=Kind.choices)
    ward = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="registrations", db_index=False
    )
    province = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.REGISTERED
    )
    outstanding = models.BooleanField(_("outstanding"), default=False)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    evidence_self_assessed = models.BooleanField(
        _("self-assessed, not yet confirmed by staff"), default=False
    )
    points = models.DecimalField(_("points"), max_digits=7, decimal_places=2, null=True)
    passed = models.BooleanField(_("passed"), null=True)
    eval_outstanding = models.BooleanField(_("meets the outstanding threshold"), null=True)
    evaluation = models.ForeignKey(
        EvaluationResult,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("evaluation"),
    )
    evaluated_at = models.DateTimeField(null=True, blank=True)
    decision = models.ForeignKey(
        Decision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
        verbose_name=_("decision"),
        db_index=False,
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    version = models.PositiveIntegerField(default=1)
    sort_key = models.CharField(max_length=SORT_KEY_LENGTH, editable=False, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(fields=["entity", "year"], name="registration_once_a_year"),
            models.CheckConstraint(
                condition=Q(outstanding=False) | Q(state="recognized"),
                name="registration_outstanding_only_when_recognized",
            ),
            models.CheckConstraint(
                condition=~Q(state="recognized") | Q(decision__isnull=False),
                name="registration_recognized_has_decision",
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(rejection_reason=""),
                name="registration_rejected_has_reason",
            ),
        ]
        indexes = [
            # A ward's counts by title, state and result (the review queue's, the decision
            # form's): read inside the index, grouped in its order.
            models.Index(
                fields=["ward", "year", "kind", "state", "passed"], name="reg_ward_counts"
            ),
            models.Index(
                fields=["province", "year", "kind", "state"], name="reg_province_year_kind"
            ),
            # A decision's rows in the printed order (titles.selectors.PRINTED_ORDER): its page
            # reads the next rows of this index whatever the decision's size.
            models.Index(
                fields=["decision", "kind", "sort_key", "id"],
                condition=Q(decision__isnull=False),
                name="reg_decision",
            ),
            # The API's cursor pages (titles.api): a scope's rows in key order (year, kind,
            # id), the state last so a `status` filter is checked inside the index.
            models.Index(
                fields=["province", "year", "kind", "id", "state"], name="reg_province_keyset"
            ),
            models.Index(fields=["ward", "year", "kind", "id", "state"], name="reg_ward_keyset"),
            # The pages' lists (titles.selectors.LIST_ORDER_COLUMNS): a year's rows by ward, name
            # and id, a province's or one ward's (the year first, so that the ward, the name and
            # the id are consecutive columns a cursor bounds); title, state (and a ward's
            # result, for its review queue and counts) last, so those filters are checked
            # inside the index.
            models.Index(
                fields=["province", "year", "ward", "sort_key", "id", "kind", "state"],
                name="reg_province_list",
            ),
            models.Index(
                fields=["year", "ward", "sort_key", "id", "kind", "state", "passed"],
                name="reg_ward_list",
            ),
            # Whether a ward kept a year in the system, a registration recorded during it
            # (titles.services.rollups.recorded_years_before): one probe into this index.
            models.Index(fields=["ward", "year", "created_at"], name="reg_ward_year_created"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} · {self.get_kind_display()} {self.year}"

    @property
    def result(self) -> dict:
        """The latest evaluation's explained result; an empty dict before the first one."""
        return self.evaluation.explained if self.evaluation_id is not None else {}


class RegistrationCount(models.Model):
    """How many of a ward-year's registrations are in each state: a summary of
    `Registration`, by title, state, result, whether evidence was entered and, once recognised,
    decision and outstanding mark.

    Kept by database triggers (migration titles 0022), whatever code writes a registration:
    every INSERT, UPDATE (and, on PostgreSQL, DELETE) of registrations appends one row per group
    whose count it moved, with the change (+n or -n). Appending never waits for another writer,
    so the counts add no lock to the workflow's. A ward-year's count of a group is the sum of
    its rows; `titles.services.counts` reads it and, once a ward-year has gathered many rows,
    folds them into one per group. `rollup --verify` compares the sums with the registrations.
    """

    ward = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,
    )
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices)
    passed = models.BooleanField(null=True)
    has_evidence = models.BooleanField()
    # A recognised registration's decision and mark, so that a decision's counts are summed too.
    decision = models.ForeignKey(
        "Decision",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        db_index=False,
    )
    outstanding = models.BooleanField()
    n = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["ward", "year"], name="regcount_ward_year")]

    def __str__(self) -> str:
        return f"{self.ward_id} {self.year} {self.kind} {self.state} {self.passed}: {self.n}"


class RegistrationEvent(models.Model):
    """One recorded change to a registration: who, when, from, to, why."""

    class Action(models.TextChoices):
        REGISTER = "register", _("Registered")
        STATE = "state", _("State changed")
        EVIDENCE = "evidence", _("Evidence entered")
        SELF_ASSESSMENT = "self", _("Self-assessment submitted")
        CONFIRM = "confirm", _("Self-assessment confirmed")
        EVALUATE = "evaluate", _("Evaluated")
        OVERRIDE = "override", _("Criterion overridden")
        IMPORT = "import", _("Imported")

    # Indexed by (registration, at) below; a second index on the key alone would only cost writes.
    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    from_state = models.CharField(max_length=10, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=State.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # No index: no query looks events up by user (0008).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("registration event")
        verbose_name_plural = _("registration events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["registration", "at"])]

    def __str__(self) -> str:
        return f"{self.registration_id} {self.action} {self.from_state}→{self.to_state}"


class Certificate(models.Model):
    """The number of a recognised registration's certificate ("Số: 15/GCN-KH", `titles.paper`).

    Numbers run 1, 2, 3 … per ward and year, in the order the ward's decisions recognised the
    registrations (`titles.services.certificates`). A row is written once and never changed, so
    a reprint carries the number of the first print; the database keeps a number unique in its
    ward and year. The ward and year repeat the registration's, for that constraint.
    """

    registration = models.OneToOneField(
        Registration, on_delete=models.PROTECT, primary_key=True, related_name="certificate"
    )
    ward = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveIntegerField(_("certificate number"))
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            models.UniqueConstraint(
                fields=["ward", "year", "number"], name="certificate_number_unique_per_ward_year"
            ),
            models.CheckConstraint(condition=Q(number__gt=0), name="certificate_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number}/{self.year} ({self.registration_id})"


class Override(models.Model):
    """An official's ruling on one criterion of one registration, with the reason.

    The newest override of a criterion is in force; older ones stay, marked superseded.
    """

    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="overrides"
    )
    criterion = models.CharField(_("criterion"), max_length=32)
    met = models.BooleanField(_("met"))
    reason = models.TextField(_("reason"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    superseded = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="override_has_reason"),
            models.UniqueConstraint(
                fields=["registration", "criterion"],
                condition=Q(superseded=False),
                name="override_one_in_force",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registration_id} {self.criterion}={'met' if self.met else 'not met'}"


class Rollup(models.Model):
    """Registered, recognised and outstanding counts per unit × year × title.

    Kept exact by the titles services in the same transaction as the write, never in a nightly
    job: registering and deciding move the affected area, ward and province rows by their
    deltas; imports and moves recompute their wards (the province moves by the wards'
    differences); `rollup --verify` recomputes them from the detail rows. `unit_id` is as in
    registry.EntityTally. A unit and year with no registration of a title has no row.
    """

    level = models.CharField(max_length=10, choices=RollupLevel.choices)
    unit_id = models.BigIntegerField()
    province = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    ward = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    registered = models.PositiveIntegerField(default=0)
    recognized = models.PositiveIntegerField(default=0)
    outstanding = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("roll-up")
        verbose_name_plural = _("roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "unit_id", "year", "kind"], name="rollup_unique"
            ),
            models.CheckConstraint(
                condition=Q(recognized__lte=F("registered")) & Q(outstanding__lte=F("recognized")),
                name="rollup_counts_nested",
            ),
        ]
        indexes = [
            models.Index(fields=["province", "year", "level", "kind"], name="rollup_province"),
            models.Index(fields=["ward", "year", "level"], name="rollup_ward"),
        ]

    def __str__(self) -> str:
        return f"{self.level}:{self.unit_id} {self.year} {self.kind}"


# A target of the share of a unit's adults (aged 15 or more) that the groups' activities helped
# (the community app's reach_rate), beside the five titles' recognition targets.
DIGITAL_REACH = "digital_reach"
TARGET_KINDS = [*Kind.choices, (DIGITAL_REACH, _("digital literacy reach (share of adults)"))]


class RollupSnapshot(models.Model):
    """A signed-off ward-year's figures as they were when it was signed off.

    Written in the sign-off's transaction: the ward's row and each of its residential areas'
    rows, every title, with the entities the year counted then (`EntityTally`'s rule) and the
    `Rollup` counts. While it exists the ward-year is frozen: the roll-up upkeep writes the
    ward-year's `Rollup` rows from it instead of recomputing them, and the pages read its
    entities, so nothing the registry does afterwards moves the figures; the province rows sum
    the ward rows, these included. Reopening deletes it and recomputes from the detail rows.
    """

    level = models.CharField(max_length=10, choices=RollupLevel.choices)
    unit_id = models.BigIntegerField()
    province = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    ward = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    entities = models.PositiveIntegerField(default=0)
    registered = models.PositiveIntegerField(default=0)
    recognized = models.PositiveIntegerField(default=0)
    outstanding = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("signed-off roll-up")
        verbose_name_plural = _("signed-off roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "unit_id", "year", "kind"], name="rollup_snapshot_unique"
            ),
            models.CheckConstraint(
                condition=Q(level__in=["ward", "community"]), name="rollup_snapshot_level"
            ),
        ]
        indexes = [
            models.Index(fields=["ward", "year"], name="rollup_snapshot_ward"),
            models.Index(fields=["province", "year"], name="rollup_snapshot_province"),
        ]

    def __str__(self) -> str:
        return f"{self.level}:{self.unit_id} {self.year} {self.kind} (signed off)"


class Target(models.Model):
    """A plan's target range for the share of entities recognised (percent), or for the share
    of adults that "Digital Literacy for All" reached (`DIGITAL_REACH`).

    A ward without its own target for (title, year) takes its province's.
    """

    unit = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="targets",
        verbose_name=_("province or commune/ward"),
    )
    kind = models.CharField(_("title"), max_length=20, choices=TARGET_KINDS)
    year = models.PositiveSmallIntegerField(_("year"))
    min_rate = models.DecimalField(_("minimum rate (%)"), max_digits=5, decimal_places=2)
    max_rate = models.DecimalField(_("maximum rate (%)"), max_digits=5, decimal_places=2)
    source = models.CharField(_("source"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(fields=["unit", "kind", "year"], name="target_unique"),
            models.CheckConstraint(
                condition=Q(min_rate__gte=0)
                & Q(min_rate__lte=F("max_rate"))
                & Q(max_rate__lte=100),
                name="target_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.kind} {self.year}: {self.min_rate}–{self.max_rate}%"


class WardSignOff(models.Model):
    """An official's sign-off of a ward's year: its figures freeze until a province admin
    reopens it. Each sign-off and reopening is a row; the newest says whether the year is
    frozen, and together they are the history."""

    class Action(models.TextChoices):
        SIGN_OFF = "sign_off", _("Signed off")
        REOPEN = "reopen", _("Reopened")

    ward = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.TextField(_("reason"), blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ward sign-off")
        verbose_name_plural = _("ward sign-offs")
        ordering = ["ward", "year", "at", "pk"]
        indexes = [models.Index(fields=["province", "year"]), models.Index(fields=["ward", "year"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(action="sign_off") | ~Q(reason=""), name="signoff_reopen_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ward} {self.year}: {self.get_action_display()}"


class SelfAssessmentLink(models.Model):
    """A self-assessment link staff handed to a household or citizen.

    The link carries a random token; only its SHA-256 is stored, and nothing in the token
    names the registration. A registration has at most one live link (`ended_at` empty):
    issuing a new one ends the old one. A link ends when staff revoke or reissue it, when staff
    confirm the evidence (until they issue a new one), and works for `SELF_ASSESSMENT_MAX_AGE`
    after it was issued; a decided registration or a signed-off year stops it as well.
    """

    class End(models.TextChoices):
        REVOKED = "revoked", _("Revoked")
        REISSUED = "reissued", _("Replaced by a new link")
        CONFIRMED = "confirmed", _("Evidence confirmed by staff")

    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="self_links", db_index=False
    )
    digest = models.CharField(max_length=64)
    # The keyed digest of the short code printed on the slip for typing by hand (empty for
    # links issued before there were codes); see `titles.services.registrations`.
    code_digest = models.CharField(max_length=64, blank=True, default="")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    issued_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end = models.CharField(max_length=10, choices=End.choices, blank=True)

    class Meta:
        verbose_name = _("self-assessment link")
        verbose_name_plural = _("self-assessment links")
        constraints = [
            models.UniqueConstraint(fields=["digest"], name="self_link_digest_unique"),
            models.UniqueConstraint(
                fields=["code_digest"],
                condition=~Q(code_digest=""),
                name="self_link_code_unique",
            ),
            models.UniqueConstraint(
                fields=["registration"],
                condition=Q(ended_at__isnull=True),
                name="self_link_one_live",
            ),
        ]
        indexes = [models.Index(fields=["registration", "issued_at"], name="self_link_reg")]

    def __str__(self) -> str:
        return f"{self.registration_id} {self.issued_at:%Y-%m-%d}"
