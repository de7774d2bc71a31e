"""The groups, members and activities imports on generated files: headers shuffled, missing,
repeated or aliased, cells valid or hostile. Every file gets a report; with an error (or on a
dry run) nothing is written, not even a summary row; what a clean import writes is the cells'
text as written (trimmed), and the summaries then match the detail rows."""

from __future__ import annotations

import io

from hypothesis import event, given
from hypothesis import strategies as st

from community.models import Activity, ActivityCitizen, ActivitySummary, Group, GroupTally, Member
from community.services.groups import group_create
from community.services.imports import IMPORT_KINDS, KINDS, community_import
from community.services.summaries import summaries_verify
from registry.imports.report import ImportReport
from registry.spreadsheets import match_key
from tests.fuzz.conftest import rolled_back
from tests.fuzz.files import XLSX_UNSAFE, csv_bytes, xlsx_bytes
from tests.fuzz.strategies import NUL, examples, hostile_text, long_text

_GOOD: dict[str, list[object]] = {
    "ward": ["00070", "70", 70],
    "code": ["G1", "NEW1", "=1+1", " sp ace ", "<i>c</i>"],
    "group": ["G1", "NOPE"],
    "ref": ["R1", "@ref", "-1"],
    "name": ["Tổ công nghệ số 1", "<script>alert(1)</script>", "'; DROP TABLE x; --"],
    "full_name": ["Lê Thị Hoa", "陳 Ткач محمد", "+84 Trần"],
    "group_type": ["digital_team", "tổ lưu động", "CLB phát triển cộng đồng", "other", "x"],
    "community": ["TDP1", "", "NOPE"],
    "citizen": ["CD1", "", "CD9"],
    "citizens": ["CD1", "CD1; CD1", "", "CD1;NOPE"],
    "founded": ["15/03/2025", "2025-03-15", "", "31/02/2025", "2999-01-01"],
    "joined": ["01/01/2024", "", "bad"],
    "left": ["01/01/2023", "", "31/12/2025"],
    "date": ["01/06/2025", "2025-06-02", "2999-01-01", "hôm qua"],
    "leader_name": ["Trần Văn Ơn", "", '=HYPERLINK("x")'],
    "role": ["tổ trưởng", ""],
    "activity_type": ["home_visit", "lớp học", "mobile_point", "dance"],
    "participants": [3, "10", 4.0, -1, "2.5"],
    "people_helped": ["", 1, 0, "5"],
    "services": ["vneid;etax", "VNeID, iHanoi", "", "facebook"],
    "dossiers": [0, "2", ""],
    "note": ["", "=cmd|' /C calc'!A0", "ghi chú"],
}
_EXTRA_HEADERS = ["note2", "Ghi chú khác", "=SUM(A1)", NUL]


def _cell(column: str) -> st.SearchStrategy[object]:
    return st.one_of(
        st.sampled_from(_GOOD.get(column, [""])),
        hostile_text(max_size=40),
        long_text(64 if column in ("code", "ward", "group", "ref") else 255),
        st.integers(-(10**10), 10**10),
        st.none(),
    )


def snapshot() -> tuple:
    return (
        sorted(Group.objects.values_list("ward_id", "code", "name", "group_type", "search_text")),
        sorted(Member.objects.values_list("group_id", "code", "full_name", "left")),
        sorted(Activity.objects.values_list("group_id", "ref", "date", "participants")),
        ActivityCitizen.objects.count(),
        sorted(ActivitySummary.objects.values_list("ward_id", "year", "group_type", "activities")),
        sorted(GroupTally.objects.values_list("ward_id", "group_type", "groups", "members")),
    )


@st.composite
def files(draw):
    kind = draw(st.sampled_from(KINDS))
    columns = IMPORT_KINDS[kind].columns
    names = [c.name for c in columns]
    if draw(st.booleans()):
        header = draw(st.permutations(names))
        rows = [
            [
                f"N{index}-{draw(hostile_text(max_size=20, nul=False))}"[:64]
                if column in ("code", "ref")
                else draw(st.sampled_from(_GOOD[column]))
                for column in header
            ]
            for index in range(draw(st.integers(1, 4)))
        ]
        return kind, [list(header), *rows]
    choices = [*names, *(a for c in columns for a in c.aliases), *_EXTRA_HEADERS]
    header = draw(
        st.one_of(
            st.permutations(names),
            st.lists(st.sampled_from(choices), min_size=1, max_size=8),
        )
    )
    by_key = {match_key(n): c.name for c in columns for n in (c.name, *c.aliases)}
    mapped = [by_key.get(match_key(str(h)), "x") for h in header]
    rows = draw(st.lists(st.tuples(*(_cell(c) for c in mapped)).map(list), min_size=1, max_size=5))
    return kind, [list(header), *rows]


def _file(rows: list[list[object]], filename: str) -> tuple[bytes, list[list[object]]]:
    if filename.endswith(".xlsx"):
        clean = [[XLSX_UNSAFE.sub("", c) if isinstance(c, str) else c for c in r] for r in rows]
        return xlsx_bytes(clean), clean
    text_rows = [["" if c is None else c for c in row] for row in rows]
    return csv_bytes(text_rows), text_rows


def _trimmed(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell).strip()


@examples(70)
@given(
    generated=files(),
    filename=st.sampled_from(["groups.csv", "groups.xlsx"]),
    dry_run=st.booleans(),
    as_staff=st.booleans(),
)
def test_community_imports_report_or_store_verbatim(
    registry_a, alice, generated, filename, dry_run, as_staff
):
    kind, rows = generated
    data, table = _file(rows, filename)
    with rolled_back():
        group_create(
            ward=registry_a["community"].entity.ward,
            code="G1",
            name="Nhóm có sẵn",
            group_type="other",
        )
        before = snapshot()
        report = community_import(
            file=io.BytesIO(data),
            filename=filename,
            kind=kind,
            dry_run=dry_run,
            user=alice if as_staff else None,
        )
        assert isinstance(report, ImportReport)
        event("refused" if report.errors else "dry run" if dry_run else "written")
        for error in report.errors:
            assert isinstance(error.row, int) and error.row >= 0
            assert isinstance(error.reason, str) and error.reason.strip()
        if report.errors or dry_run:
            assert snapshot() == before, "a refused file or a dry run wrote something"
            return
        assert summaries_verify() == []
        if kind != "groups":
            return
        columns = IMPORT_KINDS[kind].columns
        by_key = {match_key(n): c.name for c in columns for n in (c.name, *c.aliases)}
        header = [by_key.get(match_key(_trimmed(h))) for h in table[0]]
        code_at, name_at = header.index("code"), header.index("name")
        for row in table[1:]:
            if all(_trimmed(c) == "" for c in row):
                continue
            group = Group.objects.get(ward__code="00070", code=_trimmed(row[code_at]))
            assert group.name == _trimmed(row[name_at])
