"""What the audit log captures: logins, object changes with their fields, commands as actors,
one summary per bulk change, and nothing for a change that was rolled back."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from audit.context import Actor, acting
from audit.models import AuditEntry
from registry.models import Association, Community, Entity, Family, Grant, Kind
from registry.services.entities import entity_create
from tests.factories import make_community, make_family
from tests.titles.factories import FAMILY_DOC, load, registration
from titles.models import Registration, State, WardSignOff
from titles.services.evaluate import registrations_evaluate
from titles.services.imports import registrations_import
from titles.services.registrations import evidence_save, registrations_register_area
from titles.services.review import (
    decision_issue,
    registration_approve,
    registration_reject,
    registrations_approve_passed,
)
from titles.services.signoff import ward_reopen, ward_sign_off

PASSWORD = "secret-pass-123"
Action = AuditEntry.Action


def _entries(**filters):
    return list(AuditEntry.objects.filter(**filters).order_by("pk"))


# --- logins -----------------------------------------------------------------------------------


def test_login_failed_login_and_logout_with_address(client, alice):
    client.post("/accounts/login/", {"username": "alice", "password": "x"}, REMOTE_ADDR="10.1.2.3")
    client.post("/accounts/login/", {"username": "ghost", "password": "x"}, REMOTE_ADDR="10.1.2.3")
    client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.1.2.4"
    )
    client.post("/accounts/logout/", REMOTE_ADDR="10.1.2.4")
    rows = [
        (e.action, e.username, e.user_id, e.ip)
        for e in _entries(action__in=[Action.LOGIN, Action.LOGIN_FAILED, Action.LOGOUT])
    ]
    assert rows == [
        (Action.LOGIN_FAILED, "alice", alice.pk, "10.1.2.3"),
        (Action.LOGIN_FAILED, "ghost", None, "10.1.2.3"),
        (Action.LOGIN, "alice", alice.pk, "10.1.2.4"),
        (Action.LOGOUT, "alice", alice.pk, "10.1.2.4"),
    ]
    # The login's own save of last_login is not a change worth a row.
    assert not AuditEntry.objects.filter(
        action=Action.UPDATE, content_type__model="user", username="alice"
    )
    # Logins of a ward's user belong to its province (what its administrators see).
    assert {e.province_id for e in _entries(username="alice")} == {alice.grant.unit.parent_id}


def test_behind_the_proxy_the_proxy_s_address_is_believed(client, alice, settings):
    settings.BEHIND_TLS_PROXY = True
    client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7",
    )
    assert AuditEntry.objects.get(action=Action.LOGIN).ip == "203.0.113.7"


# --- object changes through the pages ------------------------------------------------------------


def test_create_and_edit_through_the_pages_name_user_fields_and_province(client, alice, ward_a):
    area = make_community(ward_a)
    client.force_login(alice)
    response = client.post(
        "/registry/families/new/?ward=00070",
        {"code": "H1", "head_name": "Nguyễn Văn An", "members": 4, "community": area.entity.code},
        REMOTE_ADDR="10.9.9.9",
    )
    assert response.status_code == 302, response.content.decode()
    family = Family.objects.get(entity__code="H1")
    created = _entries(action=Action.CREATE, username="alice")
    assert {e.content_type.model for e in created} == {"entity", "family"}
    entity_entry = next(e for e in created if e.content_type.model == "entity")
    assert entity_entry.object_id == str(family.pk)
    assert entity_entry.changes["name"] == [None, "Nguyễn Văn An"]
    assert entity_entry.changes["code"] == [None, "H1"]
    assert "search_text" not in entity_entry.changes  # derived, not entered
    assert (entity_entry.user, entity_entry.ip) == (alice, "10.9.9.9")
    assert entity_entry.province_id == ward_a.parent_id

    client.post(
        f"/registry/families/{family.pk}/edit/",
        {"head_name": "Nguyễn Văn Bình", "members": 5, "community": area.entity.code},
    )
    updates = _entries(action=Action.UPDATE, username="alice")
    changed = {e.content_type.model: e.changes for e in updates}
    assert changed["entity"] == {"name": ["Nguyễn Văn An", "Nguyễn Văn Bình"]}
    assert changed["family"] == {"members": [4, 5]}


def test_save_without_changes_writes_no_entry(ward_a):
    area = make_community(ward_a)
    before = AuditEntry.objects.count()
    area.save()
    area.entity.save()
    assert AuditEntry.objects.count() == before


def test_delete_keeps_the_last_values(ward_a):
    association = Association.objects.create(
        name="Hội Khuyến học phường",
        level="ward",
        admin_unit=ward_a,
        parent=Association.objects.create(
            name="Hội tỉnh", level="province", admin_unit=ward_a.parent
        ),
    )
    pk = association.pk
    association.delete()
    entry = AuditEntry.objects.get(action=Action.DELETE)
    assert entry.object_id == str(pk)
    assert entry.changes["name"] == ["Hội Khuyến học phường", None]
    assert entry.province_id == ward_a.parent_id


def test_a_rolled_back_change_leaves_no_entry(ward_a):
    area = make_community(ward_a)
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        entity_create(
            kind=Kind.FAMILY, ward=ward_a, code="R1", name="Lê Văn Rơi", members=2, community=area
        )
        assert AuditEntry.objects.count() == before + 2
        raise RuntimeError
    assert AuditEntry.objects.count() == before
    assert not Entity.objects.filter(code="R1").exists()


def test_a_failed_request_leaves_no_entry(client, alice, ward_a, monkeypatch):
    """ATOMIC_REQUESTS: a view that fails after writing rolls back its audit entries too."""
    from registry import views

    area = make_community(ward_a)

    def fail(*args, **kwargs):
        raise RuntimeError("after the write")

    monkeypatch.setattr(views, "redirect", fail)
    client.force_login(alice)
    before = AuditEntry.objects.count()
    client.raise_request_exception = False
    response = client.post(
        "/registry/families/new/?ward=00070",
        {"code": "H9", "head_name": "Trần Văn Lỗi", "members": 1, "community": area.entity.code},
    )
    assert response.status_code == 500
    assert not Entity.objects.filter(code="H9").exists()
    assert AuditEntry.objects.count() == before


# --- commands -----------------------------------------------------------------------------------


def test_a_command_is_the_actor_when_no_user_acts(ward_a):
    call_command(
        "grant",
        "zoe",
        "staff",
        "00070",
        "--password",
        "Mot-mat-khau-dai-2025",
        stdout=io.StringIO(),
    )
    entries = _entries(command="grant")
    assert {e.content_type.model for e in entries} >= {"user", "grant"}
    assert all(e.user is None and e.username == "" for e in entries)
    assert entries[0].actor == "manage.py grant"
    user_entry = next(
        e for e in entries if e.content_type.model == "user" and e.action == Action.CREATE
    )
    assert user_entry.changes["password"] == [None, "••••••"]
    assert Grant.objects.get(user__username="zoe").role == "staff"


def test_an_acting_command_is_not_replaced_by_one_it_runs(alice):
    before = AuditEntry.objects.order_by("pk").last().pk
    with acting(Actor(command="outer")), acting(Actor(command="inner")):
        make_community(alice.grant.unit, code="C1")
    assert {e.command for e in _entries(pk__gt=before)} == {"outer"}


# --- registrations: single steps through events, bulk steps summarised -------------------------


@pytest.fixture
def evaluated(ward_a):
    load(FAMILY_DOC)
    passing = registration(make_family(ward_a, code="P").entity, evidence={"F1": "1", "F2": "2"})
    failing = registration(make_family(ward_a, code="N").entity, evidence={"F2": "5"})
    registrations_evaluate(year=2025)
    passing.refresh_from_db()
    failing.refresh_from_db()
    return passing, failing


def test_evaluation_is_summarised_per_transaction(evaluated, ward_a):
    entry = AuditEntry.objects.get(action=Action.BULK, detail__operation="evaluate")
    assert entry.detail == {
        "operation": "evaluate",
        "year": 2025,
        "kind": "family",
        "evaluated": 2,
        "wards": ["00070"],
    }
    assert entry.province_id == ward_a.parent_id
    assert entry.content_type.model == "registration"
    # Evaluating again changes nothing and logs nothing.
    registrations_evaluate(year=2025)
    assert AuditEntry.objects.filter(detail__operation="evaluate").count() == 1


def test_single_review_steps_are_logged_on_the_registration(evaluated, bob):
    passing, failing = evaluated
    with acting(Actor(command="test")):
        registration_approve(registration=passing, user=bob)
        registration_reject(registration=failing, user=bob, reason="Thiếu minh chứng")
    approve, reject = _entries(action=Action.UPDATE, content_type__model="registration")
    assert (approve.object_id, approve.changes) == (
        str(passing.pk),
        {"state": ["evaluated", "approved"]},
    )
    assert reject.changes == {"state": ["evaluated", "rejected"]}
    assert reject.detail == {"event": "state", "reason": "Thiếu minh chứng"}


def test_evidence_change_is_logged_from_to(ward_a, alice):
    load(FAMILY_DOC)
    reg = registration(make_family(ward_a, code="E").entity, evidence={"F2": "2"})
    evidence_save(registration=reg, values={"F1": "1", "F2": "3", "F3": ""}, user=alice)
    entry = AuditEntry.objects.get(action=Action.UPDATE, content_type__model="registration")
    # Evidence entered on a form submits the registration; a yes/no is stored in its plain form.
    assert entry.changes == {
        "state": ["registered", "submitted"],
        "evidence": [{"F2": "2"}, {"F1": "yes", "F2": "3"}],
    }
    assert entry.detail == {"event": "evidence"}


def test_bulk_approval_and_decision_get_one_summary_each(evaluated, bob, ward_a):
    passing, _failing = evaluated
    registrations_approve_passed(user=bob, ward=ward_a, year=2025)
    passing.refresh_from_db()
    decision_issue(
        user=bob,
        ward=ward_a,
        year=2025,
        number="12/QĐ-UBND",
        date=datetime.date(2025, 12, 10),
        registrations=[passing],
    )
    approval = AuditEntry.objects.get(detail__operation="registrations_approve_passed")
    assert approval.detail == {
        "operation": "registrations_approve_passed",
        "year": 2025,
        "kind": "",
        "approved": 1,
        "skipped": 0,
        "wards": ["00070"],
    }
    decided = AuditEntry.objects.get(detail__operation="decision_issue")
    assert decided.detail["decision"] == "12/QĐ-UBND" and decided.detail["recognized"] == 1
    assert decided.province_id == ward_a.parent_id
    # The decision row itself and each registration's move are there too.
    assert AuditEntry.objects.filter(action=Action.CREATE, content_type__model="decision").exists()
    assert AuditEntry.objects.filter(
        content_type__model="registration",
        object_id=str(passing.pk),
        changes__state=["approved", "recognized"],
    ).exists()


def test_register_area_is_summarised(ward_a, alice):
    from titles.models import RegistrationWindow

    year = datetime.date.today().year
    area = make_community(ward_a)
    make_family(ward_a, code="A1", community=area)
    make_family(ward_a, code="A2", community=area)
    RegistrationWindow.objects.create(
        province=ward_a.parent,
        year=year,
        opens_on=datetime.date(year, 1, 1),
        closes_on=datetime.date(year, 12, 31),
    )
    registrations_register_area(user=alice, community=area, year=year)
    entry = AuditEntry.objects.get(detail__operation="registrations_register_area")
    assert entry.detail["registered"] == 2 and entry.detail["area"] == area.entity.code
    assert entry.detail["wards"] == ["00070"] and entry.detail["year"] == year


def test_sign_off_and_reopen_are_logged(ward_a, bob, dave):
    ward_sign_off(user=bob, ward=ward_a, year=2025)
    ward_reopen(user=dave, ward=ward_a, year=2025, reason="Sửa số liệu")
    rows = _entries(action=Action.CREATE, content_type__model="wardsignoff")
    assert [r.changes["action"][1] for r in rows] == [
        WardSignOff.Action.SIGN_OFF,
        WardSignOff.Action.REOPEN,
    ]
    assert rows[1].changes["reason"] == [None, "Sửa số liệu"]
    assert {r.province_id for r in rows} == {ward_a.parent_id}


# --- imports ------------------------------------------------------------------------------------


def test_registry_import_command_gets_one_summary_with_the_file(ward_a, tmp_path):
    path = tmp_path / "areas.csv"
    path.write_text("ward,code,name\n00070,T1,Tổ 1\n00070,T2,Tổ 2\n", encoding="utf-8")
    call_command("import_registry", str(path), "--kind", "communities", stdout=io.StringIO())
    entry = AuditEntry.objects.get(action=Action.BULK)
    assert entry.command == "import_registry"
    assert entry.detail == {
        "operation": "registry_import",
        "kind": "communities",
        "file": "areas.csv",
        "created": 2,
        "updated": 0,
        "wards": ["00070"],
    }
    assert entry.content_type.model == "community"
    assert Community.objects.count() == 2
    # The bulk write sent no per-row signals: two rows imported, one entry.
    assert (
        AuditEntry.objects.filter(action=Action.CREATE, content_type__model="entity").count() == 0
    )


def test_dry_run_and_failed_import_log_nothing(ward_a, tmp_path):
    path = tmp_path / "areas.csv"
    path.write_text("ward,code,name\n00070,T1,Tổ 1\n", encoding="utf-8")
    call_command(
        "import_registry", str(path), "--kind", "communities", "--dry-run", stdout=io.StringIO()
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("ward,code,name\n00070,T1,\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command(
            "import_registry",
            str(bad),
            "--kind",
            "communities",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not AuditEntry.objects.filter(action=Action.BULK).exists()


def test_registrations_import_gets_one_summary(ward_a, alice):
    load(FAMILY_DOC)
    make_family(ward_a, code="H1")
    report = registrations_import(
        file=io.BytesIO(b"kind,ward,code,c.F1\nfamily,00070,H1,1\n"),
        filename="dang-ky.csv",
        year=2025,
        dry_run=False,
    )
    assert report.ok, report.errors
    entry = AuditEntry.objects.get(action=Action.BULK)
    assert entry.detail == {
        "operation": "registrations_import",
        "year": 2025,
        "file": "dang-ky.csv",
        "created": 1,
        "updated": 0,
        "wards": ["00070"],
    }
    # A registration imported with evidence counts as submitted.
    assert Registration.objects.get().state == State.SUBMITTED


def test_targets_load_is_summarised(province, tmp_path):
    path = tmp_path / "targets.csv"
    path.write_text("unit,kind,year,min_rate,max_rate\n01,family,2025,70,80\n", encoding="utf-8")
    call_command("load_targets", str(path), stdout=io.StringIO())
    entry = AuditEntry.objects.get(action=Action.BULK)
    assert (entry.command, entry.detail["created"]) == ("load_targets", 1)


@pytest.mark.django_db
def test_generate_demo_is_summarised_not_logged_row_by_row():
    call_command(
        "generate_demo",
        "--province",
        "12",
        "--households",
        "200",
        "--seed",
        "1",
        stdout=io.StringIO(),
    )
    operations = {e.detail["operation"]: e for e in AuditEntry.objects.filter(action=Action.BULK)}
    registry_demo = operations["demo_generate"]
    assert (registry_demo.command, registry_demo.detail["households"]) == ("generate_demo", 200)
    titles_demo = operations["titles_demo_generate"]
    assert titles_demo.province_id == registry_demo.province_id is not None
    # Thousands of rows were written; the log holds summaries, not a row each.
    assert Entity.objects.count() > 200
    assert not AuditEntry.objects.filter(content_type__model="entity").exclude(action=Action.BULK)
