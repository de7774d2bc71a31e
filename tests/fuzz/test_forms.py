"""Every form, posted with hostile values through its real view by a user allowed to post.

A form answers 200 (the page with its errors) or 302 (saved), never a server error. What is
saved is the text as typed (trimmed): Vietnamese, other scripts, markup, formulas and strings up
to the field's limit alike; the pages that show it show it HTML-escaped. A NUL character
(PostgreSQL text cannot hold one) is refused with a message next to its field.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from hypothesis import event, example, given
from hypothesis import strategies as st

from registry.models import Entity, Kind
from tests.fuzz.conftest import rolled_back, snapshot
from tests.fuzz.files import csv_bytes
from tests.fuzz.strategies import examples, hostile_text, long_text
from tests.titles.factories import FAMILY_DOC, load, registration
from titles.models import Decision, Override, RegistrationWindow, State, WardSignOff
from titles.services.registrations import self_assessment_token
from titles.services.signoff import ward_sign_off

THIS_YEAR = timezone.localdate().year
NUL_REFUSED = "Null characters are not allowed."

# What a number box receives: numbers, near-numbers and Unicode digits that str.isdigit() and
# int() treat differently.
numberish = st.one_of(
    st.sampled_from(
        ["1", "4", "0", "-3", "2025", f"{THIS_YEAR}.0", " 7 ", "²", "٣", "１２", "1e3", "9" * 30]
    ),
    hostile_text(max_size=20),
    st.integers(-(10**20), 10**20).map(str),
)


def text_for(limit: int) -> st.SearchStrategy[str]:
    return st.one_of(hostile_text(max_size=min(limit, 120)), long_text(limit))


def _html(response) -> str:
    return response.content.decode()


def assert_escaped(html: str, value: str) -> None:
    """`value` is on the page as text: escaped (line by line, since multi-line text is shown
    with its line breaks as <br>), and its markup never raw."""
    for line in re.split(r"\r\n|\r|\n", value):
        assert escape(line) in html
    if "<script>" in value or "<img" in value or "<b>" in value:
        assert value not in html


def _post(client, url: str, data: dict) -> tuple[int, str]:
    response = client.post(url, data)
    assert response.status_code in (200, 302), (response.status_code, data)
    return response.status_code, response


@pytest.fixture
def window(province):
    today = timezone.localdate()
    return RegistrationWindow.objects.create(
        province=province,
        year=THIS_YEAR,
        opens_on=today - datetime.timedelta(days=30),
        closes_on=today + datetime.timedelta(days=30),
    )


@pytest.fixture
def family_set(db):
    return load({**FAMILY_DOC, "valid_from": 2000})


# --- registry entry forms --------------------------------------------------------------------

NAME_FIELD = {"families": "head_name", "citizens": "full_name"}
KIND_OF_SLUG = {
    "communities": Kind.COMMUNITY,
    "clans": Kind.CLAN,
    "families": Kind.FAMILY,
    "units": Kind.UNIT,
    "citizens": Kind.CITIZEN,
}


def _entity_post(kind: str, data, registry: dict) -> dict:
    draw = data.draw
    post = {
        "code": draw(text_for(64)),
        NAME_FIELD.get(kind, "name"): draw(text_for(255)),
    }
    if kind == "communities":
        post["area_type"] = draw(st.sampled_from(["thon", "to_dan_pho", "other", "<b>x</b>"]))
    elif kind == "clans":
        post["head_name"] = draw(st.one_of(st.just(""), text_for(255)))
    elif kind == "families":
        post["members"] = draw(numberish)
        post["community"] = draw(st.sampled_from([registry["community"].pk, "0", "x", "²"]))
        post["clan"] = draw(st.sampled_from(["", registry["clan"].pk, "-1", "\x00"]))
    elif kind == "units":
        post["unit_type"] = draw(st.sampled_from(["school", "agency", "", "'; --"]))
        post["staff"] = draw(numberish)
    elif kind == "citizens":
        post["birth_year"] = draw(st.one_of(st.sampled_from(["1985", "2000.0"]), numberish))
        post["family"] = draw(st.one_of(st.sampled_from(["", "HGD1"]), text_for(64)))
        post["unit"] = draw(st.sampled_from(["", registry["unit"].pk, "1e9"]))
    return post


@pytest.mark.parametrize("kind", ["communities", "clans", "families", "units", "citizens"])
@examples(15)
@given(data=st.data())
def test_entity_forms_save_verbatim_and_show_escaped(client, alice, registry_a, kind, data):
    client.force_login(alice)
    post = _entity_post(kind, data, registry_a)
    name_field = NAME_FIELD.get(kind, "name")
    with rolled_back():
        before = snapshot()
        status, response = _post(client, reverse("entity_create", args=[kind]), post)
        if status == 200:
            event("refused")
            assert snapshot() == before
            if any("\x00" in str(value) for value in post.values()):
                assert NUL_REFUSED in _html(response)
            return
        event("saved")
        entity = Entity.objects.get(kind=KIND_OF_SLUG[kind], code=post["code"].strip())
        name = post[name_field].strip()
        assert entity.name == name
        assert len(name) <= 255 and "\x00" not in name
        detail = client.get(response["Location"])
        assert detail.status_code == 200
        assert_escaped(_html(detail), name)
        assert_escaped(_html(detail), entity.code)
        edit = client.get(reverse("entity_edit", args=[kind, entity.pk]))
        assert edit.status_code == 200
        assert_escaped(_html(edit), name)
        listing = client.get(reverse("entity_list", args=[kind]), {"q": entity.code[:200]})
        assert listing.status_code == 200
        if len(name) <= 60:
            assert_escaped(_html(listing), name)


@examples(15)
@given(name=text_for(255), head_name=text_for(255))
def test_editing_a_clan_saves_verbatim(client, alice, registry_a, name, head_name):
    client.force_login(alice)
    clan = registry_a["clan"]
    url = reverse("entity_edit", args=["clans", clan.pk])
    with rolled_back():
        status, response = _post(client, url, {"name": name, "head_name": head_name})
        if status == 200:
            return
        clan.refresh_from_db()
        clan.entity.refresh_from_db()
        assert (clan.entity.name, clan.head_name) == (name.strip(), head_name.strip())
        assert_escaped(_html(client.get(response["Location"])), head_name.strip())


# --- registering and evidence ----------------------------------------------------------------


@examples(25)
@given(
    year=numberish,
    kind=st.one_of(st.sampled_from(["family", "clan", ""]), hostile_text(max_size=12)),
    ward=st.one_of(st.sampled_from(["00070", "70", "00004"]), hostile_text(max_size=12)),
    code=st.one_of(st.sampled_from(["HGD1", "DH1"]), text_for(64)),
)
def test_registration_form_never_fails(
    client, alice, registry_a, window, family_set, year, kind, ward, code
):
    client.force_login(alice)
    with rolled_back():
        _post(
            client,
            reverse("registration_create"),
            {"year": year, "kind": kind, "ward": ward, "code": code},
        )
        response = client.get(reverse("registration_create"), {"year": year, "entity": code})
        assert response.status_code in (200, 404)


@pytest.fixture
def family_registration(registry_a, family_set):
    return registration(registry_a["family"].entity, year=THIS_YEAR)


@pytest.mark.parametrize("self_assessed", [False, True])
@examples(20)
@given(
    f1=st.one_of(st.sampled_from(["", "yes", "no", "có"]), hostile_text(max_size=20)),
    f2=st.one_of(st.sampled_from(["", "2", "2,5", "-1"]), numberish),
    f3=st.one_of(st.sampled_from(["", "30", "7.5", "1e400"]), numberish),
    version=st.one_of(st.just("1"), numberish),
    extra=hostile_text(max_size=10),
)
def test_evidence_forms_never_fail(
    client, alice, family_registration, self_assessed, f1, f2, f3, version, extra
):
    if self_assessed:
        url = reverse(
            "self_assessment", args=[self_assessment_token(registration=family_registration)]
        )
    else:
        client.force_login(alice)
        url = reverse("registration_evidence", args=[family_registration.pk])
    post = {"F1": f1, "F2": f2, "F3": f3, "version": version, extra: extra}
    with rolled_back():
        status, response = _post(client, url, post)
        if status == 302:
            event("saved")
            family_registration.refresh_from_db()
            for code, value in (("F2", f2), ("F3", f3)):
                if value.strip():  # stored in plain form: "2,5" as "2.5"
                    stored = Decimal(family_registration.evidence[code])
                    assert stored == Decimal(value.strip().replace(",", "."))
            client.force_login(alice)
            page = client.get(reverse("registration_evidence", args=[family_registration.pk]))
            assert page.status_code == 200


@examples(20)
@example(version="²", action="registration_submit")
@example(version="٣", action="registration_confirm")
@given(version=numberish, action=st.sampled_from(["registration_submit", "registration_confirm"]))
def test_registration_actions_with_any_version_never_fail(
    client, alice, family_registration, version, action
):
    client.force_login(alice)
    with rolled_back():
        response = client.post(reverse(action, args=[family_registration.pk]), {"version": version})
        assert response.status_code == 302


# --- the officials' forms --------------------------------------------------------------------


@examples(20)
@given(reason=text_for(2000), version=st.one_of(st.just("1"), numberish))
def test_rejection_reason_is_saved_verbatim_and_shown_escaped(
    client, bob, family_registration, reason, version
):
    client.force_login(bob)
    url = reverse("registration_reject", args=[family_registration.pk])
    with rolled_back():
        _post(client, url, {"reason": reason, "version": version})
        family_registration.refresh_from_db()
        if family_registration.state != State.REJECTED:
            event("refused")
            return
        event("saved")
        assert family_registration.rejection_reason == reason.strip()
        page = client.get(reverse("registration_detail", args=[family_registration.pk]))
        assert_escaped(_html(page), reason.strip())


@pytest.fixture
def evaluated_registration(client, bob, family_registration):
    client.force_login(bob)
    family_registration.evidence = {"F1": "có", "F2": "3"}
    family_registration.save()
    response = client.post(
        reverse("ward_evaluate"), {"ward": "00070", "year": THIS_YEAR, "confirmed": "1"}
    )
    assert response.status_code == 302
    family_registration.refresh_from_db()
    assert family_registration.state == State.EVALUATED
    return family_registration


@examples(20)
@given(
    reason=text_for(2000),
    criterion=st.one_of(st.sampled_from(["F1", "F3"]), hostile_text(max_size=10)),
    met=st.sampled_from(["1", "0", "", "²"]),
)
def test_override_reason_is_saved_verbatim_and_shown_escaped(
    client, bob, evaluated_registration, reason, criterion, met
):
    client.force_login(bob)
    registration_ = evaluated_registration
    url = reverse("registration_override", args=[registration_.pk])
    post = {"reason": reason, "criterion": criterion, "met": met, "version": registration_.version}
    with rolled_back():
        _post(client, url, post)
        override = Override.objects.filter(registration=registration_).first()
        if override is None:
            event("refused")
            return
        event("saved")
        assert override.reason == reason.strip()
        page = client.get(reverse("registration_detail", args=[registration_.pk]))
        assert_escaped(_html(page), reason.strip())


@pytest.fixture
def approved(registry_a, family_set):
    return registration(registry_a["family"].entity, year=THIS_YEAR, state=State.APPROVED)


@examples(20)
@given(
    number=text_for(64),
    date=st.one_of(
        st.sampled_from([timezone.localdate().isoformat(), "2024-02-30", "15/12/2024", ""]),
        hostile_text(max_size=20),
    ),
    chosen=st.sampled_from(["own", "", "0", "x", "²"]),
)
def test_decision_number_is_saved_verbatim_and_shown_escaped(
    client, bob, approved, number, date, chosen
):
    client.force_login(bob)
    url = reverse("decision_create") + f"?ward=00070&year={THIS_YEAR}"
    post = {
        "number": number,
        "date": date,
        "registrations": approved.pk if chosen == "own" else chosen,
        "confirmed": "1",
    }
    with rolled_back():
        status, response = _post(client, url, post)
        if status == 200:
            event("refused")
            assert not Decision.objects.exists()
            return
        event("saved")
        decision = Decision.objects.get()
        assert decision.number == number.strip()
        assert_escaped(_html(client.get(response["Location"])), decision.number)
        queue = client.get(reverse("review_queue"), {"ward": "00070", "year": THIS_YEAR})
        assert_escaped(_html(queue), decision.number)


@pytest.fixture
def signed_off(bob, ward_a):
    return ward_sign_off(user=bob, ward=ward_a, year=THIS_YEAR)


@examples(15)
@given(reason=text_for(2000), action=st.sampled_from(["reopen", "sign_off", "", "<x>"]))
def test_reopen_reason_is_saved_verbatim_and_shown_escaped(
    client, dave, signed_off, reason, action
):
    client.force_login(dave)
    url = reverse("ward_signoff", args=["00070", THIS_YEAR])
    with rolled_back():
        _post(client, url, {"action": action, "reason": reason})
        last = WardSignOff.objects.order_by("pk").last()
        if last.action != WardSignOff.Action.REOPEN:
            event("refused")
            return
        event("saved")
        assert last.reason == reason.strip()
        assert_escaped(_html(client.get(url)), reason.strip())


_ANY = st.one_of(numberish, hostile_text(max_size=30))


@examples(25)
@given(
    who=st.sampled_from(["bob", "dave"]),
    url_name=st.sampled_from(["ward_evaluate", "review_approve_passed"]),
    post=st.fixed_dictionaries(
        {},
        optional={
            "ward": st.one_of(st.sampled_from(["00070", "70", "00004"]), _ANY),
            "year": st.one_of(st.sampled_from([str(THIS_YEAR), f"{THIS_YEAR}.0"]), _ANY),
            "kind": st.one_of(st.sampled_from(["family", ""]), _ANY),
            "area": _ANY,
            "q": _ANY,
            "scope": st.sampled_from(["all", "selected", "", "<x>"]),
            "ids": st.one_of(st.lists(_ANY, max_size=3), st.just("1")),
            "confirmed": st.sampled_from(["1", "", "0"]),
            "next": st.one_of(
                st.sampled_from(
                    ["/titles/review/?ward=00070", "https://evil.example/", "//evil.example/"]
                ),
                _ANY,
            ),
        },
    ),
)
@example(
    who="bob",
    url_name="review_approve_passed",
    post={"ward": "00070", "year": f"{THIS_YEAR}.0", "scope": "selected"},
)
def test_queue_actions_never_fail(client, bob, dave, family_registration, who, url_name, post):
    client.force_login({"bob": bob, "dave": dave}[who])
    with rolled_back():
        response = client.post(reverse(url_name), post)
        # Not confirmed, a valid form answers with its confirmation; nothing else is a page.
        assert response.status_code in (200, 302, 404), (response.status_code, post)
        if response.status_code == 200:
            assert post.get("confirmed") != "1", post
        if response.status_code == 302:
            assert urlsplit(response["Location"]).netloc == "", response["Location"]


# --- uploads and login -----------------------------------------------------------------------


@examples(20)
@given(
    filename=st.one_of(
        st.sampled_from(["a.csv", "A.XLSX", "a.xls", "a", ".csv", "<script>.csv"]),
        hostile_text(max_size=40).map(lambda name: f"{name}.csv"),
    ),
    kind=st.one_of(st.sampled_from(["families", "communities"]), hostile_text(max_size=12)),
    year=st.one_of(st.just(str(THIS_YEAR - 1)), numberish),
    step=st.sampled_from(["check", "confirm", "import", "", "<x>"]),
    content=st.one_of(
        st.just(
            csv_bytes([["ward", "code", "name"], ["00070", "<b>T9</b>", "<script>x</script>"]])
        ),
        st.binary(max_size=64),
    ),
)
def test_upload_forms_never_fail(client, alice, registry_a, filename, kind, year, step, content):
    client.force_login(alice)
    with rolled_back():
        for url, field in (
            (reverse("registry_import"), "kind"),
            (reverse("registrations_import"), "year"),
        ):
            upload = SimpleUploadedFile(filename.replace("\x00", ""), content)
            # A valid upload is a job, run here during the POST; its page shows the report.
            response = client.post(
                url,
                {field: kind if field == "kind" else year, "step": step, "file": upload},
                follow=True,
            )
            assert response.status_code == 200
            html = _html(response)
            assert "<script>x</script>" not in html and "<b>T9</b>" not in html


@examples(20)
@given(username=text_for(150), password=hostile_text(max_size=40))
def test_login_form_never_fails(client, alice, username, password):
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code in (200, 302, 403, 429)


# --- filter forms (GET) ----------------------------------------------------------------------

_PAGES = [
    ("home", []),
    ("entity_list", ["families"]),
    ("entity_list", ["units"]),
    ("entity_list", ["communities"]),
    ("registration_list", []),
    ("review_queue", []),
    ("public_list", []),
    ("decision_create", []),
    ("dashboard", []),
    ("reports", []),
    ("report_download", []),
    ("signoff_overview", []),
    ("registration_create", []),
    ("registration_register_area", []),
]


@examples(50)
@given(
    page=st.sampled_from(_PAGES),
    who=st.sampled_from(["alice", "bob", "carol", "dave"]),
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "year",
                "ward",
                "kind",
                "state",
                "area",
                "page",
                "unit",
                "level",
                "result",
                "posted_from",
                "format",
                "entity",
                "community",
                "clan",
                "family",
                "unit_type",
                "area_type",
                "province",
                "status",
            ]
        ),
        st.one_of(
            st.sampled_from(["00070", "01", "family", "ward", "csv", "xlsx", "1", "passed"]),
            _ANY,
            long_text(300),
        ),
        max_size=5,
    ),
)
def test_filter_forms_never_fail(
    client, alice, bob, carol, dave, family_registration, page, who, params
):
    client.force_login({"alice": alice, "bob": bob, "carol": carol, "dave": dave}[who])
    name, args = page
    response = client.get(reverse(name, args=args), params)
    assert response.status_code in (200, 302, 400, 403, 404), (response.status_code, params)
