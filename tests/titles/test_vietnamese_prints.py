"""Vietnamese on paper and in files: the prints (decision, public list, certificate) and the
Excel report carry no untranslated English (the check of `tests.e2e.language`, which the
browser journeys run on pages), and names are listed in Vietnamese alphabetical order — given
name first, tones after letters — on pages, prints and the API alike, on either database.
"""

import datetime
import io
import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from registry.models import Kind
from tests.e2e.language import find_english
from tests.factories import make_citizen, make_community, make_family
from tests.titles.factories import registration
from titles.models import Decision, State, Target
from titles.services.rollups import rollups_rebuild

pytestmark = pytest.mark.vietnamese
YEAR = timezone.localdate().year

# A fixed list, shuffled, and the order a Vietnamese list prints it in: by given name (the last
# word) in the Vietnamese alphabet (a ă â b c d đ e ê …), tones after letters (level, grave,
# hook, tilde, acute, dot), then family name, then middle names.
SHUFFLED = [
    "Trịnh Văn Ưng",
    "Đỗ Thị Dung",
    "Lê Văn Anh",
    "Phạm Thị Ấn",
    "Bùi Văn Bá",
    "Nguyễn Văn An",
    "Hoàng Văn Đức",
    "Mai Thị On",
    "Vũ Thị Ân",
    "Trần Thị Ánh",
    "Bùi Văn Ba",
    "Ngô Thị Ơn",
    "Nguyễn Thị Ă",
    "Lý Văn Ôn",
    "Đặng Văn Bình",
    "Bùi Văn Bà",
    "Nguyễn Văn Ung",
    "Trần An",
    "Nguyễn An",
    "Bùi Văn Bạ",
]
VIETNAMESE_ORDER = [
    "Nguyễn An",
    "Nguyễn Văn An",
    "Trần An",
    "Lê Văn Anh",
    "Trần Thị Ánh",
    "Nguyễn Thị Ă",
    "Vũ Thị Ân",
    "Phạm Thị Ấn",
    "Bùi Văn Ba",
    "Bùi Văn Bà",
    "Bùi Văn Bá",
    "Bùi Văn Bạ",
    "Đặng Văn Bình",
    "Đỗ Thị Dung",
    "Hoàng Văn Đức",
    "Mai Thị On",
    "Lý Văn Ôn",
    "Ngô Thị Ơn",
    "Nguyễn Văn Ung",
    "Trịnh Văn Ưng",
]


class _Text(HTMLParser):
    """The text of a page as a reader sees it, one string per text node or label attribute, as
    the browser journeys read it: machine-readable code and text marked as another language
    (the header's "English" button) left out."""

    SKIP = {"script", "style", "code", "kbd", "samp", "noscript"}

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skipped: list[str] = []  # the open elements whose text is not read

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        other_language = not (attrs.get("lang") or "vi").startswith("vi")
        if tag in self.SKIP or other_language or attrs.get("translate") == "no":
            self._skipped.append(tag)
        if self._skipped:
            return
        for name in ("title", "aria-label", "alt", "placeholder"):
            if attrs.get(name):
                self.texts.append(attrs[name])

    def handle_endtag(self, tag):
        if self._skipped and self._skipped[-1] == tag:
            self._skipped.pop()

    def handle_data(self, data):
        if not self._skipped and data.strip():
            self.texts.append(data)


def _texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.texts


@pytest.fixture
def decided(province, ward_a, bob):
    """Ward A: households and citizens recognised this year by one decision."""
    Target.objects.create(unit=province, kind=Kind.FAMILY, year=YEAR, min_rate=70, max_rate=80)
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")
    decision = Decision.objects.create(
        ward=ward_a, province=province, year=YEAR, number="15/QĐ-UBND",
        date=datetime.date(YEAR, 11, 20),
    )  # fmt: skip
    families = []
    for i, name in enumerate(SHUFFLED):
        family = make_family(ward_a, code=f"HGD{i:03d}", head_name=name, community=area)
        families.append(family)
        registration(family.entity, year=YEAR, state=State.RECOGNIZED, decision=decision)
    citizen = make_citizen(ward_a, code="CD001", full_name="Tôn Nữ Khánh Linh", family=families[0])
    registration(citizen.entity, year=YEAR, state=State.RECOGNIZED, decision=decision)
    rollups_rebuild(province_id=province.pk)
    return decision


DATA = (*SHUFFLED, "Tôn Nữ Khánh Linh", "Tổ dân phố Một", "Thành phố Hà Nội", "Phường Hoàn Kiếm")


def _no_english(texts: list[str], where: str) -> None:
    findings = find_english(texts, data=DATA)
    assert not findings, f"{where}: " + "; ".join(map(str, findings))


def test_prints_have_no_untranslated_english(client, bob, ward_a, decided):
    client.force_login(bob)
    first = decided.registrations.order_by("pk").first()
    prints = {
        "decision": f"/titles/decisions/{decided.pk}/",
        "public list": f"/titles/public-list/?ward={ward_a.code}&year={YEAR}",
        "certificate": f"/titles/registrations/{first.pk}/certificate/",
        "certificates": f"/titles/decisions/{decided.pk}/certificates/",
    }
    for where, path in prints.items():
        response = client.get(path)
        assert response.status_code == 200, where
        html = response.content.decode()
        assert '<html lang="vi">' in html
        _no_english(_texts(html), where)


