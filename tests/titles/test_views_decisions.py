"""Issuing a recognition decision for approved registrations, and the decision's page."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from jobs import services as jobs
from jobs.models import Job
from registry.models import Role
from tests.factories import make_clan, make_family, make_user
from tests.titles.factories import FAMILY_DOC, load, registration
from tests.titles.job_pages import job_links, job_notes, job_page
from titles import jobs as titles_jobs
from titles import selectors
from titles.models import Decision, Registration, State
from titles.review_forms import approved_by_codes
from titles.views import review as review_views

YEAR = 2025


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def oscar(ward_b):
    return make_user("oscar", Role.OFFICIAL, ward_b)


@pytest.fixture
def approved(ward_a):
    """Two approved families (one reaching the outstanding threshold), an approved clan, and an
    evaluated family that is not approved yet."""
    load(FAMILY_DOC)
    return {
        "an": registration(
            make_family(ward_a, code="A1", head_name="Nguyễn Văn An").entity,
            state=State.APPROVED,
            passed=True,
            eval_outstanding=True,
        ),
        "binh": registration(
            make_family(ward_a, code="A2", head_name="Trần Văn Bình").entity,
            state=State.APPROVED,
            passed=True,
            eval_outstanding=False,
        ),
        "clan": registration(
            make_clan(ward_a, code="D1", name="Dòng họ Lê").entity,
            state=State.APPROVED,
            passed=True,
        ),
        "waiting": registration(
            make_family(ward_a, code="A3", head_name="Phạm Văn Chờ").entity,
            state=State.EVALUATED,
            passed=True,
        ),
    }


def _url(**params) -> str:
    query = "&".join(f"{key}={value}" for key, value in {"year": YEAR, **params}.items())
    return f"{reverse('decision_create')}?{query}"


def _issue(
    client, registrations, number="125/QĐ-UBND", date="2025-12-10", confirmed=True, **params
):
    """Post the decision form, confirmed (the confirmation's button) unless told otherwise."""
    data = {"number": number, "date": date, "registrations": [r.pk for r in registrations]}
    if confirmed:
        data["confirmed"] = "1"
    return client.post(_url(**params), data)


def test_form_offers_every_approved_registration_ticked(client, bob, approved):
    client.force_login(bob)
    response = client.get(_url())
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("an", "binh", "clan"):
        assert f'value="{approved[key].pk}" id="reg-{approved[key].pk}" checked' in html
    assert "Phạm Văn Chờ" not in html
    assert 'type="date"' in html


def test_kind_filter_narrows_the_offer(client, bob, approved):
    client.force_login(bob)
    rows = client.get(_url(kind="clan")).context["rows"]
    assert [r.pk for r in rows] == [approved["clan"].pk]


def test_issue_a_decision(client, bob, approved, english):
    client.force_login(bob)
    response = _issue(client, [approved["an"], approved["binh"]], number=" 125/QĐ-UBND ")
    page = job_page(client, response)
    decision = Decision.objects.get()
    assert job_links(page) == [reverse("decision_detail", args=[decision.pk])]
    assert job_notes(page) == ["Decision 125/QĐ-UBND issued: 2 registrations recognised."]
    assert (decision.number, decision.date, decision.year) == (
        "125/QĐ-UBND",
        datetime.date(2025, 12, 10),
        YEAR,
    )
    states = {key: Registration.objects.get(pk=reg.pk) for key, reg in approved.items()}
    assert states["an"].state == State.RECOGNIZED and states["an"].outstanding is True
    assert states["binh"].state == State.RECOGNIZED and states["binh"].outstanding is False
    assert states["clan"].state == State.APPROVED
    assert states["an"].decision == decision
    event = states["an"].events.get(to_state=State.RECOGNIZED)
    assert event.user == bob and event.detail == {"decision": "125/QĐ-UBND"}


def test_duplicate_number_is_shown_beside_the_field(client, bob, approved, english):
    client.force_login(bob)
    _issue(client, [approved["an"]])
    response = _issue(client, [approved["binh"]])
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_number_errors"' in html
    assert "Decision number 125/QĐ-UBND already exists in this ward." in html
    assert Registration.objects.get(pk=approved["binh"].pk).state == State.APPROVED
    assert Decision.objects.count() == 1


def test_number_date_and_a_choice_are_required(client, bob, approved, english):
    client.force_login(bob)
    response = _issue(client, [], number="", date="")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_number_errors"' in html and 'id="id_date_errors"' in html
    assert "Choose at least one approved registration." in html
    # What was unticked stays unticked when the form comes back.
    assert f'id="reg-{approved["an"].pk}" checked' not in html
    assert not Decision.objects.exists()


def test_only_approved_registrations_of_the_ward_can_be_chosen(client, bob, approved, ward_b):
    other = registration(make_family(ward_b, code="B1").entity, state=State.APPROVED, passed=True)
    client.force_login(bob)
    for reg in (approved["waiting"], other):
        response = _issue(client, [reg])
        assert response.status_code == 200
        assert "registrations" in response.context["form"].errors
    assert not Decision.objects.exists()


@pytest.mark.parametrize("who", ["alice", "carol", "eve", "mallory", "nobody"])
def test_only_officials_and_admins_issue_decisions(client, request, approved, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_url(ward="00070")).status_code == 403
    assert _issue(client, [approved["an"]], ward="00070").status_code == 403
    assert not Decision.objects.exists()


def test_official_of_another_ward_gets_404(client, oscar, approved):
    client.force_login(oscar)
    assert client.get(_url(ward="00070")).status_code == 404
    assert _issue(client, [approved["an"]], ward="00070").status_code == 404
    # In their own ward, ward A's registrations are not on offer.
    assert _issue(client, [approved["an"]]).status_code == 200
    assert not Decision.objects.exists()


def test_admin_picks_the_ward_first(client, dave, approved):
    client.force_login(dave)
    response = client.get(_url())
    assert "titles/review/ward_pick.html" in [t.name for t in response.templates]
    assert _issue(client, [approved["an"]], ward="00070").status_code == 302


# --- a decision for all that are approved, when there are too many to tick ---------------------


@pytest.fixture
def many(monkeypatch):
    """The form lists one approved registration at most: the fixture's are "too many"."""
    monkeypatch.setattr(review_views, "DECISION_LISTED_UP_TO", 1)


def _shown(client, **params) -> str:
    """What the decision form for all approved registrations was shown (its `expected`)."""
    html = client.get(_url(**params)).content.decode()
    return re.search(r'name="expected" value="([^"]*)"', html).group(1)


def _issue_all(client, expected, *, confirmed=True, extra=None, **params):
    data = {"number": "9/QĐ-UBND", "date": "2025-12-10", "expected": expected, **(extra or {})}
    if confirmed:
        data["confirmed"] = "1"
    return client.post(_url(**params), data)


def test_too_many_to_tick_are_counted_by_title_and_all_recognised(
    client, bob, approved, many, english
):
    client.force_login(bob)
    html = client.get(_url()).content.decode()
    assert 'name="registrations"' not in html
    assert "The decision recognises all 3 approved registrations" in html
    counts = re.findall(r'<th scope="row">([^<]+)</th>\s*<td class="num">(\d+)</td>', html)
    assert counts == [("Learning Family", "2"), ("Learning Clan", "1"), ("Total", "3")]
    assert "state=approved" in html  # the link to them in the queue
    shown = _shown(client)

    confirmation = _issue_all(client, shown, confirmed=False).content.decode()
    assert "will recognise 3 registrations" in confirmation
    assert 'id="confirm-rows"' not in confirmation  # counted, not listed
    assert f'name="expected" value="{shown}"' in confirmation
    assert not Decision.objects.exists()

    page = job_page(client, _issue_all(client, shown))
    decision = Decision.objects.get()
    assert job_notes(page) == ["Decision 9/QĐ-UBND issued: 3 registrations recognised."]
    states = {key: Registration.objects.get(pk=reg.pk) for key, reg in approved.items()}
    assert {key: reg.decision_id for key, reg in states.items()} == {
        "an": decision.pk,
        "binh": decision.pk,
        "clan": decision.pk,
        "waiting": None,
    }
    assert states["waiting"].state == State.EVALUATED


def test_a_title_narrows_a_decision_for_all(client, bob, approved, many):
    client.force_login(bob)
    job_page(client, _issue_all(client, _shown(client, kind="family"), kind="family"))
    recognised = Registration.objects.filter(state=State.RECOGNIZED)
    assert sorted(r.pk for r in recognised) == sorted([approved["an"].pk, approved["binh"].pk])


def _job(bob, approved, **args):
    args = {"ward": "00070", "year": YEAR, "number": "9/QĐ", "date": "2025-12-10", **args}
    ward_id = approved["an"].ward_id
    return jobs.start(kind=titles_jobs.DECISION, user=bob, args=args, scope_id=ward_id)


@pytest.mark.parametrize("change", ["one fewer", "one out, one in"])
def test_a_change_meanwhile_is_caught_before_and_by_the_job(
    client, bob, approved, many, english, change
):
    client.force_login(bob)
    shown = _shown(client)
    # Meanwhile a colleague rejects the clan; in the second case they also approve the
    # waiting household, so that there are as many approved as the page showed.
    Registration.objects.filter(pk=approved["clan"].pk).update(
        state=State.REJECTED, rejection_reason="không đạt"
    )
    if change == "one out, one in":
        Registration.objects.filter(pk=approved["waiting"].pk).update(state=State.APPROVED)
    now = 2 if change == "one fewer" else 3
    response = _issue_all(client, shown)
    assert response.status_code == 200
    assert (
        f"The approved registrations changed meanwhile: {now} now wait for a decision."
        in response.content.decode()
    )
    assert not Decision.objects.exists()
    # A job confirmed before the change finds the approved ones changed: nothing is issued.
    job = _job(bob, approved, expected=shown)
    assert job.state == Job.State.FAILED
    assert job.errors == [
        "The approved registrations changed since the decision was reviewed; nothing was "
        "issued. Review it again."
    ]
    assert not Decision.objects.exists()
    assert Registration.objects.filter(state=State.APPROVED).count() == now


def test_the_job_refuses_when_one_left_out_is_no_longer_approved(bob, approved, many):
    shown = selectors.approved_fingerprint(
        selectors.approved_by_title(Registration.objects.filter(state=State.APPROVED))
    )
    job = _job(bob, approved, expected=shown, leave_out=[approved["waiting"].pk])
    assert job.state == Job.State.FAILED
    assert not Decision.objects.exists()


def test_codes_left_out_stay_approved(client, bob, approved, many, english):
    client.force_login(bob)
    shown = _shown(client)
    # Typed in lower case, with a stray comma: the household is still found.
    confirmation = _issue_all(client, shown, confirmed=False, extra={"leave_out": " a2, "})
    html = confirmation.content.decode()
    assert "will recognise 2 registrations" in html
    assert "Left out, they stay approved: Trần Văn Bình (A2)." in html
    assert 'name="leave_out" value="A2"' in html
    job_page(client, _issue_all(client, shown, extra={"leave_out": "A2"}))
    states = {key: Registration.objects.get(pk=reg.pk).state for key, reg in approved.items()}
    assert states == {
        "an": State.RECOGNIZED,
        "binh": State.APPROVED,
        "clan": State.RECOGNIZED,
        "waiting": State.EVALUATED,
    }


def test_codes_as_people_write_them(bob, approved, ward_a):
    """A code with spaces in it, Vietnamese letters in another case, codes on lines or
    between spaces: each finds its registration."""
    for code in ("Tổ 3/12", "hgđ1"):
        registration(make_family(ward_a, code=code).entity, state=State.APPROVED, passed=True)
    rows = selectors.registration_list(user=bob, year=YEAR, state=State.APPROVED)
    found, unknown, ambiguous = approved_by_codes(rows, "Tổ 3/12\nHGĐ1\r\nA1 D1; a2")
    assert [r.entity.code for r in found] == ["Tổ 3/12", "hgđ1", "A1", "D1", "A2"]
    assert (unknown, ambiguous) == ([], [])


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("A3 ZZ9", "Not among the approved registrations: A3, ZZ9."),
        ("A1 A2 D1", "Every approved registration is left out: the decision would recognise none."),
        ("B7", "More than one approved registration has the code B7: choose the title above"),
        ("ab8", "More than one approved registration has the code ab8: choose the title above"),
    ],
)
def test_wrong_codes_left_out_are_refused_by_name(
    client, bob, approved, ward_a, many, english, typed, error
):
    if typed == "B7":  # a household and a clan of the same code
        for make in (make_family, make_clan):
            registration(make(ward_a, code="B7").entity, state=State.APPROVED, passed=True)
    if typed == "ab8":  # two households whose codes differ only in case, neither as typed
        for code in ("Ab8", "aB8"):
            registration(make_family(ward_a, code=code).entity, state=State.APPROVED, passed=True)
    client.force_login(bob)
    response = _issue_all(client, _shown(client), extra={"leave_out": typed})
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert typed in html  # what was typed is kept
    assert not Decision.objects.exists()


