"""Ward sign-off: freezing a ward's year, reopening it, the pages, and the figures staying exact.

World: ward A (bob's) has, for 2025, two evaluated registrations that passed, one that failed
and one approved; for 2026 one that passed. Ward B (same province) has one that passed in 2025.
"""

import datetime
import re
import threading
import time
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from registry.models import Role
from tests.factories import WardFactory, make_community, make_family, make_user
from tests.titles.factories import FAMILY_DOC, load, registration
from titles.models import (
    Decision,
    Override,
    Registration,
    RegistrationEvent,
    Rollup,
    State,
    WardSignOff,
)
from titles.selectors_signoff import signed_off_wards
from titles.services.evaluate import registrations_evaluate
from titles.services.review import (
    ReviewError,
    decision_issue,
    override_set,
    registration_approve,
    registration_reject,
    registrations_approve_passed,
)
from titles.services.rollups import rollup_verify, rollups_rebuild
from titles.services.signoff import ward_reopen, ward_sign_off, ward_year_frozen

YEAR = 2025
FROZEN = "signed off; a province administrator must reopen them first"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _page(ward, year: int = YEAR) -> str:
    return reverse("ward_signoff", kwargs={"ward_code": ward.code, "year": year})


def _figures() -> list[tuple]:
    return list(
        Rollup.objects.order_by("level", "unit_id", "year", "kind").values_list(
            "level", "unit_id", "year", "kind", "registered", "recognized", "outstanding"
        )
    )


@pytest.fixture
def pat(province):
    """An administrator of the province (ward A's and ward B's)."""
    return make_user("pat", Role.ADMIN, province)


@pytest.fixture
def world(ward_a, ward_b, province):
    load(FAMILY_DOC)
    passing = {"F1": "1", "F2": "2"}

    def reg(ward, code, year=YEAR, **fields):
        return registration(make_family(ward, code=code).entity, year=year, **fields)

    regs = {
        "p1": reg(ward_a, "P1", evidence=passing),
        "p2": reg(ward_a, "P2", evidence=passing),
        "fail": reg(ward_a, "N", evidence={"F2": "5"}),
        "approved": reg(ward_a, "A", evidence=passing),
        "next_year": reg(ward_a, "Y", year=YEAR + 1, evidence=passing),
        "b": reg(ward_b, "B", evidence=passing),
    }
    registrations_evaluate(year=YEAR)
    registrations_evaluate(year=YEAR + 1)
    Registration.objects.filter(pk=regs["approved"].pk).update(state=State.APPROVED)
    # Registrations made directly above skipped the roll-up refresh the services do.
    rollups_rebuild(province_id=province.pk)
    for r in regs.values():
        r.refresh_from_db()
    assert regs["fail"].passed is False
    assert {r.passed for k, r in regs.items() if k != "fail"} == {True}
    return regs


# --- the freeze -----------------------------------------------------------------------------


def test_sign_off_freezes_every_decision_of_that_ward_and_year(world, ward_a, bob):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    assert ward_year_frozen(ward_id=ward_a.pk, year=YEAR)
    events, figures = RegistrationEvent.objects.count(), _figures()

    with pytest.raises(ReviewError, match=FROZEN):
        registration_approve(registration=world["p1"], user=bob)
    with pytest.raises(ReviewError, match=FROZEN):
        registration_reject(registration=world["p2"], user=bob, reason="Thiếu minh chứng")
    with pytest.raises(ReviewError, match=FROZEN):
        override_set(
            registration=world["fail"], criterion="F1", met=True, reason="Đã xác minh", user=bob
        )
    with pytest.raises(ReviewError, match=FROZEN):
        registrations_approve_passed(user=bob, ward=ward_a, year=YEAR)
    with pytest.raises(ReviewError, match=FROZEN):
        decision_issue(
            user=bob,
            ward=ward_a,
            year=YEAR,
            number="01/QĐ-UBND",
            date=datetime.date(YEAR, 12, 1),
            registrations=[world["approved"]],
        )

    states = dict(Registration.objects.values_list("pk", "state"))
    assert states[world["p1"].pk] == states[world["p2"].pk] == State.EVALUATED
    assert states[world["approved"].pk] == State.APPROVED
    assert not Override.objects.exists()
    assert not Decision.objects.exists()
    assert RegistrationEvent.objects.count() == events
    assert _figures() == figures