def test_workbook_has_no_untranslated_english(client, carol, decided):
    client.force_login(carol)
    response = client.get("/titles/reports/", {"unit": "01", "year": YEAR, "format": "xlsx"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    texts = [
        str(cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]
    texts += [sheet.title for sheet in workbook.worksheets]
    assert texts
    # The letterhead and the signature block are among the cells read.
    assert "HỘI KHUYẾN HỌC THÀNH PHỐ HÀ NỘI" in texts and "NGƯỜI LẬP BIỂU" in texts
    _no_english(texts, "workbook")
    # A ward's workbook too (its sheets list residential areas).
    ward = load_workbook(
        io.BytesIO(
            client.get(
                "/titles/reports/", {"unit": "00070", "year": YEAR, "format": "xlsx"}
            ).content
        )
    )
    _no_english(
        [
            str(cell.value)
            for sheet in ward.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if isinstance(cell.value, str)
        ],
        "ward workbook",
    )


def _order_on(html: str, names: list[str]) -> list[str]:
    positions = {name: html.find(f">{name}<") for name in names}
    assert all(p >= 0 for p in positions.values()), positions
    return sorted(names, key=positions.get)


def test_names_are_listed_in_vietnamese_order_on_pages_prints_and_the_api(
    client, bob, ward_a, decided
):
    client.force_login(bob)
    pages = {
        "families": "/registry/families/",
        "registrations": f"/titles/registrations/?year={YEAR}&kind=family",
        "decision": f"/titles/decisions/{decided.pk}/",
    }
    for where, path in pages.items():
        html = client.get(path).content.decode()
        html = re.sub(r"\s*<span class=\"code\">[^<]*</span>", "", html)
        assert _order_on(html, SHUFFLED) == VIETNAMESE_ORDER, where
    api = client.get("/api/v1/families/", {"ward": ward_a.code, "page_size": 100}).json()
    names = [row.get("head_name") or row.get("name") for row in api["results"]]
    assert names == VIETNAMESE_ORDER


def test_dates_and_numbers_are_written_the_vietnamese_way(client, bob, carol, ward_a, decided):
    """dd/mm/yyyy on pages, prints and the workbook; 1.234 and 39,3 % in figures."""
    client.force_login(bob)
    first = decided.registrations.order_by("pk").first()
    for path in (
        f"/titles/decisions/{decided.pk}/",
        f"/titles/registrations/{first.pk}/certificate/",
        f"/titles/registrations/{first.pk}/",
    ):
        html = client.get(path).content.decode()
        assert f"20/11/{YEAR}" in html, path
        assert f"20-11-{YEAR}" not in html, path
    client.force_login(carol)
    dashboard = client.get(f"/titles/dashboard/?year={YEAR}&kind=family").content.decode()
    # 20 of 20 households recognised in ward A: 100,0 % (a comma for the decimals).
    assert re.search(r"100,0\s?%", dashboard)
    workbook = load_workbook(
        io.BytesIO(
            client.get("/titles/reports/", {"unit": "01", "year": YEAR, "format": "xlsx"}).content
        )
    )
    texts = [c.value for s in workbook.worksheets for r in s.iter_rows() for c in r]
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert any(isinstance(t, str) and today in t for t in texts)


def test_the_slip_sheet_and_its_confirmation_have_no_untranslated_english(client, alice, ward_a):
    area = make_community(ward_a, code="TDP2", name="Tổ dân phố Hai")
    for i, name in enumerate(SHUFFLED[:3]):
        family = make_family(ward_a, code=f"HGS{i:03d}", head_name=name, community=area)
        registration(family.entity, year=YEAR, state=State.REGISTERED)
    client.force_login(alice)
    path = f"/titles/registrations/areas/{area.entity_id}/slips/"
    pages = {
        "slip sheet confirmation": client.get(path, {"year": YEAR}),
        "slip sheet": client.post(path, {"year": YEAR}),
        "code page": client.get("/titles/s/"),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
        html = response.content.decode()
        assert '<html lang="vi">' in html, where
        _no_english(_texts(html), where)
    assert pages["slip sheet"].content.decode().count("<svg") >= 3  # one QR code a slip


def _template_texts(data: bytes) -> list[str]:
    """The cells a ward office reads in a template workbook, but the guide's column of contract
    names (the English names a file may use instead of the Vietnamese headers)."""
    book = load_workbook(io.BytesIO(data))
    texts = [sheet.title for sheet in book.worksheets]
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if sheet is book.worksheets[1] and cell.column == 2 and cell.row > 1:
                    continue
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    return texts


def test_the_template_workbooks_have_no_untranslated_english(client, alice, ward_a):
    from registry.imports.kinds import kind_names

    client.force_login(alice)
    for name in kind_names():
        response = client.get(f"/registry/import/template/{name}/")
        assert response.status_code == 200, name
        _no_english(_template_texts(response.content), f"template {name}")
    response = client.get("/titles/registrations/import/template/")
    _no_english(_template_texts(response.content), "template registrations")
