"""What the import pipeline gives every kind alike: progress, and errors in file order."""

from __future__ import annotations

import io

import pytest
from django.utils import translation

from registry.imports.pipeline import CHUNK
from registry.models import Family
from registry.services.imports import registry_import
from tests.factories import make_community
from tests.progress import recorded_bar
from tests.registry.test_import import csv_bytes
from tests.registry.test_import_xlsx import xlsx_bytes


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_progress_is_reported_step_by_step(ward_a):
    make_community(ward_a, code="TDP01", name="Tổ dân phố 1")
    rows = [[ward_a.code, f"H{i:04d}", f"Chủ hộ {i}", 3, "TDP01"] for i in range(1500)]
    steps: list[tuple[str, int, int]] = []
    report = registry_import(
        file=io.BytesIO(csv_bytes([["ward", "code", "head_name", "members", "community"], *rows])),
        filename="families.csv",
        kind="families",
        dry_run=False,
        progress=lambda step, done, total: steps.append((step, done, total)),
    )
    assert report.ok, report.errors
    assert Family.objects.count() == 1500
    order = [
        step for n, (step, _done, _total) in enumerate(steps) if not n or steps[n - 1][0] != step
    ]
    assert order == ["read", "parse", "check", "write"]
    assert steps[0] == ("read", 1500, 1500)
    assert steps[-1] == ("write", 1500, 1500)
    assert all(done <= total for _step, done, total in steps)


def _families_csv(ward, rows: int) -> bytes:
    return csv_bytes(
        [
            ["ward", "code", "head_name", "members", "community"],
            *([ward.code, f"H{i:05d}", f"Chủ hộ {i}", 3, f"TDP{i:05d}"] for i in range(rows)),
        ]
    )


def test_the_bar_moves_within_the_checks_and_the_writes(ward_a):
    """A file of several chunks: the checks and the writes move the bar chunk by chunk, not
    only when they end; what the bar is told only ever grows."""
    rows = 4 * CHUNK
    areas = [
        ["ward", "code", "name"],
        *([ward_a.code, f"TDP{i:05d}", f"Tổ {i}"] for i in range(rows)),
    ]
    assert registry_import(
        file=io.BytesIO(csv_bytes(areas)), filename="a.csv", kind="communities", dry_run=False
    ).ok
    by_step, seen = recorded_bar()
    report = registry_import(
        file=io.BytesIO(_families_csv(ward_a, rows)),
        filename="families.csv",
        kind="families",
        dry_run=False,
        progress=by_step,
    )
    assert report.ok, report.errors
    values = [done for _step, done in seen]
    assert values == sorted(set(values))  # strictly increasing
    within = {name: [done for s, done in seen if s == name] for name in ("check", "write")}
    # Each row names its own area: the checks look them up in four chunks; the writes look the
    # households up in chunks and insert them by batches: each query a step further.
    assert len(within["check"]) >= 4
    assert len(within["write"]) >= 10
    assert rows / 2 < within["check"][0] < within["check"][-1] <= 3 * rows / 4
    assert 3 * rows / 4 < within["write"][0] < within["write"][-1] == rows


def test_a_refused_file_reports_no_write_step(ward_a):
    steps: list[str] = []
    report = registry_import(
        file=io.BytesIO(
            csv_bytes(
                [
                    ["ward", "code", "head_name", "members", "community"],
                    [ward_a.code, "H1", "Chủ hộ", "many", "TDP01"],
                ]
            )
        ),
        filename="families.csv",
        kind="families",
        dry_run=False,
        progress=lambda step, done, total: steps.append(step),
    )
    assert not report.ok
    assert "write" not in steps
    assert Family.objects.count() == 0


def test_errors_of_a_row_follow_the_file_s_column_order(ward_a):
    """Columns in another order than the contract's: a row's errors read left to right."""
    header = ["members", "community", "head_name", "code", "ward"]
    report = registry_import(
        file=io.BytesIO(csv_bytes([header, ["many", "NOPE", "", "H1", ward_a.code]])),
        filename="families.csv",
        kind="families",
        dry_run=True,
    )
    assert [e.column for e in report.errors if e.row == 2] == ["members", "community", "head_name"]


def test_reading_a_workbook_moves_the_bar_as_it_goes(ward_a):
    """A workbook is read in two passes over its sheet (the limits' scan, then the parser): each
    tells its rows as it goes, so the bar moves while a large file is read, not only after."""
    make_community(ward_a, code="TDP01", name="Tổ dân phố 1")
    rows = 12_000
    data = xlsx_bytes(
        [
            ["ward", "code", "head_name", "members", "community"],
            *([ward_a.code, f"H{i:05d}", f"Nguyễn Văn {i}", 3, "TDP01"] for i in range(rows)),
        ]
    )
    steps: list[tuple[str, int, int]] = []
    report = registry_import(
        file=io.BytesIO(data),
        filename="families.xlsx",
        kind="families",
        dry_run=True,
        progress=lambda step, done, total: steps.append((step, done, total)),
    )
    assert report.ok, report.errors
    reading = [(done, total) for step, done, total in steps if step == "read"]
    assert len(reading) >= 6  # both passes, several times each
    assert {total for _done, total in reading} == {rows}  # the rows below the header
    values = [done for done, _total in reading]
    assert values == sorted(values)
    assert 0 < values[0] < rows / 2 < values[-2] <= values[-1] == rows