def test_sign_off_leaves_other_wards_and_years_alone(world, ward_a, ward_b, bob, dave):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    assert not ward_year_frozen(ward_id=ward_b.pk, year=YEAR)
    assert not ward_year_frozen(ward_id=ward_a.pk, year=YEAR + 1)

    registration_approve(registration=world["next_year"], user=bob)
    assert registrations_approve_passed(user=dave, ward=ward_b, year=YEAR) == (1, 0)
    world["b"].refresh_from_db()
    decision_issue(
        user=dave,
        ward=ward_b,
        year=YEAR,
        number="07/QĐ-UBND",
        date=datetime.date(YEAR, 12, 1),
        registrations=[world["b"]],
    )
    world["b"].refresh_from_db()
    assert world["next_year"].state == State.APPROVED
    assert world["b"].state == State.RECOGNIZED


def test_a_submission_in_a_frozen_year_is_refused_too(ward_a, bob, alice):
    from titles.services.review import registration_submit

    reg = registration(make_family(ward_a, code="S").entity)
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    with pytest.raises(ReviewError, match="signed off"):
        registration_submit(registration=reg, user=alice)
    reg.refresh_from_db()
    assert reg.state == State.REGISTERED


def test_reopen_by_province_admin_unfreezes_and_is_recorded(world, ward_a, bob, pat):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    ward_reopen(user=pat, ward=ward_a, year=YEAR, reason="  Sai số liệu tổ 3  ")
    assert not ward_year_frozen(ward_id=ward_a.pk, year=YEAR)

    registration_approve(registration=world["p1"], user=bob)
    assert world["p1"].state == State.APPROVED
    rows = list(WardSignOff.objects.filter(ward=ward_a, year=YEAR).order_by("pk"))
    assert [(r.action, r.user, r.reason) for r in rows] == [
        (WardSignOff.Action.SIGN_OFF, bob, ""),
        (WardSignOff.Action.REOPEN, pat, "Sai số liệu tổ 3"),
    ]
    assert {r.province_id for r in rows} == {ward_a.parent_id}

    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    assert ward_year_frozen(ward_id=ward_a.pk, year=YEAR)


def test_a_global_admin_may_reopen(ward_a, bob, dave):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    ward_reopen(user=dave, ward=ward_a, year=YEAR, reason="Kiểm tra lại")
    assert not ward_year_frozen(ward_id=ward_a.pk, year=YEAR)


def test_only_a_province_admin_may_reopen(ward_a, other_province, bob, carol):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    other_admin = make_user("olga", Role.ADMIN, other_province)
    ward_admin = make_user("walt", Role.ADMIN, ward_a)
    for user in (bob, carol, other_admin, ward_admin):
        with pytest.raises(PermissionDenied):
            ward_reopen(user=user, ward=ward_a, year=YEAR, reason="Muốn sửa")
    assert ward_year_frozen(ward_id=ward_a.pk, year=YEAR)
    assert WardSignOff.objects.count() == 1


def test_reopen_needs_a_reason_and_a_sign_off(ward_a, bob, pat):
    with pytest.raises(ReviewError, match="not signed off"):
        ward_reopen(user=pat, ward=ward_a, year=YEAR, reason="Sớm quá")
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    with pytest.raises(ReviewError, match="reason is required"):
        ward_reopen(user=pat, ward=ward_a, year=YEAR, reason="   ")
    assert ward_year_frozen(ward_id=ward_a.pk, year=YEAR)
    assert WardSignOff.objects.count() == 1