def test_the_approvals_crossing_the_limit_keep_what_was_left_out(
    client, bob, approved, monkeypatch
):
    client.force_login(bob)
    # Sent from the list (the clan unticked) after approvals took it past the limit: the
    # counted form comes back with the unticked one to leave out, and says why.
    monkeypatch.setattr(review_views, "DECISION_LISTED_UP_TO", 1)
    response = _issue(client, [approved["an"], approved["binh"]])
    html = response.content.decode()
    assert "The approved registrations changed meanwhile" in html
    assert re.search(r'<textarea name="leave_out"[^>]*>\s*D1</textarea>', html), html
    assert not Decision.objects.exists()
    # Sent from the counted form (the clan left out) once it is back under the limit: the list
    # comes back with everything ticked but the clan.
    monkeypatch.setattr(review_views, "DECISION_LISTED_UP_TO", 200)
    response = _issue_all(client, "shown", extra={"leave_out": "D1"})
    html = response.content.decode()
    assert "The approved registrations changed meanwhile" in html
    for key, ticked in (("an", True), ("binh", True), ("clan", False)):
        pk = approved[key].pk
        assert (f'id="reg-{pk}" checked' in html) is ticked
    assert not Decision.objects.exists()


# --- the decision's page ----------------------------------------------------------------------


