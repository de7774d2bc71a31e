"""The staff pages of the titles: list, registering, register an area, evidence, submit, confirm,
self-assessment link. Scope: outsiders (eve next door, mallory in another province, nobody
without a role) get 404 for a registration of ward A; read-only roles (bob the official, carol
the viewer) get 403 on every write; staff refusals from the services are messages, never a 500.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation

from registry.models import Kind
from tests.factories import make_clan, make_community, make_family
from tests.titles.factories import CLAN_DOC, FAMILY_DOC, load, registration
from titles.models import Registration, RegistrationEvent, RegistrationWindow, State
from titles.services.registrations import evidence_save, registration_from_token
from titles.views.staff import registration_url

YEAR = timezone.localdate().year
# registration_create's full_clean() refuses the unevaluated registration it builds (points,
# passed and eval_outstanding are null=True without blank=True): reported to the lead. Strict,
# so the mark must go once the service is fixed.
OUTSIDERS = ["eve", "mallory", "nobody"]
READERS = ["bob", "carol"]


@pytest.fixture
def family_set(db):
    return load(FAMILY_DOC)


@pytest.fixture
def window(province):
    today = timezone.localdate()
    return RegistrationWindow.objects.create(
        province=province,
        year=YEAR,
        opens_on=today - datetime.timedelta(days=10),
        closes_on=today + datetime.timedelta(days=10),
    )


@pytest.fixture
def area(ward_a):
    return make_community(ward_a, code="TDP1", name="Tổ dân phố Một")


@pytest.fixture
def households(ward_a, area):
    return [
        make_family(ward_a, code=f"HGD{i}", head_name=name, community=area)
        for i, name in enumerate(["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"], start=1)
    ]


@pytest.fixture
def reg_a(households, family_set):
    """A registration of ward A for this year."""
    return registration(households[0].entity, year=YEAR)


def _login(client, request, who):
    client.force_login(request.getfixturevalue(who))


def _html(response) -> str:
    return response.content.decode()


def _messages(response) -> list[str]:
    """The messages a view queued before redirecting (to the review pages' registration page)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- URLs -------------------------------------------------------------------------------------


def test_agreed_url_names_and_paths():
    assert reverse("registration_list") == "/titles/registrations/"
    assert reverse("registration_create") == "/titles/registrations/new/"
    assert reverse("registration_register_area") == "/titles/registrations/register-area/"
    assert reverse("registrations_import") == "/titles/registrations/import/"
    assert reverse("registration_evidence", args=[7]) == "/titles/registrations/7/evidence/"
    assert reverse("registration_submit", args=[7]) == "/titles/registrations/7/submit/"
    assert reverse("registration_confirm", args=[7]) == "/titles/registrations/7/confirm/"
    assert reverse("registration_self_link", args=[7]) == "/titles/registrations/7/self-link/"
    assert reverse("self_assessment", args=["abc:def"]) == "/titles/self/abc:def/"


def test_pages_need_login(client, reg_a):
    for url in (
        reverse("registration_list"),
        reverse("registration_create"),
        reverse("registration_register_area"),
        reverse("registrations_import"),
        reverse("registration_evidence", args=[reg_a.pk]),
        reverse("registration_self_link", args=[reg_a.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- list -------------------------------------------------------------------------------------


def _list(client, **params):
    return client.get(reverse("registration_list"), params)


def _listed(response) -> list[str]:
    return [r.entity.name for r in response.context["page"]]


@pytest.fixture
def two_wards(households, ward_b, family_set):
    """Three registrations in ward A this year, one last year, one in ward B this year."""
    for family in households:
        registration(family.entity, year=YEAR)
    registration(households[0].entity, year=YEAR - 1)
    other = make_family(ward_b, code="HGD-B", head_name="Nguyễn Văn Bắc")
    registration(other.entity, year=YEAR)


def test_staff_list_shows_this_year_of_their_ward(client, alice, two_wards):
    client.force_login(alice)
    response = _list(client)
    assert response.status_code == 200
    assert sorted(_listed(response)) == ["Lê Văn Cường", "Nguyễn Văn An", "Trần Thị Bình"]
    assert response.context["year"] == YEAR
    assert response.context["show_ward"] is False
    html = _html(response)
    assert reverse("registration_create") in html
    assert reverse("registration_register_area") in html
    assert reverse("registrations_import") in html
    # Another year on request.
    assert _listed(_list(client, year=YEAR - 1)) == ["Nguyễn Văn An"]


def test_viewer_sees_the_province_with_the_ward_column_and_no_write_buttons(
    client, carol, two_wards, ward_b, ward_x
):
    client.force_login(carol)
    response = _list(client)
    assert len(response.context["page"]) == 4
    assert response.context["show_ward"] is True
    html = _html(response)
    assert reverse("registration_create") not in html
    assert reverse("registrations_import") not in html
    assert _listed(_list(client, ward=ward_b.code)) == ["Nguyễn Văn Bắc"]
    assert _list(client, ward=ward_x.code).status_code == 404


def test_list_filters_and_diacritics_insensitive_search(client, alice, two_wards, households):
    client.force_login(alice)
    Registration.objects.filter(entity=households[1].entity, year=YEAR).update(
        state=State.SUBMITTED
    )
    assert _listed(_list(client, state=State.SUBMITTED)) == ["Trần Thị Bình"]
    assert _listed(_list(client, q="tran thi")) == ["Trần Thị Bình"]
    assert sorted(_listed(_list(client, q="NGUYEN"))) == ["Nguyễn Văn An"]
    assert _listed(_list(client, kind=Kind.CLAN)) == []
    assert len(_listed(_list(client, kind=Kind.FAMILY))) == 3


def test_list_filters_by_residential_area(client, alice, two_wards, ward_a, area):
    other_area = make_community(ward_a, code="TDP2", name="Tổ dân phố Hai")
    family = make_family(ward_a, code="HGD9", head_name="Phạm Thị Chín", community=other_area)
    registration(family.entity, year=YEAR)
    client.force_login(alice)
    response = _list(client, area=other_area.pk)
    assert _listed(response) == ["Phạm Thị Chín"]
    # The areas of alice's ward are offered in a select.
    assert 'name="area"' in _html(response) and "Tổ dân phố Hai" in _html(response)
    assert len(_listed(_list(client, area=area.pk))) == 3


def test_list_area_of_another_ward_is_404_for_a_province_viewer(client, carol, ward_x, two_wards):
    foreign = make_community(ward_x, code="TDPX")
    client.force_login(carol)
    assert _list(client, area=foreign.pk).status_code == 404


@pytest.mark.parametrize("outsider", ["eve", "mallory"])
def test_outsider_list_does_not_show_ward_a(client, request, outsider, two_wards, ward_a):
    _login(client, request, outsider)
    response = _list(client)
    assert response.status_code == 200
    assert "Nguyễn Văn An" not in _html(response)
    assert _list(client, ward=ward_a.code).status_code == 404


def test_nobody_sees_an_empty_list(client, nobody, two_wards):
    client.force_login(nobody)
    response = _list(client)
    assert response.status_code == 200
    assert list(response.context["page"]) == []


@pytest.mark.parametrize(
    ("who", "params"),
    [
        ("alice", {"area": "AREA", "q": "nguyen"}),
        ("carol", {"ward": "00070", "state": "registered"}),
    ],
)
def test_list_query_count_does_not_grow_with_rows(
    client, request, who, params, ward_a, ward_b, area, family_set, django_assert_num_queries
):
    """Session, user, grant, wards, (the chosen ward), areas, the ward-year's sign-off, one
    page of rows (no count: a filtered list has no total), and the request's savepoint and its
    release (ATOMIC_REQUESTS): 9 or 10, whatever the number of rows."""
    _login(client, request, who)
    params = {k: area.pk if v == "AREA" else v for k, v in params.items()}
    expected = 10 if "ward" in params else 9
    for i in range(3):
        registration(make_family(ward_a, code=f"S{i}", community=area).entity, year=YEAR)
    with django_assert_num_queries(expected):
        _list(client, **params)
    for i in range(40):
        registration(make_family(ward_a, code=f"M{i}", community=area).entity, year=YEAR)
    with django_assert_num_queries(expected):
        response = _list(client, **params)
    assert len(response.context["page"]) == 43


def test_list_paginates_by_50(client, alice, ward_a, area, family_set):
    for i in range(51):
        registration(make_family(ward_a, code=f"P{i:02d}", community=area).entity, year=YEAR)
    client.force_login(alice)
    first = _list(client).context["page"]
    assert len(first) == 50
    assert len(_list(client, cursor=first.next_cursor).context["page"]) == 1


# --- register one entity ----------------------------------------------------------------------


def test_staff_registers_an_entity_by_kind_and_code(client, alice, households, window, ward_a):
    client.force_login(alice)
    url = reverse("registration_create")
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"]["year"].value() == YEAR
    response = client.post(
        url, {"year": YEAR, "kind": Kind.FAMILY, "ward": ward_a.code, "code": "HGD2"}
    )
    assert response.status_code == 302
    created = Registration.objects.get(entity=households[1].entity, year=YEAR)
    assert created.state == State.REGISTERED and created.created_by == alice
    assert created.events.get().action == RegistrationEvent.Action.REGISTER


def test_register_an_unknown_code_is_an_error_beside_the_field(client, alice, households, ward_a):
    client.force_login(alice)
    with translation.override("en"):
        response = client.post(
            reverse("registration_create"),
            {"year": YEAR, "kind": Kind.CLAN, "ward": ward_a.code, "code": "HGD1"},
        )
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == [
        f"There is no clan with code HGD1 in {ward_a.name}."
    ]
    assert not Registration.objects.exists()


def test_register_preselected_entity_and_refusals_are_form_errors(
    client, alice, households, window, province
):
    client.force_login(alice)
    entity = households[0].entity
    url = reverse("registration_create") + f"?entity={entity.pk}"
    page = client.get(url)
    assert entity.name in _html(page) and 'name="code"' not in _html(page)
    assert client.post(url, {"year": YEAR}).status_code == 302
    with translation.override("en"):
        again = client.post(url, {"year": YEAR})
        assert f"{entity.name} is already registered for {YEAR}." in _html(again)
        # Outside the province's window staff may not register.
        closed = client.post(url, {"year": YEAR + 1})
        assert f"Registration for {YEAR + 1} has not been opened" in _html(closed)
    assert Registration.objects.count() == 1


def test_admin_may_register_outside_the_window(client, dave, households, ward_a):
    client.force_login(dave)
    entity = households[0].entity
    url = reverse("registration_create") + f"?entity={entity.pk}"
    assert client.post(url, {"year": YEAR + 1}).status_code == 302
    assert Registration.objects.filter(entity=entity, year=YEAR + 1).exists()


@pytest.mark.parametrize("outsider", ["eve", "mallory"])
def test_outsider_cannot_register_an_entity_of_ward_a(
    client, request, outsider, households, window, ward_a
):
    _login(client, request, outsider)
    entity = households[0].entity
    url = reverse("registration_create")
    assert client.get(url + f"?entity={entity.pk}").status_code == 404
    assert client.post(url + f"?entity={entity.pk}", {"year": YEAR}).status_code == 404
    response = client.post(
        url, {"year": YEAR, "kind": Kind.FAMILY, "ward": ward_a.code, "code": "HGD1"}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert not Registration.objects.exists()


@pytest.mark.parametrize("who", [*READERS, "nobody"])
def test_read_only_roles_get_403_on_register(client, request, who, households, window):
    _login(client, request, who)
    url = reverse("registration_create") + f"?entity={households[0].entity.pk}"
    assert client.get(url).status_code == 403
    assert client.post(url, {"year": YEAR}).status_code == 403
    assert not Registration.objects.exists()


# --- register an area -------------------------------------------------------------------------


def test_staff_registers_every_household_of_an_area(client, alice, households, area, window):
    registration(households[0].entity, year=YEAR)
    client.force_login(alice)
    url = reverse("registration_register_area")
    page = client.get(url)
    assert page.status_code == 200
    assert "Tổ dân phố Một (TDP1)" in _html(page)
    with translation.override("en"):
        response = client.post(url, {"area": area.pk, "year": YEAR, "confirmed": "1"}, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("registration_list"))
    assert "2 registered, 1 already registered." in _html(response)
    assert Registration.objects.filter(year=YEAR, entity__family__community=area).count() == 3
    assert len(response.context["page"]) == 3


def test_register_area_outside_the_window_is_a_form_error(client, alice, households, area):
    client.force_login(alice)
    with translation.override("en"):
        response = client.post(
            reverse("registration_register_area"), {"area": area.pk, "year": YEAR}
        )
    assert response.status_code == 200
    assert "has not been opened in this province yet" in _html(response)
    assert not Registration.objects.exists()


def test_register_area_of_another_ward_is_refused(client, alice, ward_b, window):
    foreign = make_community(ward_b, code="TDPB")
    make_family(ward_b, code="HGDB", community=foreign)
    client.force_login(alice)
    response = client.post(
        reverse("registration_register_area"), {"area": foreign.pk, "year": YEAR}
    )
    assert response.status_code == 200 and "area" in response.context["form"].errors
    assert not Registration.objects.exists()


def test_admin_covering_several_wards_picks_the_ward_first(
    client, dave, households, area, ward_a, ward_b
):
    client.force_login(dave)
    url = reverse("registration_register_area")
    assert 'name="ward"' in _html(client.get(url))
    page = client.get(url, {"ward": ward_a.code})
    assert "Tổ dân phố Một" in _html(page)
    response = client.post(
        f"{url}?ward={ward_a.code}", {"area": area.pk, "year": YEAR, "confirmed": "1"}
    )
    assert response.status_code == 302
    assert Registration.objects.count() == 3


@pytest.mark.parametrize("outsider", ["eve", "mallory"])
def test_outsider_cannot_pick_ward_a_to_register(client, request, outsider, area, ward_a):
    _login(client, request, outsider)
    url = reverse("registration_register_area") + f"?ward={ward_a.code}"
    assert client.get(url).status_code == 404
    assert client.post(url, {"area": area.pk, "year": YEAR}).status_code == 404


@pytest.mark.parametrize("who", [*READERS, "nobody"])
def test_read_only_roles_get_403_on_register_area(client, request, who, households, area):
    _login(client, request, who)
    url = reverse("registration_register_area")
    assert client.get(url).status_code == 403
    assert client.post(url, {"area": area.pk, "year": YEAR}).status_code == 403
    assert not Registration.objects.exists()


# --- evidence ---------------------------------------------------------------------------------


def _evidence_url(reg) -> str:
    return reverse("registration_evidence", args=[reg.pk])


def test_evidence_form_is_generated_from_the_criteria_set(client, alice, reg_a):
    reg_a.evidence = {"F1": "có", "F2": "2,5"}
    reg_a.save()
    client.force_login(alice)
    with translation.override("en"):
        response = client.get(_evidence_url(reg_a))
    assert response.status_code == 200
    form = response.context["form"]
    # Yes/no is a three-way select: "not yet known" is not "no".
    assert [value for value, _ in form.fields["F1"].choices] == ["", "yes", "no"]
    assert form["F1"].value() == "yes"
    # Numbers are number inputs, shown with a dot whatever was entered.
    assert form["F2"].value() == "2.5"
    html = _html(response)
    assert 'inputmode="decimal"' in html and 'name="F3"' in html
    assert 'type="number"' not in html
    assert "Points from 0 to 30." in html
    assert "Met at 2 or more: 30 points." in html
    assert "Trẻ em đi học đầy đủ" in html


def test_saving_evidence_stores_it_and_records_who(client, alice, reg_a):
    client.force_login(alice)
    response = client.post(
        _evidence_url(reg_a), {"version": reg_a.version, "F1": "yes", "F2": "3", "F3": ""}
    )
    assert response.status_code == 302
    reg_a.refresh_from_db()
    assert reg_a.evidence == {"F1": "yes", "F2": "3"}
    assert reg_a.evidence_self_assessed is False
    event = reg_a.events.get(action=RegistrationEvent.Action.EVIDENCE)
    assert event.user == alice and event.detail["after"] == {"F1": "yes", "F2": "3"}


def test_invalid_evidence_is_shown_beside_the_field_and_nothing_is_saved(client, alice, reg_a):
    client.force_login(alice)
    with translation.override("en"):
        response = client.post(
            _evidence_url(reg_a), {"version": reg_a.version, "F1": "maybe", "F2": "-1", "F3": "x"}
        )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "F1" in errors  # not one of the choices
    assert errors["F2"] == ["Enter a number of 0 or more, such as 3 or 2.5."]
    assert errors["F3"] == ["Enter points from 0 to 30, such as 7 or 7.5."]
    assert 'id="id_F2_errors"' in _html(response)
    reg_a.refresh_from_db()
    assert reg_a.evidence == {} and reg_a.version == 1


def test_evidence_saved_by_someone_else_first_is_a_clear_message(client, alice, reg_a):
    client.force_login(alice)
    seen = reg_a.version
    evidence_save(registration=reg_a, values={"F1": "no"}, user=None)
    with translation.override("en"):
        response = client.post(_evidence_url(reg_a), {"version": seen, "F1": "yes"})
    assert response.status_code == 200
    assert "Someone else changed this registration" in _html(response)
    reg_a.refresh_from_db()
    assert reg_a.evidence == {"F1": "no"}


def test_decided_registration_evidence_is_read_only(client, alice, households, family_set):
    decided = registration(
        households[0].entity, year=YEAR, state=State.APPROVED, evidence={"F1": "yes"}
    )
    client.force_login(alice)
    with translation.override("en"):
        page = client.get(_evidence_url(decided))
        assert page.context["form"] is None
        assert "can no longer change" in _html(page)
        response = client.post(_evidence_url(decided), {"version": 1, "F1": "no"})
        assert _messages(response) == ["Evidence cannot change once a registration is decided."]
    decided.refresh_from_db()
    assert decided.evidence == {"F1": "yes"}


def test_evidence_page_without_a_criteria_set_says_so(client, alice, households):
    reg = registration(households[0].entity, year=YEAR)
    client.force_login(alice)
    with translation.override("en"):
        response = client.get(_evidence_url(reg))
    assert response.status_code == 200 and response.context["form"] is None
    assert "No criteria set is in force" in _html(response)


def test_evidence_page_explains_derived_shares(client, alice, ward_a, area):
    load(CLAN_DOC)
    clan = make_clan(ward_a, code="DH1")
    members = [make_family(ward_a, code=f"DH1-{i}", clan=clan, community=area) for i in range(10)]
    for family in members[:7]:
        registration(family.entity, year=YEAR, state=State.RECOGNIZED)
    reg = registration(clan.entity, year=YEAR)
    client.force_login(alice)
    with translation.override("en"):
        response = client.get(_evidence_url(reg))
    html = _html(response)
    assert "7 of 10 households recognised as Learning Families = 70.0%, needs ≥ 70.0%" in html
    # Only C1 is entered; the share C2 is derived and not a field.
    assert list(response.context["form"].fields) == ["version", "C1"]
    assert response.context["shares"][0].met is True


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_gets_404_on_every_staff_page_of_a_registration(client, request, outsider, reg_a):
    _login(client, request, outsider)
    for name in ("registration_evidence", "registration_self_link"):
        assert client.get(reverse(name, args=[reg_a.pk])).status_code == 404
    for name in ("registration_evidence", "registration_submit", "registration_confirm"):
        response = client.post(reverse(name, args=[reg_a.pk]), {"version": 1, "F1": "yes"})
        assert response.status_code == 404
    reg_a.refresh_from_db()
    assert reg_a.state == State.REGISTERED and reg_a.evidence == {} and reg_a.version == 1


@pytest.mark.parametrize("reader", READERS)
def test_read_only_roles_get_403_on_every_staff_write(client, request, reader, reg_a):
    _login(client, request, reader)
    for name in ("registration_evidence", "registration_self_link"):
        assert client.get(reverse(name, args=[reg_a.pk])).status_code == 403
    for name in ("registration_evidence", "registration_submit", "registration_confirm"):
        response = client.post(reverse(name, args=[reg_a.pk]), {"version": 1, "F1": "yes"})
        assert response.status_code == 403
    reg_a.refresh_from_db()
    assert reg_a.state == State.REGISTERED and reg_a.evidence == {} and reg_a.version == 1


def test_admin_enters_evidence_anywhere(client, dave, reg_a):
    client.force_login(dave)
    response = client.post(_evidence_url(reg_a), {"version": 1, "F1": "no"})
    assert response.status_code == 302
    reg_a.refresh_from_db()
    assert reg_a.evidence == {"F1": "no"}


# --- submit and confirm -----------------------------------------------------------------------


def test_staff_submits_a_registration(client, alice, reg_a):
    client.force_login(alice)
    url = reverse("registration_submit", args=[reg_a.pk])
    assert client.get(url).status_code == 405
    with translation.override("en"):
        response = client.post(url, {"version": reg_a.version})
        assert response.status_code == 302
        assert response["Location"] == registration_url(reg_a.pk)
        assert _messages(response) == ["Submitted for evaluation."]
        reg_a.refresh_from_db()
        assert reg_a.state == State.SUBMITTED
        event = reg_a.events.get(action=RegistrationEvent.Action.STATE)
        assert (event.from_state, event.to_state, event.user) == (
            State.REGISTERED,
            State.SUBMITTED,
            alice,
        )
        # Submitting twice is refused with the service's reason, not a server error.
        again = client.post(url, {"version": reg_a.version})
    assert again.status_code == 302
    assert "cannot be moved to" in _messages(again)[-1]


def test_submit_with_a_stale_version_tells_someone_else_changed_it(client, alice, reg_a):
    client.force_login(alice)
    evidence_save(registration=reg_a, values={"F1": "yes"}, user=None)
    with translation.override("en"):
        response = client.post(reverse("registration_submit", args=[reg_a.pk]), {"version": 1})
    assert "Someone else changed this registration" in _messages(response)[0]
    reg_a.refresh_from_db()
    # As the other change (evidence, which submits it) left it; the stale submit wrote nothing.
    assert reg_a.state == State.SUBMITTED
    assert not reg_a.events.filter(action=RegistrationEvent.Action.STATE).exists()


def test_staff_confirms_self_assessed_evidence(client, alice, reg_a):
    evidence_save(registration=reg_a, values={"F1": "yes"}, user=None, self_assessed=True)
    reg_a.refresh_from_db()
    client.force_login(alice)
    url = reverse("registration_confirm", args=[reg_a.pk])
    with translation.override("en"):
        page = client.get(_evidence_url(reg_a))
        assert "Self-assessed, not yet confirmed" in _html(page)
        assert url in _html(page)
        response = client.post(url, {"version": reg_a.version})
        assert response["Location"] == registration_url(reg_a.pk)
        assert _messages(response) == ["Self-assessed evidence confirmed."]
        reg_a.refresh_from_db()
        assert reg_a.evidence_self_assessed is False
        assert reg_a.events.filter(action=RegistrationEvent.Action.CONFIRM, user=alice).exists()
        again = client.post(url, {"version": reg_a.version})
    assert _messages(again)[-1] == "There is no self-assessed evidence to confirm."


# --- self-assessment link ---------------------------------------------------------------------


def test_self_link_page_shows_an_absolute_link_that_opens_this_registration(client, alice, reg_a):
    client.force_login(alice)
    response = client.post(reverse("registration_self_link", args=[reg_a.pk]), {"action": "issue"})
    assert response.status_code == 200
    link = response.context["link"]
    assert link.startswith("http://testserver/titles/self/")
    html = _html(response)
    assert link in html and "js/titles.js" in html and "data-copy-target" in html
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert registration_from_token(token) == reg_a


def test_changing_evaluated_evidence_warns_and_sends_it_back(client, alice, households, family_set):
    reg = registration(households[0].entity, year=YEAR, state=State.EVALUATED)
    client.force_login(alice)
    with translation.override("en"):
        page = client.get(_evidence_url(reg))
    assert "sends it back to “submitted”" in _html(page)
    client.post(_evidence_url(reg), {"version": reg.version, "F1": "yes"})
    reg.refresh_from_db()
    assert reg.state == State.SUBMITTED and reg.evidence == {"F1": "yes"}