def test_sign_off_twice_is_refused(ward_a, bob, dave):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    with pytest.raises(ReviewError, match="already signed off"):
        ward_sign_off(user=dave, ward=ward_a, year=YEAR)
    assert WardSignOff.objects.count() == 1


def test_who_may_sign_off(ward_a, ward_b, bob, dave, pat, alice, carol, eve, mallory):
    official_b = make_user("bert", Role.OFFICIAL, ward_b)
    for user in (alice, carol, eve, mallory, official_b):
        with pytest.raises(PermissionDenied):
            ward_sign_off(user=user, ward=ward_a, year=YEAR)
    assert not WardSignOff.objects.exists()
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    ward_sign_off(user=pat, ward=ward_a, year=YEAR + 1)
    ward_sign_off(user=dave, ward=ward_b, year=YEAR)
    assert WardSignOff.objects.count() == 3


def test_signed_off_wards(ward_a, ward_b, ward_x, province, other_province, bob, dave, pat):
    ward_c = WardFactory(code="00008", name="Phường Ngọc Hà", parent=province)
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    ward_sign_off(user=dave, ward=ward_b, year=YEAR)
    ward_reopen(user=pat, ward=ward_b, year=YEAR, reason="Sửa")
    ward_sign_off(user=dave, ward=ward_c, year=YEAR + 1)
    ward_sign_off(user=dave, ward=ward_x, year=YEAR)

    signed = signed_off_wards(province_id=province.pk, year=YEAR)
    assert list(signed) == [ward_a.pk]
    assert (signed[ward_a.pk].user, signed[ward_a.pk].action) == (bob, "sign_off")
    assert list(signed_off_wards(province_id=province.pk, year=YEAR + 1)) == [ward_c.pk]
    assert list(signed_off_wards(province_id=other_province.pk, year=YEAR)) == [ward_x.pk]


# --- the figures stay exact -----------------------------------------------------------------


def test_sign_off_and_reopen_move_no_figure(world, ward_a, province, bob, pat):
    def verified() -> list[tuple]:
        assert rollup_verify(province_id=province.pk) == []
        return _figures()

    def decide(number: str, *keys: str) -> None:
        for key in keys:
            world[key].refresh_from_db()
        decision_issue(
            user=bob,
            ward=ward_a,
            year=YEAR,
            number=number,
            date=datetime.date(YEAR, 12, 1),
            registrations=[world[key] for key in keys],
        )

    start = verified()
    registration_approve(registration=world["p1"], user=bob)
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    assert verified() == start
    with pytest.raises(ReviewError, match=FROZEN):
        decide("01/QĐ", "p1", "approved")
    assert verified() == start

    ward_reopen(user=pat, ward=ward_a, year=YEAR, reason="Bổ sung quyết định")
    assert verified() == start
    decide("01/QĐ", "p1", "approved")
    decided = verified()
    assert decided != start

    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    assert verified() == decided
    ward_reopen(user=pat, ward=ward_a, year=YEAR, reason="Thêm một hộ")
    registration_approve(registration=world["p2"], user=bob)
    decide("02/QĐ", "p2")
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    final = verified()
    ward_a_family = [row for row in final if row[:4] == ("ward", ward_a.pk, YEAR, "family")]
    assert ward_a_family == [("ward", ward_a.pk, YEAR, "family", 4, 3, 0)]


# --- the ward's page ------------------------------------------------------------------------


def test_page_shows_figures_undecided_counts_and_state(client, world, ward_a, alice, carol):
    for user in (alice, carol):
        client.force_login(user)
        response = client.get(_page(ward_a))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Not signed off yet." in _text(response)
        assert 'id="signoff-form"' not in html
    family = next(r for r in response.context["rows"] if r["kind"] == "family")
    assert (family["entities"], family["registered"], family["recognized"]) == (5, 4, 0)
    assert re.search(r'<tr data-kind="family">\s*<th scope="row">Learning Family</th>', html)
    assert response.context["undecided"] == [
        {"kind": "family", "unreviewed": 3, "approved": 1, "label": "Learning Family"}
    ]
    assert response.context["undecided_total"] == 4


