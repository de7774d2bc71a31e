import functools

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from audit import signals

        signals.connect()
        _name_commands_as_actors()


def _name_commands_as_actors() -> None:
    """Every management command acts as itself (`manage.py <name>`) when no user acts.

    Django has no hook around a command's run, so BaseCommand.execute is wrapped once here;
    `call_command` and `manage.py` both go through it.
    """
    from django.core.management.base import BaseCommand

    from audit.context import Actor, acting

    execute = BaseCommand.execute
    if getattr(execute, "_audit_wrapped", False):
        return

    @functools.wraps(execute)
    def audited_execute(self, *args, **options):
        with acting(Actor(command=type(self).__module__.rsplit(".", 1)[-1])):
            return execute(self, *args, **options)

    audited_execute._audit_wrapped = True
    BaseCommand.execute = audited_execute
