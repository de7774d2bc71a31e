"""Certificates as offices file them: numbers per ward and year, given once and kept on every
reprint; every certificate of a decision on one print page; the letterhead and the signature
block on every print; households, citizens and clans named as the paper names them."""

from __future__ import annotations

import datetime
import importlib
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jobs import services as jobs
from jobs.models import Job, JobOutput
from registry.models import Kind, Role
from tests.factories import (
    make_citizen,
    make_clan,
    make_community,
    make_family,
    make_unit,
    make_user,
)
from tests.titles.factories import registration
from titles import paper
from titles.models import Certificate, Decision, State
from titles.services import review
from titles.services.certificates import certificates_number, certificates_number_missing

YEAR = 2026


@pytest.fixture
def area(ward_a):
    return make_community(ward_a, code="TDP1", name="Tổ dân phố Một")


def _approved(entity, year: int = YEAR):
    return registration(entity, year=year, state=State.APPROVED, passed=True, points=90)


def _families(ward, area, names: list[str], prefix: str = "HGD", year: int = YEAR) -> list:
    return [
        _approved(
            make_family(ward, code=f"{prefix}{i}", head_name=name, community=area).entity, year
        )
        for i, name in enumerate(names)
    ]


def _issue(user, ward, registrations, number: str, year: int = YEAR, day: int = 1) -> Decision:
    return review.decision_issue(
        user=user,
        ward=ward,
        year=year,
        number=number,
        date=datetime.date(year, 12, day),
        registrations=registrations,
    )


def _numbers(decision: Decision) -> list[tuple[str, int]]:
    """(name, certificate number) of the decision's registrations, by number."""
    return list(
        Certificate.objects.filter(registration__decision=decision)
        .order_by("number")
        .values_list("registration__entity__name", "number")
    )


# --- numbering ---------------------------------------------------------------------------------


def test_issuing_a_decision_numbers_its_certificates_in_the_decisions_order(bob, ward_a, area):
    regs = _families(ward_a, area, ["Trần Văn Bình", "Lê Thị An", "Nguyễn Văn Cường"])
    citizen = make_citizen(ward_a, code="CD1", full_name="Phạm Thị Dung")
    regs.append(_approved(citizen.entity))
    decision = _issue(bob, ward_a, regs, "01/QĐ-UBND")
    # By title (citizen before family, as the decision lists them), then the Vietnamese order
    # of given names: An, Bình, Cường.
    assert _numbers(decision) == [
        ("Phạm Thị Dung", 1),
        ("Lê Thị An", 2),
        ("Trần Văn Bình", 3),
        ("Nguyễn Văn Cường", 4),
    ]
    assert set(Certificate.objects.values_list("ward_id", "year")) == {(ward_a.pk, YEAR)}


def test_numbers_run_on_per_ward_and_year(bob, ward_a, ward_b, area):
    first = _issue(bob, ward_a, _families(ward_a, area, ["Lê Thị An", "Trần Văn Bình"]), "01")
    second = _issue(bob, ward_a, _families(ward_a, area, ["Đỗ Văn Em"], "HGE"), "02", day=5)
    area_b = make_community(ward_b, code="TDP1")
    other_ward = _issue(
        make_user("olga", Role.OFFICIAL, ward_b), ward_b, _families(ward_b, area_b, ["Vũ An"]), "01"
    )
    next_year = _issue(
        bob,
        ward_a,
        _families(ward_a, area, ["Hà Văn Giang"], "HGN", year=YEAR + 1),
        "01/2027",
        year=YEAR + 1,
    )
    assert [n for _name, n in _numbers(first)] == [1, 2]
    assert [n for _name, n in _numbers(second)] == [3]
    assert [n for _name, n in _numbers(other_ward)] == [1]
    assert [n for _name, n in _numbers(next_year)] == [1]