def test_official_signs_off_from_the_page_and_history_is_shown(client, world, ward_a, bob):
    client.force_login(bob)
    page = client.get(_page(ward_a))
    html = page.content.decode()
    assert 'id="signoff-form"' in html
    assert "4 registrations are not decided yet" in _text(page)
    assert 'id="reopen-form"' not in html

    response = client.post(_page(ward_a), {"action": "sign_off", "confirmed": "1"})
    assert response.status_code == 302
    assert response["Location"] == _page(ward_a)
    assert _messages(response) == [f"The figures of {ward_a.name} for {YEAR} are signed off."]
    assert ward_year_frozen(ward_id=ward_a.pk, year=YEAR)

    page = client.get(_page(ward_a))
    html, text = page.content.decode(), _text(page)
    assert 'data-state="signed_off"' in html
    assert "Signed off by bob" in text
    assert 'id="signoff-form"' not in html
    assert 'id="reopen-form"' not in html
    assert re.search(r'<tr data-action="sign_off">.*?bob', html, flags=re.S)

    again = client.post(_page(ward_a), {"action": "sign_off", "confirmed": "1"})
    assert "already signed off" in _messages(again)[0]
    assert WardSignOff.objects.count() == 1


def test_province_admin_reopens_from_the_page(client, ward_a, bob, pat):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    client.force_login(pat)
    assert 'id="reopen-form"' in client.get(_page(ward_a)).content.decode()

    empty = client.post(_page(ward_a), {"action": "reopen", "reason": "  "})
    assert empty.status_code == 200
    assert "Write why the figures are reopened." in _text(empty)
    assert ward_year_frozen(ward_id=ward_a.pk, year=YEAR)

    response = client.post(_page(ward_a), {"action": "reopen", "reason": "Sai số liệu"})
    assert response.status_code == 302
    assert _messages(response) == [f"The figures of {ward_a.name} for {YEAR} are reopened."]
    assert not ward_year_frozen(ward_id=ward_a.pk, year=YEAR)
    page = client.get(_page(ward_a))
    html = page.content.decode()
    assert 'data-state="reopened"' in html
    assert re.search(r'<tr data-action="reopen">.*?pat.*?Sai số liệu', html, flags=re.S)
    assert 'id="signoff-form"' in html  # a province admin may sign off again


def test_official_cannot_reopen_from_the_page(client, ward_a, bob):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    client.force_login(bob)
    response = client.post(_page(ward_a), {"action": "reopen", "reason": "Muốn sửa"})
    assert response.status_code == 403
    assert ward_year_frozen(ward_id=ward_a.pk, year=YEAR)


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_read_only_roles_get_403_on_post(client, ward_a, who, request):
    client.force_login(request.getfixturevalue(who))
    for data in ({"action": "sign_off"}, {"action": "reopen", "reason": "x"}, {}):
        assert client.post(_page(ward_a), data).status_code == 403
    assert not WardSignOff.objects.exists()


@pytest.mark.parametrize("who", ["eve", "mallory", "nobody"])
def test_outsiders_get_404(client, ward_a, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_page(ward_a)).status_code == 404
    assert client.post(_page(ward_a), {"action": "sign_off"}).status_code == 404
    assert not WardSignOff.objects.exists()


def test_anonymous_is_sent_to_login_and_bad_years_are_404(client, ward_a, bob):
    response = client.get(_page(ward_a))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    client.force_login(bob)
    assert client.get(_page(ward_a, 1999)).status_code == 404
    assert client.get(_page(ward_a, 2101)).status_code == 404


