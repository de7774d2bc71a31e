"""Recording what an import's progress bar is told, step by step (tests of the pipeline's
meter for every kind)."""

from __future__ import annotations

from collections.abc import Callable

from registry.imports.pipeline import rows_progress


def recorded_bar() -> tuple[Callable[[str, int, int], None], list[tuple[str, int]]]:
    """A `progress(step, done, total)` for an import, and the list it fills with (step, rows
    done) each time the one bar (`rows_progress`) moves."""
    seen: list[tuple[str, int]] = []
    step = ""

    def by_step(name: str, done: int, total: int) -> None:
        nonlocal step
        step = name
        bar(name, done, total)

    bar = rows_progress(lambda done, total: seen.append((step, done)))
    return by_step, seen
