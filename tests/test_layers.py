"""The layers point one way: read from the source itself, every import of every module.

- `registry` is the ground: it imports nothing from `titles` (nor from the development tools);
  neither `registry` nor `titles` imports anything from `programmes`.
- No import cycle among the project's modules: a module that needs another's upkeep is called
  through a hook registered at start-up, never imported back (lazy imports inside functions
  count too: they are walked like the others).
- Production code never imports the development-only app `devtools` (demo generation and its
  bulk-load toolkit), neither in the source nor when every module is actually imported.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "learnsociety",
    "registry",
    "titles",
    "community",
    "programmes",
    "accounts",
    "audit",
    "devtools",
)
# Known and being broken apart by the registration-workflow change (issue 14); nothing else.
ALLOWED_CYCLES = [{"titles.services.review", "titles.services.signoff"}]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {_module_name(path): path for app in APPS for path in sorted((ROOT / app).rglob("*.py"))}


def _imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The project modules an import statement names (a name imported from a package counts
    as its submodule when there is one)."""
    names: set[str] = set()
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        names = {source} | {f"{source}.{alias.name}" for alias in node.names}
    return {name for name in names if name in known}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[module] = {
            target
            for node in ast.walk(tree)
            for target in _imported(node, module, is_package, known)
            if target != module
        }
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_walk_sees_the_imports_it_must_judge():
    """The walk finds `import`, `from ... import` and lazy (in-function) imports alike."""
    graph = import_graph()
    assert "registry.models" in graph["titles.models"]
    assert "titles.services.rollups" in graph["titles.apps"]  # imported inside ready()
    assert "registry.services.tallies" in graph["registry.hooks"]


def test_registry_imports_nothing_from_the_apps_above_it():
    upward = {
        (module, target)
        for module, targets in import_graph().items()
        if _is_in(module, "registry")
        for target in targets
        if _is_in(target, "titles") or _is_in(target, "devtools")
    }
    assert upward == set()


@pytest.mark.parametrize("app", ["community", "programmes"])
def test_registry_and_titles_import_nothing_from_the_areas_of_work(app):
    """Groups and digital literacy, and the programmes, plug into the shared pages and the
    import command through `registry/sections.py` and `registry/imports/kinds.py`, registered
    at start-up."""
    upward = {
        (module, target)
        for module, targets in import_graph().items()
        if _is_in(module, "registry") or _is_in(module, "titles")
        for target in targets
        if _is_in(target, app)
    }
    assert upward == set()


def test_no_import_cycles():
    cycles = [cycle for cycle in _cycles(import_graph()) if cycle not in ALLOWED_CYCLES]
    assert cycles == []


def test_a_cycle_would_be_found():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_production_code_never_imports_devtools():
    importers = {
        (module, target)
        for module, targets in import_graph().items()
        if not _is_in(module, "devtools")
        for target in targets
        if _is_in(target, "devtools")
    }
    assert importers == set()


_IMPORT_ALL = """
import importlib, json, sys
import django
django.setup()
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("devtools"))))
"""


def test_importing_every_production_module_loads_no_devtools_code():
    """Django loads the app's configuration (it is installed, for `generate_demo`), and
    nothing else of it: importing every other module of the project pulls in no demo code."""
    production = sorted(
        module
        for module in project_modules()
        if not _is_in(module, "devtools") and ".migrations." not in f".{module}."
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", _IMPORT_ALL, json.dumps(production)],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "learnsociety.settings",
            "DEBUG": "1",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(loaded) <= {"devtools", "devtools.apps"}
