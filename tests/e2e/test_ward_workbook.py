"""Ward staff import the household list as their office keeps it, on a phone and a desktop.

The workbook starts with the committee's name and the list's title (merged across the columns),
a blank row, then Vietnamese headers; it has no ward column (the staff member has one ward) and
names each household's residential area by its name. One name is mistyped: the check names the
row as the spreadsheet shows it and suggests the area meant; the corrected file imports and the
households are on the families list. The page offers each kind's template workbook.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect

from registry.models import Family
from tests.e2e.conftest import go_to_menu_item, login
from tests.factories import make_community

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILENAME = "danh-sach-ho-2026.xlsx"
HOUSEHOLDS = [
    ("HGD51", "Nguyễn Văn An", 4, "Tổ dân phố 1"),
    ("HGD52", "Trần Thị Bình", 3, "tổ dân phố 2"),
    ("HGD53", "Lê Văn Cường", 5, "TO DAN PHO 1"),
]
TYPO = "Tổ dâm phố 2"  # the second household's area, mistyped


def _ward_workbook(households) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["UBND PHƯỜNG HOÀN KIẾM"])
    sheet.append(["DANH SÁCH HỘ GIA ĐÌNH ĐĂNG KÝ NĂM 2026"])
    sheet.merge_cells("A1:D1")
    sheet.merge_cells("A2:D2")
    sheet.append([])
    sheet.append(["Mã hộ", "Họ tên chủ hộ", "Số nhân khẩu", "Tổ dân phố"])
    for row in households:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _check(page, content: bytes) -> None:
    page.select_option("select[name=kind]", "families")
    page.set_input_files(
        "input[name=file]", files=[{"name": FILENAME, "mimeType": XLSX, "buffer": content}]
    )
    page.locator("form.stacked button[type=submit]").click()


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [390, 1366])
def test_staff_import_a_ward_s_real_workbook(page, vietnamese, live_server, ward_a, alice, width):
    page.set_viewport_size({"width": width, "height": 900})
    areas = {
        code: make_community(ward_a, code=code, name=name)
        for code, name in (("TDP01", "Tổ dân phố 1"), ("TDP02", "Tổ dân phố 2"))
    }
    vietnamese.data |= {ward_a.name, "alice", FILENAME, TYPO, "community", "00070"}
    vietnamese.data |= {"Tổ dân phố 1", "Tổ dân phố 2", *(name for _, name, _, _ in HOUSEHOLDS)}
    login(page, live_server, "alice")
    go_to_menu_item(page, reverse("registry_import"))
    vietnamese.check()

    # The template of each kind is one click away, with its guide sheet.
    templates = page.locator("p.templates")
    expect(templates).to_contain_text("Tải tệp mẫu")
    with page.expect_download() as download:
        templates.locator(
            f"a[href='{reverse('registry_import_template', kwargs={'kind': 'families'})}']"
        ).click()
    assert download.value.suggested_filename == "mau-ho-gia-dinh.xlsx"
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames == ["Dữ liệu", "Hướng dẫn"]
    assert [c.value for c in book.worksheets[0][2]][0] == ward_a.code

    # The mistyped area is refused on the row the spreadsheet shows, with the area meant.
    typo = [*HOUSEHOLDS[:1], (*HOUSEHOLDS[1][:3], TYPO), *HOUSEHOLDS[2:]]
    _check(page, _ward_workbook(typo))
    report = page.locator("section.report")
    expect(report).to_have_class("report failed")
    errors = report.locator("table.data tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.locator("td").nth(0)).to_have_text("6")  # titles 1–2, blank 3, header 4
    expect(errors.locator("td").nth(2)).to_contain_text(f"“{TYPO}”")
    expect(errors.locator("td").nth(2)).to_contain_text("có phải là “Tổ dân phố 2”")
    assert _fits(page)
    assert not Family.objects.exists()
    vietnamese.check()

    # The corrected file: checked, confirmed, and the households are on the families list.
    page.locator("#import-again").click()
    _check(page, _ward_workbook(HOUSEHOLDS))
    expect(report).to_have_class("report ok")
    expect(report.locator(".counts div").nth(1).locator("dd")).to_have_text("3")
    expect(report).to_contain_text("00070")  # rows without a ward are the staff member's
    vietnamese.check()
    page.locator("form.confirm button[type=submit]").click()
    expect(page.locator("#job-state")).to_have_text("Xong")
    assert _fits(page)
    page.locator(".job-links a.primary").click()
    page.wait_for_url(f"**{reverse('entity_list', args=['families'])}")
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(3)
    for _, name, _, _ in HOUSEHOLDS:
        expect(page.locator("table.data tbody")).to_contain_text(name)
    assert _fits(page)
    stored = {
        f.entity.code: (f.entity.ward_id, f.community_id)
        for f in Family.objects.select_related("entity")
    }
    assert stored == {
        "HGD51": (ward_a.pk, areas["TDP01"].pk),
        "HGD52": (ward_a.pk, areas["TDP02"].pk),
        "HGD53": (ward_a.pk, areas["TDP01"].pk),
    }
    vietnamese.check()