@pytest.fixture
def decision(client, bob, approved):
    client.force_login(bob)
    _issue(client, [approved["an"], approved["binh"], approved["clan"]])
    client.logout()
    return Decision.objects.get()


def test_decision_page_lists_the_recognised_with_certificates(client, bob, decision, english):
    client.force_login(bob)
    response = client.get(reverse("decision_detail", args=[decision.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "125/QĐ-UBND" in html
    for reg in decision.registrations.all():
        assert reg.entity.name in html
        assert reverse("certificate", args=[reg.pk]) in html
    assert "css/print.css" in html
    assert response.context["outstanding"] == 1
    assert dict(response.context["by_kind"]) == {"Learning Family": 2, "Learning Clan": 1}


@pytest.mark.parametrize(("who", "status"), [("carol", 200), ("alice", 200), ("dave", 200)])
def test_decision_page_for_everyone_in_scope(client, request, decision, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("decision_detail", args=[decision.pk])).status_code == status


@pytest.mark.parametrize("who", ["eve", "mallory", "nobody", "oscar"])
def test_decision_page_outsiders_get_404(client, request, decision, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("decision_detail", args=[decision.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client, decision):
    response = client.get(reverse("decision_detail", args=[decision.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_decision_page_query_count_does_not_grow(
    client, bob, ward_a, django_assert_max_num_queries
):
    load(FAMILY_DOC)
    client.force_login(bob)

    def issue(number: str, count: int) -> Decision:
        regs = [
            registration(
                make_family(ward_a, code=f"{number}-{i}").entity,
                state=State.APPROVED,
                passed=True,
            )
            for i in range(count)
        ]
        _issue(client, regs, number=number)
        return Decision.objects.get(number=number)

    small, large = issue("1", 2), issue("2", 25)
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("decision_detail", args=[small.pk]))
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        client.get(reverse("decision_detail", args=[large.pk]))

    with CaptureQueriesContext(connection) as ctx:
        client.get(_url(kind="clan"))
    for i in range(20):
        registration(make_family(ward_a, code=f"X{i}").entity, state=State.APPROVED, passed=True)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        client.get(_url())
