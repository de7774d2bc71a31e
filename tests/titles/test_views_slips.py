"""Self-assessment slips: the QR code and the short code of a link, the page where a household
types its code, the preview a link shows when shared, and a residential area's slip sheet."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from tests.factories import make_community, make_family
from tests.qr import decode_qr_svg, qr_svgs
from tests.titles.factories import registration
from titles.models import SelfAssessmentLink, State
from titles.services import registrations as registering
from titles.services.criteria import criteria_load_defaults
from titles.views.slips import SELF_CODE_TRIES

YEAR = timezone.localdate().year
CODE = re.compile(r"\b[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}\b")
ANSWERS = {"F1a": "yes", "F1b": "8", "F2a": "yes", "F3b": "7"}


@pytest.fixture(autouse=True)
def no_earlier_tries():
    """Wrong tries are counted in the cache, per address: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def default_sets(db):
    return criteria_load_defaults()


@pytest.fixture
def area(ward_a):
    return make_community(ward_a, code="TDP7", name="Tổ dân phố 7")


@pytest.fixture
def household(ward_a, area):
    return make_family(ward_a, code="HGD1", head_name="Nguyễn Văn An", community=area)


@pytest.fixture
def reg(household, default_sets):
    return registration(household.entity, year=YEAR)


def _html(response) -> str:
    return response.content.decode()


def _issue(client, staff, reg) -> tuple[str, str, str]:
    """Issue a link on the staff page: (the page's HTML, the link, the short code)."""
    client.force_login(staff)
    response = client.post(reverse("registration_self_link", args=[reg.pk]), {"action": "issue"})
    client.logout()
    html = _html(response)
    return html, response.context["link"], CODE.search(html).group(0)


# --- the QR code and the short code on the staff page ----------------------------------------


def test_the_slip_carries_a_qr_code_of_the_link_and_a_short_code(client, alice, reg):
    html, link, code = _issue(client, alice, reg)
    svgs = qr_svgs(html)
    assert len(svgs) == 1
    assert decode_qr_svg(svgs[0]) == link
    assert link.startswith("http://testserver/titles/self/")
    # The code is printed, and opens the same registration as the link.
    assert registering.registration_from_code(code) == reg
    assert "http://testserver/titles/s/" in html  # where to type it
    # Only digests are stored: neither the token nor the code is in the database.
    row = SelfAssessmentLink.objects.get(registration=reg, ended_at__isnull=True)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in (row.digest, row.code_digest)
    assert code.replace("-", "") not in (row.digest, row.code_digest)


def test_codes_avoid_letters_people_mix_up():
    codes = {registering._new_code() for _ in range(300)}
    assert len(codes) == 300
    assert all(len(c) == registering.SELF_CODE_LENGTH for c in codes)
    assert not set("".join(codes)) & set("01OI")
    assert registering.self_code_normalize(" abcde fghjk ") == "ABCDEFGHJK"
    assert registering.self_code_normalize("ABCDE-FGHJK") == "ABCDEFGHJK"
    assert registering.self_code_normalize("ABCDE-FGHJ0") is None  # no zero
    assert registering.self_code_normalize("ABCD") is None


# --- the household types its code ---------------------------------------------------------------


@pytest.mark.vietnamese
def test_the_right_code_opens_the_household_form(client, alice, reg):
    _html_page, _link, code = _issue(client, alice, reg)
    page = client.get(reverse("self_code"))
    assert page.status_code == 200 and "Nhập mã" in _html(page)
    typed = code.lower().replace("-", " ")  # as a person might type it
    response = client.post(reverse("self_code"), {"code": typed})
    form_url = reverse("self_code_form", args=[code.replace("-", "")])
    assert response.status_code == 302 and response["Location"] == form_url
    opened = client.get(form_url)
    assert opened.status_code == 200 and "Nguyễn Văn An" in _html(opened)
    sent = client.post(form_url, {"version": reg.version, **ANSWERS})
    assert sent.status_code == 302 and sent["Location"] == f"{form_url}?sent=1"
    reg.refresh_from_db()
    assert reg.evidence_self_assessed is True and reg.evidence["F1b"] == "8"
    thanks = _html(client.get(f"{form_url}?sent=1"))
    assert f'href="{form_url}"' in thanks  # "change my answers" stays on the code's form


