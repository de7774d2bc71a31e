"""The kinds of file that `import_registry --kind` and the registry's upload page accept.

The registry's own kinds (families, clans, communities, units, citizens) register here when
`registry.services.imports` is loaded; an app built on the registry registers its own (the
community app: groups and members) in its `AppConfig.ready`. The registry never imports those
apps: the command and the upload page read this list, so a kind is offered wherever it is
registered and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from registry.imports.report import ImportReport

if TYPE_CHECKING:
    from registry.imports.pipeline import ImportKind

# run(*, file, filename, dry_run, user=None, progress=None) -> ImportReport; with a `user` (the
# web upload) it raises PermissionDenied for a user who may not import this kind.
Run = Callable[..., ImportReport]


@dataclass(frozen=True)
class RegisteredKind:
    """One kind of file: its name on the command line, what the upload page calls it, how it is
    imported, where the page goes after a real import, (for kinds outside the registry's
    five) the columns the upload page's help lists, and its column specs, from which the upload
    page's template workbook is written (`registry.imports.templates`)."""

    name: str
    label: Any  # lazily translated plural ("Groups")
    run: Run
    done_url: Callable[[], str]
    columns: str = ""
    spec: ImportKind | None = None


_kinds: dict[str, RegisteredKind] = {}


def register_kind(kind: RegisteredKind) -> None:
    """Add a kind (once per name; registering it again replaces it in place)."""
    _kinds[kind.name] = kind


def registered_kinds() -> list[RegisteredKind]:
    """Every kind, in the order they were registered (the registry's own first)."""
    return list(_kinds.values())


def registered_kind(name: str) -> RegisteredKind | None:
    return _kinds.get(name)


def kind_names() -> list[str]:
    return list(_kinds)
