"""Reading the audit log, scoped: global administrators see every entry, a province's
administrators the entries of their province, nobody else any."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEntry
from registry.access import grant_of
from registry.models import Role


def can_read_audit(user) -> bool:
    grant = grant_of(user)
    return grant is not None and grant.role == Role.ADMIN


def audit_scope_q(user) -> Q:
    grant = grant_of(user)
    if grant is None or grant.role != Role.ADMIN:
        return Q(pk__in=[])
    if grant.unit is None:
        return Q()
    return Q(province_id=grant.unit.province_id_for_scope)


def audit_entries(
    *,
    user,
    username: str = "",
    action: str = "",
    content_type_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """The entries the user may read, newest first, narrowed by the filters given.

    Dates are calendar days in the site's time zone, both ends included.
    """
    rows = AuditEntry.objects.filter(audit_scope_q(user)).select_related("content_type")
    if username:
        rows = rows.filter(username__iexact=username)
    if action:
        rows = rows.filter(action=action)
    if content_type_id:
        rows = rows.filter(content_type_id=content_type_id)
    zone = timezone.get_current_timezone()
    if date_from:
        rows = rows.filter(at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=zone))
    if date_to:
        next_day = date_to + dt.timedelta(days=1)
        rows = rows.filter(at__lt=dt.datetime.combine(next_day, dt.time.min, tzinfo=zone))
    return rows.order_by("-at", "-pk")
