"""The audit log: who did what, when, to which object, which fields from what to what.

Rows are only ever added, in the same transaction as the change they describe (a change rolled
back leaves no row). A row names its actor by user and by username at the time (the user may be
renamed or deleted later), or by the management command that acted without a user.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.models import AdministrativeUnit


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logged out")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        BULK = "bulk", _("Bulk change")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    command = models.CharField(_("command"), max_length=100, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("type"),
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    # {field: [before, after]}.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # What else there is to say: a bulk change's operation, counts, file name, wards and year;
    # a review step's reason; a login's channel.
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # The province the object belongs to (or the acting user's, for logins): what a province
    # administrator's view of the log is narrowed by. None: only global administrators see it.
    province = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
    )

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["province", "-at"], name="audit_province_at"),
            models.Index(fields=["user", "-at"], name="audit_user_at"),
            models.Index(fields=["content_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_repr}"

    @property
    def actor(self) -> str:
        if self.username:
            return self.username
        if self.command:
            return f"manage.py {self.command}"
        return ""