@pytest.mark.vietnamese
def test_a_wrong_code_says_so_in_vietnamese_and_opens_nothing(client, reg):
    response = client.post(reverse("self_code"), {"code": "ABCDE-FGHJK"})
    assert response.status_code == 404
    html = _html(response)
    assert "Không có phiếu nào mang mã ABCDE-FGHJK" in html
    malformed = _html(client.post(reverse("self_code"), {"code": "12345"}))
    assert "10 chữ và số" in malformed
    assert client.get(reverse("self_code_form", args=["ABCDEFGHJK"])).status_code == 404


@pytest.mark.vietnamese
def test_an_ended_code_says_the_slip_no_longer_works(client, alice, reg):
    _page, _link, old_code = _issue(client, alice, reg)
    _issue(client, alice, reg)  # a new slip replaces the old one
    response = client.post(reverse("self_code"), {"code": old_code})
    assert response.status_code == 404
    html = _html(response)
    assert f"Mã {old_code} không còn dùng được" in html and "phiếu mới" in html
    form_url = reverse("self_code_form", args=[old_code.replace("-", "")])
    assert client.post(form_url, {"version": reg.version, **ANSWERS}).status_code == 404
    reg.refresh_from_db()
    assert reg.evidence == {}


def test_staff_confirming_ends_the_code_too(client, alice, reg):
    _page, _link, code = _issue(client, alice, reg)
    form_url = reverse("self_code_form", args=[code.replace("-", "")])
    client.post(form_url, {"version": reg.version, **ANSWERS})
    reg.refresh_from_db()
    registering.evidence_confirm(registration=reg, user=alice)
    with pytest.raises(registering.SelfCodeEnded):
        registering.registration_from_code(code)
    assert client.get(form_url).status_code == 404


