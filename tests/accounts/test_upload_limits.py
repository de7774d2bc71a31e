"""Upload limits: a spreadsheet over the size limit, or a workbook whose zip directory crosses
a limit, is refused on the form; one over the row limit by the job that checks it (counting
reads every row); each with a clear message, and nothing changes. The import commands read any
number of rows."""

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook

from jobs.models import Job, JobInput
from registry.models import Community, Entity
from registry.spreadsheets import count_data_rows
from titles.models import Registration

REGISTRY = "/registry/import/"
REGISTRATIONS = "/titles/registrations/import/"


def _areas_csv(rows: int) -> bytes:
    lines = ["ward,code,name"] + [f"00070,T{i},Tổ {i}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _xlsx(rows: int) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["ward", "code", "name"])
    for i in range(rows):
        sheet.append(["00070", f"T{i}", f"Tổ {i}"])
    book.create_sheet("Ghi chú").append(["not counted"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_defaults():
    assert settings.IMPORT_MAX_ROWS == 200_000
    assert settings.IMPORT_MAX_BYTES == 20 * 1024 * 1024
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= settings.IMPORT_MAX_BYTES


@pytest.mark.parametrize(
    "name, data",
    [("areas.csv", _areas_csv(4)), ("areas.xlsx", _xlsx(4))],
)
def test_registry_upload_over_the_row_limit_is_refused(client, alice, ward_a, settings, name, data):
    """The rows are counted by the job, not the request (counting a large workbook reads all
    of it): the job fails with the reason, its file is dropped and nothing is written."""
    settings.IMPORT_MAX_ROWS = 3
    client.force_login(alice)
    response = client.post(
        REGISTRY,
        {"step": "check", "kind": "communities", "file": SimpleUploadedFile(name, data)},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The file has more than 3 rows; split it into several files." in html
    assert response.context.get("report") is None
    job = Job.objects.get()
    assert job.state == Job.State.FAILED
    assert job.errors == ["The file has more than 3 rows; split it into several files."]
    assert not JobInput.objects.exists()
    assert not Community.objects.exists()


def test_a_workbook_over_a_zip_limit_is_refused_in_the_request(client, alice, ward_a, settings):
    """What the zip's directory tells is checked before a job starts: no job, no stored file."""
    settings.IMPORT_MAX_PART_BYTES = 100
    client.force_login(alice)
    response = client.post(
        REGISTRY,
        {"step": "check", "kind": "communities", "file": SimpleUploadedFile("a.xlsx", _xlsx(4))},
    )
    assert response.status_code == 200
    assert "The workbook expands to more than" in response.content.decode()
    assert not Job.objects.exists() and not Community.objects.exists()


@pytest.mark.parametrize("name, data", [("areas.csv", _areas_csv(3)), ("areas.xlsx", _xlsx(3))])
def test_registry_upload_at_the_limit_is_checked(client, alice, ward_a, settings, name, data):
    settings.IMPORT_MAX_ROWS = 3
    client.force_login(alice)
    response = client.post(
        REGISTRY,
        {"step": "check", "kind": "communities", "file": SimpleUploadedFile(name, data)},
        follow=True,
    )
    report = response.context["report"]
    assert report.ok and report.rows == 3


def test_limit_is_written_with_the_language_s_grouping(client, alice, ward_a, settings):
    settings.IMPORT_MAX_ROWS = 2000
    client.force_login(alice)
    response = client.post(
        REGISTRY,
        {
            "step": "check",
            "kind": "communities",
            "file": SimpleUploadedFile("a.csv", _areas_csv(2001)),
        },
        follow=True,
    )
    assert "more than 2,000 rows" in response.content.decode()


def test_registrations_upload_over_the_row_limit_is_refused(client, alice, ward_a, settings):
    settings.IMPORT_MAX_ROWS = 1
    client.force_login(alice)
    data = b"kind,ward,code\nfamily,00070,H1\nfamily,00070,H2\n"
    response = client.post(
        REGISTRATIONS,
        {"step": "check", "year": 2025, "file": SimpleUploadedFile("dang-ky.csv", data)},
        follow=True,
    )
    assert response.status_code == 200
    assert "The file has more than 1 row" in response.content.decode()
    assert Job.objects.get().state == Job.State.FAILED
    assert not JobInput.objects.exists()
    assert not Registration.objects.exists()


def test_upload_over_the_size_limit_is_refused(client, alice, ward_a, settings):
    data = _areas_csv(50)
    settings.IMPORT_MAX_BYTES = len(data) - 1
    client.force_login(alice)
    response = client.post(
        REGISTRY,
        {"step": "check", "kind": "communities", "file": SimpleUploadedFile("a.csv", data)},
    )
    assert "The file is too large" in response.content.decode()
    assert not Entity.objects.exists() and not Job.objects.exists()


def test_the_command_reads_any_number_of_rows(ward_a, settings, tmp_path):
    settings.IMPORT_MAX_ROWS = 3
    path = tmp_path / "areas.csv"
    path.write_bytes(_areas_csv(10))
    call_command("import_registry", str(path), "--kind", "communities", stdout=io.StringIO())
    assert Community.objects.count() == 10


# --- counting rows ------------------------------------------------------------------------------


def test_csv_rows_skip_blank_lines_and_keep_quoted_line_breaks():
    data = 'ward;code;name\n\n00070;A;"Tổ\nmột"\n  \n00070;B;Tổ hai\n'.encode("utf-8-sig")
    assert count_data_rows(data=data, filename="x.CSV", stop_after=100) == 2


def test_counting_stops_past_the_limit():
    assert count_data_rows(data=_areas_csv(1000), filename="x.csv", stop_after=10) == 11
    assert count_data_rows(data=_xlsx(1000), filename="x.xlsx", stop_after=10) > 10


def test_xlsx_counts_the_first_sheet_only():
    assert count_data_rows(data=_xlsx(7), filename="x.xlsx", stop_after=100) == 7


def test_xlsx_row_tags_with_a_namespace_prefix_and_not_row_breaks():
    import zipfile

    source = io.BytesIO(_xlsx(2))
    out = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            body = old.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = (
                    body.replace(b"<row ", b"<x:row ")
                    .replace(b"</row>", b"</x:row>")
                    .replace(b"<worksheet ", b'<worksheet xmlns:x="urn:x" ')
                    .replace(b"</worksheet>", b'<rowBreaks count="1"/></worksheet>')
                )
            new.writestr(item, body)
    assert count_data_rows(data=out.getvalue(), filename="x.xlsx", stop_after=100) == 2


@pytest.mark.parametrize(
    "name, data",
    [
        ("x.csv", "ward\n\u00e9".encode("latin-1")),
        ("x.xlsx", b"not a zip"),
        ("x.xlsx", b"PK\x05\x06" + b"\0" * 18),
        ("x.ods", b"whatever"),
    ],
)
def test_unreadable_files_count_nothing_and_are_left_to_the_import(name, data):
    assert count_data_rows(data=data, filename=name, stop_after=10) == 0
