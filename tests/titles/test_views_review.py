"""The registration page and the review queue: explanations, actions by role, concurrency."""

import re
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from jobs.models import Job
from registry.models import Role
from tests.factories import make_clan, make_community, make_family, make_user
from tests.titles.factories import CLAN_DOC, FAMILY_DOC, load, registration
from tests.titles.job_pages import job_links, job_notes, job_page
from titles.models import Override, Registration, RegistrationEvent, State
from titles.services.evaluate import registrations_evaluate
from titles.services.review import ConcurrentChange

YEAR = 2025


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _text(response) -> str:
    """The page's text with tags removed and white space collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def english(client):
    """Pages and messages in English (the language cookie decides what the server renders)."""
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def area(ward_a):
    return make_community(ward_a, code="TDP1", name="Tổ dân phố Một")


@pytest.fixture
def regs(ward_a, area):
    """Evaluated registrations of ward A under FAMILY_DOC (F1 yes/no 40 required; F2 number
    ≥ 2 for 30; F3 scale up to 30; passes at 50, outstanding at 90)."""
    load(FAMILY_DOC)
    passing = registration(
        make_family(ward_a, code="P", head_name="Nguyễn Văn Đạt", community=area).entity,
        evidence={"F1": "có", "F2": "3", "F3": "20"},
    )
    failing = registration(
        make_family(ward_a, code="N", head_name="Trần Thị Trượt", community=area).entity,
        evidence={"F1": "0", "F2": "1", "F3": "35"},
    )
    missing = registration(
        make_family(ward_a, code="M", head_name="Lê Văn Thiếu").entity, evidence={"F2": "5"}
    )
    registrations_evaluate(year=YEAR)
    for reg in (passing, failing, missing):
        reg.refresh_from_db()
    return {"passing": passing, "failing": failing, "missing": missing}


@pytest.fixture
def olga(ward_a):
    """A second official of ward A."""
    return make_user("olga", Role.OFFICIAL, ward_a)


@pytest.fixture
def oscar(ward_b):
    """An official of the next ward."""
    return make_user("oscar", Role.OFFICIAL, ward_b)


def _detail(client, reg):
    return client.get(reverse("registration_detail", args=[reg.pk]))


def _post(client, name, reg, **data):
    return client.post(reverse(name, args=[reg.pk]), data)


# --- the registration page --------------------------------------------------------------------


def test_page_explains_each_criterion_from_the_structured_result(client, bob, regs, english):
    client.force_login(bob)
    response = _detail(client, regs["passing"])
    assert response.status_code == 200
    text = _text(response)
    assert "Nguyễn Văn Đạt" in text
    assert "Trẻ em đi học đầy đủ" in text  # the criterion's own text
    assert "Yes → 40 points" in text
    assert "3 ≥ 2 → 30 points" in text
    assert "scale 20 of 30 → 20 points" in text
    assert "90 / 100" in text
    # The stored English reason of the rules stays at hand for audit, marked as English (not as
    # a tooltip over the translated explanation).
    assert '<span lang="en">true → 40 points</span>' in response.content.decode()

    text = _text(_detail(client, regs["failing"]))
    assert "No → 0 points" in text
    assert "1 < 2 → 0 points" in text
    assert "scale 35, at most 30 → 30 points" in text
    assert "Required criteria not met: F1." in text

    text = _text(_detail(client, regs["missing"]))
    assert "no evidence yet → 0 points" in text


def test_share_criterion_explained(client, bob, ward_a, english):
    load(FAMILY_DOC)
    load(CLAN_DOC)
    clan = make_clan(ward_a, code="DH1", name="Dòng họ Phạm")
    for i in range(10):
        family = make_family(ward_a, code=f"F{i}", clan=clan)
        if i < 7:
            registration(family.entity, state=State.RECOGNIZED)
    reg = registration(clan.entity, evidence={"C1": "1"})
    registrations_evaluate(year=YEAR)
    client.force_login(bob)
    text = _text(_detail(client, reg))
    assert "7/10 = 70.0% ≥ 70.0% → 60 points" in text
    assert "7 of 10 member families recognised" in text


@pytest.mark.vietnamese
def test_vietnamese_page_writes_numbers_the_vietnamese_way(client, bob, ward_a):
    load(FAMILY_DOC)
    reg = registration(make_family(ward_a).entity, evidence={"F1": "1", "F3": "2,5"})
    registrations_evaluate(year=YEAR)
    client.force_login(bob)
    response = _detail(client, reg)
    assert '<html lang="vi">' in response.content.decode()
    text = _text(response)
    assert "2,5 / 30" in text
    assert "42,5 / 100" in text


def test_history_shows_who_when_from_to_and_why(client, bob, regs, english):
    reg = regs["failing"]
    client.force_login(bob)
    _post(client, "registration_reject", reg, version=reg.version, reason="Hồ sơ thiếu chữ ký")
    text = _text(_detail(client, reg))
    history = text[text.index("History") :]
    assert "Evaluated" in history and "Registered → Evaluated" in history
    assert "State changed" in history and "Evaluated → Rejected" in history
    assert "bob" in history and "Hồ sơ thiếu chữ ký" in history


@pytest.mark.parametrize("who", ["eve", "mallory", "nobody", "oscar"])
def test_outsiders_get_404(client, request, regs, who):
    client.force_login(request.getfixturevalue(who))
    reg = regs["passing"]
    assert _detail(client, reg).status_code == 404
    for name in ("registration_approve", "registration_reject", "registration_override"):
        assert _post(client, name, reg, version=reg.version, reason="x").status_code == 404
    assert Registration.objects.get(pk=reg.pk).state == State.EVALUATED


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_read_only_roles_see_the_page_but_get_403_on_review_actions(client, request, regs, who):
    client.force_login(request.getfixturevalue(who))
    reg = regs["passing"]
    page = _detail(client, reg)
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("registration_approve", args=[reg.pk]) not in html
    assert reverse("registration_override", args=[reg.pk]) not in html
    assert reverse("registration_reject", args=[reg.pk]) not in html
    for name in ("registration_approve", "registration_reject", "registration_override"):
        response = _post(
            client, name, reg, version=reg.version, reason="x", criterion="F1", met="1"
        )
        assert response.status_code == 403
    assert Registration.objects.get(pk=reg.pk).state == State.EVALUATED
    assert not Override.objects.exists()


def test_actions_shown_by_state_and_result(client, bob, regs):
    client.force_login(bob)
    passing, failing = regs["passing"], regs["failing"]
    html = _detail(client, passing).content.decode()
    assert reverse("registration_approve", args=[passing.pk]) in html
    assert f'name="version" value="{passing.version}"' in html
    html = _detail(client, failing).content.decode()
    assert reverse("registration_approve", args=[failing.pk]) not in html
    assert reverse("registration_override", args=[failing.pk]) in html
    assert reverse("registration_reject", args=[failing.pk]) in html


def test_staff_see_their_evidence_actions_not_the_review_ones(client, alice, bob, ward_a, english):
    load(FAMILY_DOC)
    reg = registration(
        make_family(ward_a).entity, evidence={"F1": "có", "F2": "2,5"}, evidence_self_assessed=True
    )
    staff_urls = [
        reverse(name, args=[reg.pk])
        for name in (
            "registration_evidence",
            "registration_submit",
            "registration_confirm",
            "registration_self_link",
        )
    ]
    client.force_login(alice)
    response = _detail(client, reg)
    html = response.content.decode()
    assert all(url in html for url in staff_urls)
    assert reverse("registration_reject", args=[reg.pk]) not in html
    text = _text(response)
    assert "not yet confirmed by staff" in text or "has not been confirmed by staff" in text
    f1 = text[text.index("F1 ") : text.index("F2 ")]
    assert "Evidence Yes" in f1 and "not evaluated yet" in f1
    assert "Evidence 2.5" in text

    client.force_login(bob)
    html = _detail(client, reg).content.decode()
    assert not any(url in html for url in staff_urls)
    # A registration not evaluated yet can be rejected, not approved or overridden.
    assert reverse("registration_reject", args=[reg.pk]) in html
    assert reverse("registration_approve", args=[reg.pk]) not in html
    assert reverse("registration_override", args=[reg.pk]) not in html


def test_admin_acts_everywhere(client, dave, regs):
    client.force_login(dave)
    reg = regs["passing"]
    response = _post(client, "registration_approve", reg, version=reg.version)
    assert response.status_code == 302
    assert Registration.objects.get(pk=reg.pk).state == State.APPROVED


def test_actions_are_post_only(client, bob, regs):
    client.force_login(bob)
    reg = regs["passing"]
    for name in ("registration_approve", "registration_reject", "registration_override"):
        assert client.get(reverse(name, args=[reg.pk])).status_code == 405


# --- approve, reject, override ----------------------------------------------------------------


def test_approve(client, bob, regs, english):
    client.force_login(bob)
    reg = regs["passing"]
    response = _post(client, "registration_approve", reg, version=reg.version)
    assert response.status_code == 302
    assert response["Location"] == reverse("registration_detail", args=[reg.pk])
    assert _messages(response) == ["Approved Nguyễn Văn Đạt."]
    reg.refresh_from_db()
    assert reg.state == State.APPROVED
    event = reg.events.filter(action=RegistrationEvent.Action.STATE).get()
    assert (event.from_state, event.to_state, event.user) == ("evaluated", "approved", bob)


def test_approving_what_failed_is_refused_with_the_reason(client, bob, regs, english):
    client.force_login(bob)
    reg = regs["failing"]
    response = _post(client, "registration_approve", reg, version=reg.version)
    assert response.status_code == 302
    assert "does not meet the criteria" in _messages(response)[0]
    assert Registration.objects.get(pk=reg.pk).state == State.EVALUATED


def test_reject_needs_a_reason_beside_the_field(client, bob, regs, english):
    client.force_login(bob)
    reg = regs["failing"]
    response = _post(client, "registration_reject", reg, version=reg.version, reason="   ")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="reject_reason_errors"' in html
    assert "Write why the registration is rejected." in html
    assert '<details class="action" open>' in html
    assert Registration.objects.get(pk=reg.pk).state == State.EVALUATED

    response = _post(client, "registration_reject", reg, version=reg.version, reason="Sai số liệu")
    assert response.status_code == 302
    reg.refresh_from_db()
    assert reg.state == State.REJECTED and reg.rejection_reason == "Sai số liệu"
    assert "Sai số liệu" in _text(_detail(client, reg))


def test_override_with_reason_reevaluates_and_shows_who_when_why(client, bob, regs, english):
    client.force_login(bob)
    reg = regs["failing"]
    response = _post(
        client,
        "registration_override",
        reg,
        version=reg.version,
        criterion="F1",
        met="1",
        reason="Con đi học lại từ tháng 9",
    )
    assert response.status_code == 302
    assert _messages(response) == ["Criterion F1 overridden; the registration was evaluated again."]
    reg.refresh_from_db()
    assert reg.passed is True and reg.state == State.EVALUATED
    text = _text(_detail(client, reg))
    assert "overridden: met → 40 points" in text
    assert "rules alone: No → 0 points" in text
    assert "Overridden by bob" in text and "Con đi học lại từ tháng 9" in text
    # Now it passes, the approve button is there.
    assert reverse("registration_approve", args=[reg.pk]) in _detail(client, reg).content.decode()

    _post(
        client,
        "registration_override",
        reg,
        version=reg.version,
        criterion="F1",
        met="0",
        reason="Nhầm hồ sơ",
    )
    reg.refresh_from_db()
    assert reg.passed is False
    text = _text(_detail(client, reg))
    assert "overridden: not met → 0 points" in text
    overrides = text[text.index("Overrides") :]
    assert "superseded" in overrides and "Con đi học lại từ tháng 9" in overrides
    assert Override.objects.filter(registration=reg).count() == 2


def test_override_needs_a_reason_and_a_known_criterion(client, bob, regs, english):
    client.force_login(bob)
    reg = regs["failing"]
    response = _post(
        client, "registration_override", reg, version=reg.version, criterion="F1", met="1"
    )
    assert response.status_code == 200
    assert 'id="override_reason_errors"' in response.content.decode()
    response = _post(
        client,
        "registration_override",
        reg,
        version=reg.version,
        criterion="ZZ",
        met="1",
        reason="r",
    )
    assert response.status_code == 200
    assert 'id="override_criterion_errors"' in response.content.decode()
    assert not Override.objects.exists()


def test_override_refused_once_decided(client, bob, regs, english):
    client.force_login(bob)
    reg = regs["passing"]
    _post(client, "registration_approve", reg, version=reg.version)
    reg.refresh_from_db()
    response = _post(
        client,
        "registration_override",
        reg,
        version=reg.version,
        criterion="F1",
        met="0",
        reason="r",
    )
    assert response.status_code == 302
    assert _messages(response)[-1] == (
        "Only an evaluated registration, not yet decided, can be overridden."
    )
    assert not Override.objects.exists()


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("registration_reject", {"reason": "muộn"}),
        ("registration_approve", {}),
        ("registration_override", {"criterion": "F2", "met": "0", "reason": "muộn"}),
    ],
)
def test_second_official_on_a_stale_version_is_told_and_nothing_changes(
    client, bob, olga, regs, english, action, data
):
    reg = regs["passing"]
    client.force_login(olga)
    seen = _detail(client, reg).content.decode()
    assert f'name="version" value="{reg.version}"' in seen
    stale_version = reg.version

    bob_client = type(client)()
    bob_client.force_login(bob)
    bob_client.post(reverse("registration_approve", args=[reg.pk]), {"version": stale_version})
    reg.refresh_from_db()
    assert reg.state == State.APPROVED
    events = reg.events.count()
    version = reg.version

    response = _post(client, action, reg, version=stale_version, **data)
    assert response.status_code == 302
    assert _messages(response) == [str(ConcurrentChange())]
    assert "Someone else changed this registration" in _messages(response)[0]
    reg.refresh_from_db()
    assert (reg.state, reg.version, reg.events.count()) == (State.APPROVED, version, events)
    assert not Override.objects.exists()


def test_a_form_without_its_version_saves_nothing(client, bob, regs, english):
    client.force_login(bob)
    reg = regs["passing"]
    response = _post(client, "registration_approve", reg)
    assert response.status_code == 302
    assert "incomplete" in _messages(response)[0]
    assert Registration.objects.get(pk=reg.pk).state == State.EVALUATED


def test_page_query_count_does_not_grow_with_history(
    client, bob, regs, django_assert_max_num_queries
):
    client.force_login(bob)
    reg = regs["failing"]

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert _detail(client, reg).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(5):
        reg.refresh_from_db()
        _post(
            client,
            "registration_override",
            reg,
            version=reg.version,
            criterion="F1",
            met=str(i % 2),
            reason=f"lần {i}",
        )
    assert Override.objects.count() == 5
    with django_assert_max_num_queries(few):
        _detail(client, reg)


# --- the review queue -------------------------------------------------------------------------


def _queue(client, **params):
    return client.get(reverse("review_queue"), {"year": YEAR, **params})


def _queue_names(response) -> list[str]:
    return [r.entity.name for r in response.context["page"]]


def test_queue_lists_the_officials_ward_with_counts(client, bob, regs, ward_b, english):
    registration(make_family(ward_b, code="B1", head_name="Người Phường Bên").entity)
    client.force_login(bob)
    response = _queue(client)
    assert response.status_code == 200
    assert response.context["ward"].code == "00070"
    assert sorted(_queue_names(response)) == ["Lê Văn Thiếu", "Nguyễn Văn Đạt", "Trần Thị Trượt"]
    counts = response.context["counts"]
    assert counts["total"] == 3 and counts["evaluated"] == 3 and counts["approvable"] == 1
    assert "Approve all that passed (1)" in _text(response)


def test_queue_filters(client, bob, regs, area):
    client.force_login(bob)
    assert _queue_names(_queue(client, result="failed")) == ["Lê Văn Thiếu", "Trần Thị Trượt"]
    assert _queue_names(_queue(client, result="passed")) == ["Nguyễn Văn Đạt"]
    assert _queue_names(_queue(client, area=area.pk)) == ["Nguyễn Văn Đạt", "Trần Thị Trượt"]
    assert _queue_names(_queue(client, q="tran truot")) == ["Trần Thị Trượt"]
    assert _queue_names(_queue(client, state="approved")) == []
    assert _queue_names(_queue(client, kind="clan")) == []
    assert _queue_names(_queue(client, year=2024)) == []
    # A bad filter value is shown as an error and ignored.
    response = _queue(client, result="bogus")
    assert response.status_code == 200 and len(_queue_names(response)) == 3


def test_a_search_narrows_the_queue_not_its_counts(client, bob, regs, english):
    """The counts describe the ward-year (a search would read every name of the ward for
    them); the button approving all that passed under the search leaves its count to the
    confirmation, which counts exactly what it will approve."""
    client.force_login(bob)
    response = _queue(client, q="nguyen")
    assert _queue_names(response) == ["Nguyễn Văn Đạt"]
    counts = response.context["counts"]
    assert counts["total"] == 3 and counts["approvable"] == 1
    assert response.context["total"] is None
    text = _text(response)
    assert "Approve all that passed" in text and "Approve all that passed (1)" not in text
    for q, approvable in (("nguyen", 1), ("tran truot", 0)):  # Trần Thị Trượt failed
        confirm = client.post(
            reverse("review_approve_passed"),
            {"ward": "00070", "year": YEAR, "scope": "all", "q": q},
        )
        assert confirm.status_code == 200
        assert confirm.context["c"].counts.totals[0] == approvable


def test_queue_defaults_to_the_current_year(client, bob, ward_a):
    client.force_login(bob)
    response = client.get(reverse("review_queue"))
    assert response.status_code == 200
    assert response.context["year"] == timezone.localdate().year


@pytest.mark.parametrize("who", ["alice", "carol", "eve", "mallory", "nobody"])
def test_queue_is_for_officials_and_admins(client, request, regs, who):
    client.force_login(request.getfixturevalue(who))
    assert _queue(client).status_code == 403
    assert _queue(client, ward="00070").status_code == 403


def test_queue_of_another_ward_is_404(client, oscar, regs, ward_x):
    client.force_login(oscar)
    assert _queue(client, ward="00070").status_code == 404
    assert _queue(client, ward=ward_x.code).status_code == 404
    response = _queue(client)
    assert response.status_code == 200 and _queue_names(response) == []


def test_admin_picks_a_ward(client, dave, regs, ward_b):
    client.force_login(dave)
    response = _queue(client)
    assert response.status_code == 200
    assert "titles/review/ward_pick.html" in [t.name for t in response.templates]
    response = _queue(client, ward="00070")
    assert len(_queue_names(response)) == 3


def test_queue_query_count_does_not_grow_with_rows(
    client, bob, ward_a, area, django_assert_max_num_queries
):
    load(FAMILY_DOC)
    client.force_login(bob)

    def fill(start: int, count: int) -> None:
        for i in range(start, start + count):
            family = make_family(ward_a, code=f"Q{i}", community=area)
            registration(family.entity, evidence={"F1": "1", "F2": "2"})
        registrations_evaluate(year=YEAR)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert _queue(client).status_code == 200
        return len(ctx.captured_queries)

    fill(0, 2)
    few = count()
    fill(2, 20)
    assert count() == few
    with django_assert_max_num_queries(few):
        _queue(client, area=area.pk, result="passed", q="nguyen")


# --- evaluate now and bulk approval -----------------------------------------------------------


def _evaluate(client, **data):
    """Evaluate now, confirmed (the confirmation's button)."""
    return client.post(
        reverse("ward_evaluate"), {"ward": "00070", "year": YEAR, "confirmed": "1", **data}
    )


def test_evaluate_now(client, bob, ward_a, ward_b, english):
    load(FAMILY_DOC)
    mine = registration(make_family(ward_a).entity, evidence={"F1": "1", "F2": "2"})
    other = registration(make_family(ward_b, code="B").entity, evidence={"F1": "1"})
    client.force_login(bob)
    response = _evaluate(client)
    page = job_page(client, response)
    assert job_links(page) == [f"{reverse('review_queue')}?ward=00070&year={YEAR}"]
    assert job_notes(page) == ["Evaluated 1 registration: 1 passed."]
    job = Job.objects.get()
    assert (job.kind, job.owner, job.scope_id) == ("titles.evaluate", bob, ward_a.pk)
    assert job.done == job.total == 1
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.state == State.EVALUATED and mine.passed is True
    assert other.state == State.REGISTERED


def test_evaluate_reports_missing_criteria(client, bob, ward_a, english):
    registration(make_family(ward_a).entity, state=State.SUBMITTED)  # no criteria set loaded
    client.force_login(bob)
    response = _evaluate(client)
    assert job_notes(job_page(client, response))[1] == (
        "1 registration for Learning Family was not evaluated: no criteria set is in force "
        "for 2025."
    )


def test_evaluate_access(client, alice, carol, oscar, ward_a):
    load(FAMILY_DOC)
    reg = registration(make_family(ward_a).entity)
    for user, status in ((alice, 403), (carol, 403), (oscar, 404)):
        client.force_login(user)
        response = _evaluate(client)
        assert response.status_code == status
    client.force_login(alice)
    assert client.get(reverse("ward_evaluate")).status_code == 403
    assert Registration.objects.get(pk=reg.pk).state == State.REGISTERED


def _approve_passed(client, **data):
    """Approve, confirmed (the confirmation's button)."""
    return client.post(
        reverse("review_approve_passed"), {"ward": "00070", "year": YEAR, "confirmed": "1", **data}
    )


def test_approve_all_that_passed(client, bob, ward_a, regs, english):
    second = registration(make_family(ward_a, code="P2").entity, evidence={"F1": "1", "F2": "2"})
    registrations_evaluate(year=YEAR)
    client.force_login(bob)
    response = _approve_passed(client, scope="all")
    assert job_notes(job_page(client, response)) == ["Approved 2 registrations."]
    assert Job.objects.get().done == 2
    states = dict(Registration.objects.values_list("entity__code", "state"))
    assert states == {"P": "approved", "P2": "approved", "N": "evaluated", "M": "evaluated"}
    assert second.events.filter(to_state="approved", user=bob).exists()


def test_approve_selected_that_passed(client, bob, ward_a, regs, english):
    second = registration(make_family(ward_a, code="P2").entity, evidence={"F1": "1", "F2": "2"})
    registrations_evaluate(year=YEAR)
    client.force_login(bob)
    # A failing one ticked by hand (or a forged id) is simply not approved.
    response = _approve_passed(client, scope="selected", ids=[second.pk, regs["failing"].pk])
    assert job_notes(job_page(client, response)) == ["Approved 1 registration."]
    states = dict(Registration.objects.values_list("entity__code", "state"))
    assert states["P2"] == "approved" and states["P"] == "evaluated"
    assert states["N"] == "evaluated"


def test_approve_all_within_the_area_filter(client, bob, ward_a, area, regs, english):
    elsewhere = registration(make_family(ward_a, code="P3").entity, evidence={"F1": "1", "F2": "2"})
    registrations_evaluate(year=YEAR)
    client.force_login(bob)
    response = _approve_passed(client, scope="all", area=area.pk)
    page = job_page(client, response)
    assert job_notes(page) == ["Approved 1 registration."]
    assert job_links(page)[0].endswith(f"&area={area.pk}")
    elsewhere.refresh_from_db()
    assert elsewhere.state == State.EVALUATED


def test_approve_selected_needs_a_selection(client, bob, regs, english):
    client.force_login(bob)
    response = _approve_passed(client, scope="selected")
    assert _messages(response) == ["Tick the registrations to approve first."]
    assert not Registration.objects.filter(state=State.APPROVED).exists()


def test_approve_passed_access(client, alice, carol, oscar, regs):
    for user, status in ((alice, 403), (carol, 403), (oscar, 404)):
        client.force_login(user)
        assert _approve_passed(client, scope="all").status_code == status
    assert not Registration.objects.filter(state=State.APPROVED).exists()
