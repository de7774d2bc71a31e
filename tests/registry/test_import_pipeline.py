"""What the import pipeline gives every kind alike: progress, and errors in file order."""

from __future__ import annotations

import io

import pytest
from django.utils import translation

from registry.models import Family
from registry.services.imports import registry_import
from tests.factories import make_community
from tests.registry.test_import import csv_bytes


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
    assert [step for step, _done, _total in steps] == ["read", "parse", "parse", "check", "write"]
    assert steps[0] == ("read", 1500, 1500)
    assert steps[-1] == ("write", 1500, 1500)
    assert all(done <= total for _step, done, total in steps)


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