def test_guessing_is_stopped_after_a_few_wrong_codes(client, alice, reg):
    _page, _link, code = _issue(client, alice, reg)
    for _ in range(SELF_CODE_TRIES):
        assert client.post(reverse("self_code"), {"code": "ZZZZZ-ZZZZZ"}).status_code == 404
    # Now even the right code is not looked up from this address for a while...
    blocked = client.post(reverse("self_code"), {"code": code})
    assert blocked.status_code == 429
    assert "Too many wrong codes" in _html(blocked)
    assert client.get(reverse("self_code_form", args=[code.replace("-", "")])).status_code == 429
    # ...but another address is not affected.
    other = client.post(reverse("self_code"), {"code": code}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_typing_what_cannot_be_a_code_is_not_counted_as_a_guess(client, alice, reg):
    _page, _link, code = _issue(client, alice, reg)
    for _ in range(SELF_CODE_TRIES + 2):
        assert client.post(reverse("self_code"), {"code": "ABC-0"}).status_code == 404
    assert client.post(reverse("self_code"), {"code": code}).status_code == 302


# --- the preview a shared link shows -------------------------------------------------------------


def _meta(html: str, prop: str) -> str:
    found = re.search(rf'<meta property="{prop}" content="([^"]*)">', html)
    assert found, f"no {prop}"
    return found.group(1)


@pytest.mark.vietnamese
def test_a_shared_link_previews_the_ward_and_title_never_the_household(client, alice, reg):
    _page, link, code = _issue(client, alice, reg)
    for url in (link, reverse("self_code_form", args=[code.replace("-", "")])):
        html = _html(client.get(url))
        title, description = _meta(html, "og:title"), _meta(html, "og:description")
        assert title == f"Gia đình học tập {YEAR} · Phường Hoàn Kiếm"
        assert "Phường Hoàn Kiếm" in description and "Gia đình học tập" in description
        head = html.split("</head>", 1)[0]
        for personal in ("Nguyễn Văn An", "HGD1", "Tổ dân phố 7", code):
            assert personal not in head
        assert '<meta name="robots" content="noindex, nofollow">' in head
    ended = _html(client.get(reverse("self_assessment", args=["x" * 32])))
    assert _meta(ended, "og:title") == "Tự đánh giá"


# --- the slip sheet of a residential area --------------------------------------------------------


@pytest.fixture
def street(ward_a, area, default_sets):
    """Households of one area in every situation, and one of another area."""
    families = {
        name: make_family(ward_a, code=code, head_name=name, community=area)
        for code, name in [
            ("H1", "Trần Thị Bình"),
            ("H2", "Lê Văn Cường"),
            ("H3", "Phạm Thị Dung"),
            ("H4", "Hoàng Văn Em"),
            ("H5", "Vũ Thị Giang"),
        ]
    }
    regs = {
        "open": registration(families["Trần Thị Bình"].entity, year=YEAR),
        "open2": registration(families["Lê Văn Cường"].entity, year=YEAR),
        "linked": registration(families["Phạm Thị Dung"].entity, year=YEAR),
        "decided": registration(families["Hoàng Văn Em"].entity, year=YEAR, state=State.RECOGNIZED),
    }
    registering.self_assessment_token(registration=regs["linked"])
    elsewhere = make_family(ward_a, code="H9", head_name="Đỗ Văn Khoa")
    regs["elsewhere"] = registration(elsewhere.entity, year=YEAR)
    return regs


def _slips_url(area) -> str:
    return reverse("area_slips", args=[area.pk])


def test_the_confirmation_says_what_printing_will_do(client, alice, area, street):
    client.force_login(alice)
    response = client.get(_slips_url(area), {"year": YEAR})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert {r.pk for r in plan.without_link} == {street["open"].pk, street["open2"].pk}
    assert [r.pk for r in plan.with_link] == [street["linked"].pk]
    assert [r.pk for r in plan.decided] == [street["decided"].pk]
    assert plan.unregistered == 1
    text = re.sub(r"\s+", " ", _html(response))
    assert "2 households have no working link: each gets a new link and a slip." in text
    assert "1 household already has a working link" in text
    assert "1 household is not registered for" in text
    assert SelfAssessmentLink.objects.count() == 1  # looking changes nothing


def test_the_sheet_prints_a_slip_for_each_household_without_a_link(client, alice, area, street):
    client.force_login(alice)
    response = client.post(_slips_url(area), {"year": YEAR})
    assert response.status_code == 200
    html = _html(response)
    svgs = qr_svgs(html)
    opened = {registering.registration_from_token(_token(decode_qr_svg(s))).pk for s in svgs}
    assert opened == {street["open"].pk, street["open2"].pk}
    assert len(CODE.findall(html)) == 2
    # In the area's list order (Vietnamese: by given name), each slip naming its household.
    assert html.index("Trần Thị Bình") < html.index("Lê Văn Cường")
    assert "Phạm Thị Dung" not in html and "Đỗ Văn Khoa" not in html
    # The working link was left alone; the audit log has the batch.
    assert registering.self_assessment_link_live(registration=street["linked"]) is not None
    entry = AuditEntry.objects.get(detail__operation="self_assessment_slips")
    assert entry.detail["issued"] == 2 and entry.detail["area"] == "TDP7"


def test_replacing_gives_every_open_household_a_slip(client, alice, area, street):
    old = SelfAssessmentLink.objects.get(registration=street["linked"])
    client.force_login(alice)
    html = _html(client.post(_slips_url(area), {"year": YEAR, "replace_live": "on"}))
    opened = {
        registering.registration_from_token(_token(decode_qr_svg(s))).pk for s in qr_svgs(html)
    }
    assert opened == {street["open"].pk, street["open2"].pk, street["linked"].pk}
    old.refresh_from_db()
    assert old.end == SelfAssessmentLink.End.REISSUED
    assert SelfAssessmentLink.objects.filter(ended_at__isnull=True).count() == 3


def test_a_signed_off_year_prints_no_slips(client, alice, bob, area, street):
    from titles.services.signoff import ward_sign_off

    ward_sign_off(user=bob, ward=area.entity.ward, year=YEAR)
    client.force_login(alice)
    response = client.post(_slips_url(area), {"year": YEAR}, follow=True)
    assert response.status_code == 200
    assert qr_svgs(_html(response)) == []
    assert SelfAssessmentLink.objects.count() == 1


def test_the_sheet_is_for_staff_of_the_area_only(client, area, street, carol, eve):
    client.force_login(eve)  # staff of another ward
    assert client.get(_slips_url(area)).status_code == 404
    assert client.post(_slips_url(area), {"year": YEAR}).status_code == 404
    client.force_login(carol)  # a viewer of the province: sees, does not issue
    assert client.post(_slips_url(area), {"year": YEAR}).status_code == 403
    assert SelfAssessmentLink.objects.count() == 1


def test_the_area_page_links_to_its_slip_sheet(client, alice, carol, area):
    client.force_login(alice)
    html = _html(client.get(reverse("entity_detail", args=["communities", area.pk])))
    assert f'href="{_slips_url(area)}?year={YEAR}"' in html
    client.force_login(carol)
    html = _html(client.get(reverse("entity_detail", args=["communities", area.pk])))
    assert _slips_url(area) not in html


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]
