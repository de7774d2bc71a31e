"""Object changes and logins, captured from Django's signals.

Audited: every model of the registry and titles apps except the summaries the services
recompute (entity tallies, roll-ups) and registration events, which are read as changes to
their registration (the review and evidence services write registrations with `update()`, which
sends no signal, and record an event beside each); Django's users and groups; API tokens; and
the deletion of an axes access attempt (an administrator lifting a lockout).

Writes that bypass signals (`bulk_create`, `bulk_update`, `update()`, raw SQL) are summarised
by the service that makes them (`services.record_bulk`).
"""

from __future__ import annotations

import decimal
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save

from audit import services
from audit.models import AuditEntry

AUDITED_APPS = ("registry", "titles", "community", "programmes")
NOT_AUDITED = {
    ("registry", "entitytally"),
    ("community", "activitysummary"),
    ("community", "grouptally"),
    ("titles", "rollup"),
    ("titles", "registrationevent"),
    ("programmes", "programmetally"),
}
EXTRA_AUDITED = [("auth", "user"), ("auth", "group"), ("knox", "authtoken")]
# Values never written to the log, only that they changed.
MASKED_FIELDS = {
    ("auth", "user", "password"),
    ("knox", "authtoken", "digest"),
    ("knox", "authtoken", "token_key"),
}
# Noise: set on every login, or derived from fields that are logged.
SKIPPED_FIELDS = {("auth", "user", "last_login")}
_BEFORE = "_audit_before"
EVIDENCE_EVENTS = ("evidence", "self", "confirm")


def audited_models() -> list[type[models.Model]]:
    found = [
        model
        for app_label in AUDITED_APPS
        for model in apps.get_app_config(app_label).get_models()
        if (model._meta.app_label, model._meta.model_name) not in NOT_AUDITED
    ]
    found += [apps.get_model(app_label, name) for app_label, name in EXTRA_AUDITED]
    return found


def _fields(model: type[models.Model]) -> list[models.Field]:
    """The fields whose changes are logged: concrete, editable (so not timestamps or search
    text), not the primary key, not skipped."""
    label = model._meta.app_label, model._meta.model_name
    return [
        field
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and (*label, field.name) not in SKIPPED_FIELDS
    ]


def _value(field: models.Field, value: Any) -> Any:
    if isinstance(field, models.DecimalField) and value is not None:
        # 80, "80" and the stored 80.00 are one value.
        value = field.to_python(value).quantize(decimal.Decimal(1).scaleb(-field.decimal_places))
    return services.jsonable(value)


def _shown(model: type[models.Model], name: str, value: Any) -> Any:
    """What the log keeps of a value: a secret only as the fact that there is one."""
    if (model._meta.app_label, model._meta.model_name, name) in MASKED_FIELDS:
        return services.MASKED if value else ""
    return value


def _given(value: Any) -> bool:
    """Whether a created or deleted row's value says anything (empty text, JSON or None not)."""
    return value not in ("", None, {}, [])


def _snapshot(instance: models.Model, fields: list[models.Field]) -> dict[str, Any]:
    return {f.name: _value(f, getattr(instance, f.attname)) for f in fields}


def remember_before(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Read the stored row before an update, so that post_save can tell what changed."""
    if raw or instance._state.adding or instance.pk is None:
        return
    fields = _fields(sender)
    if update_fields is not None:
        fields = [f for f in fields if f.name in update_fields or f.attname in update_fields]
    if not fields:  # e.g. a login's save of last_login only: nothing logged changes
        setattr(instance, _BEFORE, {})
        return
    stored = (
        sender._base_manager.using(kwargs.get("using") or "default")
        .filter(pk=instance.pk)
        .values(*(f.attname for f in fields))
        .first()
    )
    if stored is not None:
        setattr(
            instance,
            _BEFORE,
            {f.name: _value(f, stored[f.attname]) for f in fields},
        )


def record_save(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    before = instance.__dict__.pop(_BEFORE, None)
    if created or before is None:
        after = _snapshot(instance, _fields(sender))
        services.record_change(
            instance,
            action=AuditEntry.Action.CREATE,
            changes={
                name: [None, _shown(sender, name, value)]
                for name, value in after.items()
                if _given(value)
            },
        )
        return
    after = _snapshot(instance, [f for f in _fields(sender) if f.name in before])
    changes = {
        name: [_shown(sender, name, before[name]), _shown(sender, name, value)]
        for name, value in after.items()
        if before[name] != value
    }
    if changes:
        services.record_change(instance, action=AuditEntry.Action.UPDATE, changes=changes)


def record_delete(sender, instance, **kwargs) -> None:
    before = _snapshot(instance, _fields(sender))
    services.record_change(
        instance,
        action=AuditEntry.Action.DELETE,
        changes={
            name: [_shown(sender, name, value), None]
            for name, value in before.items()
            if _given(value)
        },
    )


def record_registration_event(sender, instance, created, raw=False, **kwargs) -> None:
    """A registration event, logged as the change to its registration that it records.

    Registering and overriding are logged already (the registration's and the override's own
    save); imports and evaluations write their events in bulk and are summarised instead.
    """
    Action = instance.Action
    if raw or not created or instance.action not in (Action.STATE, *EVIDENCE_EVENTS):
        return
    changes: dict[str, list[Any]] = {}
    if instance.from_state != instance.to_state:
        changes["state"] = [instance.from_state, instance.to_state]
    detail = dict(instance.detail or {})
    if instance.action == Action.CONFIRM:
        changes["evidence_self_assessed"] = [True, False]
    if "before" in detail or "after" in detail:
        changes["evidence"] = [detail.pop("before", None), detail.pop("after", None)]
    detail = {"event": instance.action, **detail}
    if instance.reason:
        detail["reason"] = instance.reason
    services.record_change(
        instance.registration, action=AuditEntry.Action.UPDATE, changes=changes, detail=detail
    )


def record_login(sender, request, user, **kwargs) -> None:
    services.record_login(user=user, request=request)


def record_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.record_logout(user=user, request=request)


def record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    services.record_login_failed(username=str(username or ""), request=request)


def connect() -> None:
    for model in audited_models():
        uid = f"audit_{model._meta.label_lower}"
        pre_save.connect(remember_before, sender=model, dispatch_uid=f"{uid}_pre")
        post_save.connect(record_save, sender=model, dispatch_uid=f"{uid}_post")
        post_delete.connect(record_delete, sender=model, dispatch_uid=f"{uid}_delete")
    event = apps.get_model("titles", "registrationevent")
    post_save.connect(record_registration_event, sender=event, dispatch_uid="audit_event")
    attempt = apps.get_model("axes", "accessattempt")
    post_delete.connect(record_delete, sender=attempt, dispatch_uid="audit_axes_attempt")
    user_logged_in.connect(record_login, dispatch_uid="audit_login")
    user_logged_out.connect(record_logout, dispatch_uid="audit_logout")
    user_login_failed.connect(record_login_failed, dispatch_uid="audit_login_failed")