def test_a_number_is_unique_in_its_ward_and_year_by_constraint(bob, ward_a, ward_b, area):
    decision = _issue(bob, ward_a, _families(ward_a, area, ["Lê Thị An", "Trần Văn Bình"]), "01")
    taken = Certificate.objects.get(registration__decision=decision, number=1)
    other = Certificate.objects.get(registration__decision=decision, number=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.filter(pk=other.pk).update(number=taken.number)
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.filter(pk=other.pk).update(number=0)
    # The same number in another ward, or another year, is another certificate.
    Certificate.objects.filter(pk=other.pk).update(year=YEAR + 1, number=1)
    Certificate.objects.filter(pk=other.pk).update(year=YEAR, ward=ward_b, number=1)


def test_numbering_again_changes_nothing(bob, ward_a, area):
    decision = _issue(bob, ward_a, _families(ward_a, area, ["Lê Thị An", "Trần Văn Bình"]), "01")
    before = list(Certificate.objects.values_list("pk", "number", "assigned_at"))
    assert certificates_number(decision=decision) == []
    assert list(Certificate.objects.values_list("pk", "number", "assigned_at")) == before


def _history(ward, area, names: list[str], number: str, day: int = 20) -> Decision:
    """A decision recorded with recognised registrations but no certificate numbers (as
    imports and the demonstration data used to leave them): written directly."""
    history = Decision.objects.create(
        ward=ward, province=ward.parent, year=YEAR, number=number,
        date=datetime.date(YEAR, 12, day),
    )  # fmt: skip
    for i, name in enumerate(names):
        family = make_family(ward, code=f"{number}-{i}", head_name=name, community=area)
        registration(family.entity, year=YEAR, state=State.RECOGNIZED, decision=history)
    return history


def test_the_migration_numbers_what_was_recorded_without_numbers(bob, ward_a, ward_b, area):
    """Migration 0018 numbers the decisions still without numbers, after the numbers the ward
    already gave that year, decision by decision (date, then as entered), each in its order."""
    _issue(bob, ward_a, _families(ward_a, area, ["Lê Thị An", "Trần Văn Bình"]), "01")
    later = _history(ward_a, area, ["Vũ Thị Yến", "Đinh Văn Hải"], "LS-2", day=25)
    earlier = _history(ward_a, area, ["Ngô Văn Sáu"], "LS-1", day=20)
    other = _history(ward_b, make_community(ward_b, code="TDPB"), ["Hà Văn Bảy"], "LS-B")
    assert not Certificate.objects.filter(registration__decision__in=[later, earlier]).exists()
    migration = importlib.import_module("titles.migrations.0018_number_remaining_certificates")
    migration.number_remaining(apps, SimpleNamespace(connection=connection))
    assert _numbers(earlier) == [("Ngô Văn Sáu", 3)]
    assert _numbers(later) == [("Đinh Văn Hải", 4), ("Vũ Thị Yến", 5)]
    assert _numbers(other) == [("Hà Văn Bảy", 1)]
    before = list(Certificate.objects.values_list("pk", "number", "assigned_at"))
    migration.number_remaining(apps, SimpleNamespace(connection=connection))
    assert list(Certificate.objects.values_list("pk", "number", "assigned_at")) == before


def test_numbering_a_provinces_decisions_at_once_follows_the_same_order(bob, ward_a, area):
    """What the demonstration data calls for a whole province: the same numbers as decision by
    decision."""
    _issue(bob, ward_a, _families(ward_a, area, ["Lê Thị An"]), "01")
    later = _history(ward_a, area, ["Vũ Thị Yến", "Đinh Văn Hải"], "LS-2", day=25)
    earlier = _history(ward_a, area, ["Ngô Văn Sáu"], "LS-1", day=20)
    assert certificates_number_missing(province_id=ward_a.parent_id) == 3
    assert _numbers(earlier) == [("Ngô Văn Sáu", 2)]
    assert _numbers(later) == [("Đinh Văn Hải", 3), ("Vũ Thị Yến", 4)]
    assert certificates_number_missing(province_id=ward_a.parent_id) == 0


def _writes(queries) -> list[str]:
    """The statements that wrote to the database, the session's own aside."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"], re.I)
        and "django_session" not in q["sql"]
    ]


def test_printing_only_reads(client, bob, ward_a, area):
    """A GET never writes: the certificates' pages read the numbers given when the decision
    was made; one recorded without numbers prints a dotted blank instead of taking one."""
    decision = _issue(bob, ward_a, _families(ward_a, area, ["Lê Thị An", "Trần Văn Bình"]), "01")
    history = _history(ward_a, area, ["Vũ Thị Yến"], "LS-1")
    client.force_login(bob)
    one = decision.registrations.get(entity__name="Trần Văn Bình")
    pages = [
        reverse("decision_certificates", args=[decision.pk]),
        reverse("certificate", args=[one.pk]),
        reverse("decision_detail", args=[decision.pk]),
        reverse("decision_certificates", args=[history.pk]),
    ]
    for url in pages:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert _writes(queries) == [], url
        assert response.status_code == 200, url
    page = client.get(pages[0]).content.decode()
    assert re.findall(r"Số: \d+/GCN-KH", page) == ["Số: 1/GCN-KH", "Số: 2/GCN-KH"]
    single = client.get(pages[1]).content.decode()
    assert re.findall(r"Số: \d+/GCN-KH", single) == ["Số: 2/GCN-KH"]
    assert "Số: ……/GCN-KH" in client.get(pages[3]).content.decode()
    assert not Certificate.objects.filter(registration__decision=history).exists()


def test_the_migration_numbers_earlier_decisions_in_date_then_list_order(province, ward_a, area):
    """The data migration's numbering, run over decisions made before numbers existed."""
    later = Decision.objects.create(
        ward=ward_a, province=province, year=YEAR, number="B", date=datetime.date(YEAR, 12, 9)
    )
    earlier = Decision.objects.create(
        ward=ward_a, province=province, year=YEAR, number="A", date=datetime.date(YEAR, 3, 1)
    )
    old_year = Decision.objects.create(
        ward=ward_a, province=province, year=YEAR - 1, number="C",
        date=datetime.date(YEAR - 1, 12, 1),
    )  # fmt: skip
    for code, name, decision in [
        ("F1", "Trần Văn Bình", later),
        ("F2", "Lê Thị An", later),
        ("F3", "Vũ Văn Sơn", earlier),
        ("F4", "Hồ Thị Na", old_year),
    ]:
        family = make_family(ward_a, code=code, head_name=name, community=area)
        registration(family.entity, year=decision.year, state=State.RECOGNIZED, decision=decision)
    rejected = make_family(ward_a, code="F5", head_name="Ngô Văn Lỗi", community=area)
    registration(rejected.entity, year=YEAR, state=State.REJECTED)
    migration = importlib.import_module("titles.migrations.0012_certificate_numbers")
    migration.number_existing(apps, None)
    assert _numbers(earlier) == [("Vũ Văn Sơn", 1)]
    assert _numbers(later) == [("Lê Thị An", 2), ("Trần Văn Bình", 3)]
    assert _numbers(old_year) == [("Hồ Thị Na", 1)]
    assert Certificate.objects.count() == 4


# --- the print of every certificate of a decision -----------------------------------------------


@pytest.fixture
def decision(bob, ward_a, area):
    family = make_family(ward_a, code="HGD1", head_name="Nguyễn Văn An", community=area)
    citizen = make_citizen(ward_a, code="CD1", full_name="Trần Thị Bình", family=family)
    regs = [
        _approved(family.entity),
        _approved(citizen.entity),
        _approved(make_clan(ward_a, code="DH1", name="Họ Lê Quang").entity),
        _approved(make_unit(ward_a, code="DV1", name="Trường Tiểu học Thử").entity),
    ]
    return _issue(bob, ward_a, regs, "15/QĐ-UBND")


def _certificates(html: str) -> list[str]:
    return re.findall(r'<article class="certificate".*?</article>', html, re.S)


def test_every_certificate_of_a_decision_prints_on_one_page(client, bob, decision):
    client.force_login(bob)
    response = client.get(reverse("decision_certificates", args=[decision.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    sheets = _certificates(html)
    assert len(sheets) == 4
    by_name = {re.search(r'certificate-name">([^<]*)<', s).group(1): s for s in sheets}
    assert set(by_name) == {
        "Gia đình ông/bà Nguyễn Văn An",
        "Ông/Bà Trần Thị Bình",
        "Dòng họ Lê Quang",
        "Trường Tiểu học Thử",
    }
    for name, sheet in by_name.items():
        assert re.search(r"Số: [1-4]/GCN-KH", sheet), name
        assert "ỦY BAN NHÂN DÂN" in sheet and "PHƯỜNG HOÀN KIẾM" in sheet, name
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in sheet, name
        assert f"Hoàn Kiếm, ngày 01 tháng 12 năm {YEAR}" in sheet, name
        assert "TM. ỦY BAN NHÂN DÂN" in sheet and "CHỦ TỊCH" in sheet, name
        assert "Theo Quyết định số 15/QĐ-UBND" in sheet, name
    # The household and the citizen in it live in a residential area; the certificate says so.
    address = "Tổ dân phố Một, phường Hoàn Kiếm, thành phố Hà Nội"
    assert address in by_name["Gia đình ông/bà Nguyễn Văn An"]
    assert address in by_name["Ông/Bà Trần Thị Bình"]
    assert "Chủ tịch Ủy ban nhân dân phường Hoàn Kiếm chứng nhận" in by_name["Dòng họ Lê Quang"]
    assert "Tổ dân phố Một" not in by_name["Dòng họ Lê Quang"]
    # One Print button, run by the print script (no inline script), and the landscape sheets.
    assert html.count("data-print") == 1
    assert "js/print.js" in html and "onclick" not in html
    css = (Path(settings.BASE_DIR) / "static" / "css" / "print.css").read_text()
    assert re.search(r"@page certificate \{\s*size: A4 landscape;", css)


def test_the_decision_page_links_to_its_certificates_and_lists_their_numbers(client, bob, decision):
    client.force_login(bob)
    html = client.get(reverse("decision_detail", args=[decision.pk])).content.decode()
    assert reverse("decision_certificates", args=[decision.pk]) in html
    numbers = dict(_numbers(decision))
    rows = re.findall(r"<tr>.*?</tr>", html.split('id="recognised"')[1], re.S)
    shown = {}
    for row in rows:
        if "registrations/" not in row:
            continue
        name = re.search(r'registrations/\d+/">([^<]*)<', row).group(1)
        shown[name] = int(re.findall(r'<td class="num">(\d+)</td>', row)[-1])
    assert shown == numbers


def test_outsiders_cannot_print_a_decisions_certificates(client, ward_b, decision):
    client.force_login(make_user("olga", Role.OFFICIAL, ward_b))
    assert client.get(reverse("decision_certificates", args=[decision.pk])).status_code == 404
    assert not Certificate.objects.exclude(registration__decision=decision).exists()


def test_the_certificates_page_reads_a_fixed_number_of_rows(client, bob, ward_a, area):
    small = _issue(bob, ward_a, _families(ward_a, area, ["Lê An", "Lê Bình"], "S"), "S")
    big = _issue(bob, ward_a, _families(ward_a, area, [f"Lê Văn {c}" for c in "ABCDEFGH"]), "B")
    client.force_login(bob)
    counts = []
    for decision in (small, big):
        with CaptureQueriesContext(connection) as queries:
            assert (
                client.get(reverse("decision_certificates", args=[decision.pk])).status_code == 200
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- a large decision: every certificate as a file, made by a job ------------------------------


def test_a_large_decision_prints_its_certificates_through_a_job(client, bob, decision, settings):
    """Beyond CERTIFICATES_PAGE_MAX the page offers the file instead of the sheets; the job
    writes one self-contained page with one sheet per certificate, numbered as the decision's
    page numbers them, its progress counted certificate by certificate."""
    settings.CERTIFICATES_PAGE_MAX = 3
    client.force_login(bob)
    url = reverse("decision_certificates", args=[decision.pk])
    page = client.get(url).content.decode()
    assert _certificates(page) == []
    assert 'id="certificates-too-many"' in page and 'id="certificates-file"' in page
    assert "data-print" not in page
    response = client.post(url)
    job = Job.objects.get(owner=bob)
    assert response.status_code == 302
    assert response["Location"] == reverse("job_status", args=[job.pk])
    assert (job.state, job.kind, job.done, job.total) == (
        Job.State.DONE,
        "titles.certificates",
        4,
        4,
    )
    status = client.get(response["Location"]).content.decode()
    assert reverse("job_download", args=[job.pk]) in status
    assert reverse("decision_detail", args=[decision.pk]) in status
    download = client.get(reverse("job_download", args=[job.pk]))
    assert download["Content-Type"] == "text/html; charset=utf-8"
    assert download["Content-Disposition"] == (
        'attachment; filename="giay-chung-nhan-00070-15-qd-ubnd.html"'
    )
    html = download.content.decode()
    sheets = _certificates(html)
    numbers = dict(_numbers(decision))
    assert len(sheets) == len(numbers) == 4
    holders = {
        "Nguyễn Văn An": "Gia đình ông/bà Nguyễn Văn An",
        "Trần Thị Bình": "Ông/Bà Trần Thị Bình",
        "Họ Lê Quang": "Dòng họ Lê Quang",
        "Trường Tiểu học Thử": "Trường Tiểu học Thử",
    }
    # In the decision's order, each with its own number (the same as the page with the sheets).
    assert [re.search(r"Số: (\d+)/GCN-KH", s).group(1) for s in sheets] == ["1", "2", "3", "4"]
    for name, holder in holders.items():
        (sheet,) = [s for s in sheets if f'certificate-name">{holder}<' in s]
        assert f"Số: {numbers[name]}/GCN-KH" in sheet, name
        assert "Theo Quyết định số 15/QĐ-UBND" in sheet, name
    settings.CERTIFICATES_PAGE_MAX = 200
    on_page = _certificates(client.get(url).content.decode())
    assert [re.sub(r"\s+", " ", s) for s in sheets] == [re.sub(r"\s+", " ", s) for s in on_page]
    # Self-contained: the print style sheet inline, nothing fetched from the server.
    css = (Path(settings.BASE_DIR) / "static" / "css" / "print.css").read_text()
    assert css.strip() in html
    assert "<link" not in html and "<script" not in html and "/static/" not in html
    assert html.count('<header class="letterhead"') == 4


def test_a_small_decision_can_be_made_a_file_too(client, bob, decision):
    client.force_login(bob)
    url = reverse("decision_certificates", args=[decision.pk])
    page = client.get(url).content.decode()
    assert len(_certificates(page)) == 4 and 'id="certificates-file"' in page
    client.post(url)
    job = Job.objects.get(owner=bob)
    assert len(_certificates(bytes(job.output.content).decode())) == 4


def test_outsiders_cannot_start_the_certificates_job(client, ward_b, decision):
    client.force_login(make_user("olga", Role.OFFICIAL, ward_b))
    assert client.post(reverse("decision_certificates", args=[decision.pk])).status_code == 404
    assert not Job.objects.exists()


def test_the_job_refuses_a_decision_its_owner_no_longer_sees(bob, ward_b, decision):
    """A job runs as its owner: if the decision left the owner's scope meanwhile, it says so
    and writes no file."""
    olga = make_user("olga", Role.OFFICIAL, ward_b)
    job = jobs.start(kind="titles.certificates", user=olga, args={"decision": decision.pk})
    assert job.state == Job.State.FAILED
    assert job.errors == ["This decision is no longer in your scope."]
    assert not JobOutput.objects.exists()


# --- the letterhead and signatures on every print ------------------------------------------------


MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


def _letterheads(html: str) -> list[str]:
    return re.findall(r'<header class="letterhead".*?</header>', html, re.S)


def test_every_print_opens_with_the_one_letterhead_and_ends_with_signatures(
    client, bob, ward_a, area, decision
):
    citizen = make_citizen(ward_a, code="CD9", full_name="Lý Thị Chín", family=None)
    family = make_family(ward_a, code="HGD9", head_name="Mai Văn Mười", community=area)
    in_family = make_citizen(ward_a, code="CD10", full_name="Mai Thị Mười Một", family=family)
    for entity in (citizen.entity, in_family.entity):
        registration(entity, year=YEAR, state=State.EVALUATED, passed=True, points=80)
    client.force_login(bob)
    recognised = decision.registrations.first()
    prints = {
        "decision": (reverse("decision_detail", args=[decision.pk]), "committee", 1),
        "public list": (
            f"{reverse('public_list')}?ward={ward_a.code}&year={YEAR}",
            "association",
            1,
        ),
        "certificate": (reverse("certificate", args=[recognised.pk]), "committee", 1),
        "certificates": (reverse("decision_certificates", args=[decision.pk]), "committee", 4),
    }
    for where, (url, issuer, count) in prints.items():
        html = client.get(url).content.decode()
        heads = _letterheads(html)
        assert len(heads) == count, where
        for head in heads:
            assert all(words in head for words in MOTTO), where
            assert 'lang="vi"' in head, where
            if issuer == "committee":
                assert "ỦY BAN NHÂN DÂN" in head and "PHƯỜNG HOÀN KIẾM" in head, where
            else:
                assert "HỘI KHUYẾN HỌC THÀNH PHỐ HÀ NỘI" in head, where
                assert "HỘI KHUYẾN HỌC PHƯỜNG HOÀN KIẾM" in head, where
            assert re.search(r"Hoàn Kiếm, ngày \d\d tháng \d{1,2} năm \d{4}", head), where
        assert html.count('<div class="signatures"') == count, where
        assert "CHỦ TỊCH" in html, where
    decision_html = client.get(prints["decision"][0]).content.decode()
    assert f"Hoàn Kiếm, ngày 01 tháng 12 năm {YEAR}" in decision_html
    assert "NGƯỜI LẬP BIỂU" in decision_html and "TM. ỦY BAN NHÂN DÂN" in decision_html
    public = client.get(prints["public list"][0]).content.decode()
    assert "TM. BAN CHẤP HÀNH" in public and "NGƯỜI LẬP BIỂU" in public
    # Citizens show their residential area (through their household); one without a household
    # shows none.
    row = re.search(r"<tr>(?:(?!</tr>).)*Mai Thị Mười Một.*?</tr>", public, re.S).group(0)
    assert "Tổ dân phố Một" in row
    row = re.search(r"<tr>(?:(?!</tr>).)*Lý Thị Chín.*?</tr>", public, re.S).group(0)
    assert "Tổ dân phố" not in row


def test_no_print_template_writes_its_own_letterhead():
    """The motto and the issuing body are written once (`titles.paper`), in one include."""
    roots = [Path(settings.BASE_DIR) / "templates", *Path(settings.BASE_DIR).glob("*/templates")]
    for root in roots:
        for template in root.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            assert "CỘNG HÒA" not in text.upper(), template
            assert "ỦY BAN NHÂN DÂN</p>" not in text, template


# --- the words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        (Kind.FAMILY, "Nguyễn  Văn An", "Gia đình ông/bà Nguyễn Văn An"),
        (Kind.CITIZEN, "Trần Thị Bình", "Ông/Bà Trần Thị Bình"),
        (Kind.CLAN, "Nguyễn Văn", "Dòng họ Nguyễn Văn"),
        (Kind.CLAN, "Họ Lê Quang", "Dòng họ Lê Quang"),
        (Kind.CLAN, "dòng họ Phạm", "Dòng họ Phạm"),
        (Kind.CLAN, "Họa Mi", "Dòng họ Họa Mi"),
        (Kind.COMMUNITY, "Tổ dân phố 5", "Tổ dân phố 5"),
        (Kind.UNIT, "Trường THCS Khương Đình", "Trường THCS Khương Đình"),
    ],
)
def test_formal_names(kind, name, expected):
    assert paper.formal_name(kind, name) == expected


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (datetime.date(2026, 12, 7), "Khương Đình, ngày 07 tháng 12 năm 2026"),
        (datetime.date(2026, 2, 15), "Khương Đình, ngày 15 tháng 02 năm 2026"),
        (datetime.date(2026, 3, 1), "Khương Đình, ngày 01 tháng 3 năm 2026"),
    ],
)
def test_place_and_date_line(date, expected):
    assert paper.place_date("Phường Khương Đình", date) == expected


def test_inside_a_sentence_the_kind_of_unit_is_lower_case():
    assert paper.in_sentence("Phường Khương Đình") == "phường Khương Đình"
    assert paper.in_sentence("Thành phố Hà Nội") == "thành phố Hà Nội"
    assert paper.in_sentence("Khương Đình") == "Khương Đình"


def test_place_names_drop_the_kind_of_unit():
    assert paper.place_name("Xã Sóc Sơn") == "Sóc Sơn"
    assert paper.place_name("Thành phố Hà Nội") == "Hà Nội"
    assert paper.place_name("Đặc khu Phú Quốc") == "Phú Quốc"
    assert paper.place_name("Hoàn Kiếm") == "Hoàn Kiếm"


def test_certificate_label():
    assert paper.certificate_label(15) == "Số: 15/GCN-KH"
    assert paper.certificate_label(None) == "Số: ……/GCN-KH"