def test_review_pages_tell_why_a_frozen_registration_cannot_be_decided(client, world, ward_a, bob):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    client.force_login(bob)
    p1 = world["p1"]
    response = client.post(reverse("registration_approve", args=[p1.pk]), {"version": p1.version})
    assert response.status_code == 302
    assert FROZEN in _messages(response)[0]
    p1.refresh_from_db()
    assert p1.state == State.EVALUATED

    url = f"{reverse('decision_create')}?ward={ward_a.code}&year={YEAR}"
    response = client.post(
        url,
        {
            "number": "01/QĐ-UBND",
            "date": f"{YEAR}-12-01",
            "registrations": [world["approved"].pk],
            "confirmed": "1",
        },
    )
    assert response.status_code == 200
    assert FROZEN in _text(response)
    assert not Decision.objects.exists()


# --- the province's overview ----------------------------------------------------------------


def test_overview_lists_the_wards_in_scope(client, ward_a, ward_b, ward_x, bob, carol):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    client.force_login(carol)
    response = client.get(reverse("signoff_overview"), {"year": YEAR})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(rf'data-ward="{ward_a.code}" data-signed-off="yes">.*?bob', html, flags=re.S)
    assert f'data-ward="{ward_b.code}" data-signed-off="no"' in html
    assert ward_x.code not in html
    assert "1 of 2 communes/wards signed off" in _text(response)

    other_year = client.get(reverse("signoff_overview"), {"year": YEAR + 1})
    assert f'data-ward="{ward_a.code}" data-signed-off="no"' in other_year.content.decode()


def test_overview_queries_do_not_grow_with_the_wards(client, province, carol, dave):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("signoff_overview"), {"year": YEAR}).status_code == 200
        return len(captured)

    client.force_login(carol)
    ward = WardFactory(code="00101", parent=province)
    ward_sign_off(user=dave, ward=ward, year=YEAR)
    few = queries()
    for n in range(2, 7):
        ward = WardFactory(code=f"0010{n}", parent=province)
        ward_sign_off(user=dave, ward=ward, year=YEAR)
    assert queries() == few


def test_overview_for_a_global_admin_asks_for_the_province(client, ward_a, ward_x, dave):
    client.force_login(dave)
    pick = client.get(reverse("signoff_overview"), {"year": YEAR})
    assert pick.status_code == 200
    assert "Choose a province." in _text(pick)
    response = client.get(reverse("signoff_overview"), {"year": YEAR, "province": "17"})
    html = response.content.decode()
    assert f'data-ward="{ward_x.code}"' in html
    assert f'data-ward="{ward_a.code}"' not in html


def test_overview_sends_ward_users_to_their_ward_and_hides_from_outsiders(
    client, ward_a, bob, nobody
):
    client.force_login(bob)
    response = client.get(reverse("signoff_overview"), {"year": YEAR})
    assert response.status_code == 302
    assert response["Location"] == _page(ward_a)
    client.force_login(nobody)
    assert client.get(reverse("signoff_overview")).status_code == 404


# --- at the same moment (PostgreSQL) --------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks and two connections"
)


def _race(first, second) -> dict[str, object]:
    """Run `first` in a transaction that stays open while `second` starts, then commits.

    Returns each one's outcome ("done" or the exception it raised) and, as "committing", the
    time just before the first one commits.
    """
    started, waiting = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def run_first():
        try:
            with transaction.atomic():
                first()
                started.set()
                waiting.wait(5)
                time.sleep(0.3)  # keep the ward locked while the second one waits on it
                outcome["committing"] = timezone.now()
            outcome["first"] = "done"
        except Exception as exc:  # noqa: BLE001 - reported to the main thread
            outcome["first"] = exc
        finally:
            started.set()
            connections.close_all()

    def run_second():
        started.wait(5)
        waiting.set()
        try:
            second()
            outcome["second"] = "done"
        except Exception as exc:  # noqa: BLE001 - reported to the main thread
            outcome["second"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return outcome


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sign_offs_at_once_exactly_one_wins(ward_a, bob, dave):
    outcome = _race(
        lambda: ward_sign_off(user=bob, ward=ward_a, year=YEAR),
        lambda: ward_sign_off(user=dave, ward=ward_a, year=YEAR),
    )
    assert outcome["first"] == "done"
    assert isinstance(outcome["second"], ReviewError)
    assert "already signed off" in str(outcome["second"])
    assert list(WardSignOff.objects.values_list("user__username", flat=True)) == ["bob"]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_approval_racing_a_sign_off_is_refused(world, ward_a, bob, dave):
    seen = Registration.objects.get(pk=world["p1"].pk)
    outcome = _race(
        lambda: ward_sign_off(user=bob, ward=ward_a, year=YEAR),
        lambda: registration_approve(registration=seen, user=dave),
    )
    assert outcome["first"] == "done"
    assert isinstance(outcome["second"], ReviewError)
    assert FROZEN in str(outcome["second"])
    assert Registration.objects.get(pk=seen.pk).state == State.EVALUATED


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_sign_off_waits_for_a_decision_in_progress(world, ward_a, province, bob, dave):
    approved = Registration.objects.get(pk=world["approved"].pk)
    outcome = _race(
        lambda: decision_issue(
            user=dave,
            ward=ward_a,
            year=YEAR,
            number="01/QĐ-UBND",
            date=datetime.date(YEAR, 12, 1),
            registrations=[approved],
        ),
        lambda: ward_sign_off(user=bob, ward=ward_a, year=YEAR),
    )
    assert (outcome["first"], outcome["second"]) == ("done", "done")
    signoff = WardSignOff.objects.get()
    assert signoff.at > outcome["committing"]  # it waited for the decision to commit
    assert Registration.objects.get(pk=approved.pk).state == State.RECOGNIZED
    assert rollup_verify(province_id=province.pk) == []


def test_no_new_registration_in_a_signed_off_ward_year(ward_a, bob, dave):
    """Registering moves the registered figure, so a signed-off year takes no new ones."""
    from titles.services.registrations import registration_create, registrations_register_area

    area = make_community(ward_a, code="SO-A")
    family = make_family(ward_a, code="SO-F", community=area)
    ward_sign_off(user=bob, ward=ward_a, year=2031)
    with pytest.raises(ReviewError):
        registration_create(user=dave, entity=family.entity, year=2031)
    with pytest.raises(ReviewError):
        registrations_register_area(user=dave, community=area, year=2031)
    assert not Registration.objects.filter(year=2031).exists()


def test_evaluation_leaves_a_signed_off_ward_year_as_it_was(ward_a, ward_b, bob, eve):
    load(FAMILY_DOC)
    frozen = registration(make_family(ward_a, code="EV-A").entity, year=2030, evidence={"F1": "1"})
    open_ = registration(make_family(ward_b, code="EV-B").entity, year=2030, evidence={"F1": "1"})
    ward_sign_off(user=bob, ward=ward_a, year=2030)
    run = registrations_evaluate(year=2030)
    frozen.refresh_from_db()
    open_.refresh_from_db()
    assert frozen.state == State.REGISTERED and frozen.points is None
    assert open_.state == State.EVALUATED
    assert [row.registration_id for row in run.rows] == [open_.pk]


def test_the_city_dashboard_marks_a_signed_off_ward_in_its_table(client, world, ward_a, bob, pat):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    client.force_login(pat)
    html = client.get(reverse("dashboard"), {"year": YEAR}).content.decode()
    row = re.search(rf'<tr data-unit="{ward_a.code}">(.*?)</tr>', html, re.S).group(1)
    with translation.override("en"):
        today = date_format(timezone.localdate(), "SHORT_DATE_FORMAT")
    assert f'<td><span class="signed-off" title="{today}">✓ Signed off</span></td>' in row
