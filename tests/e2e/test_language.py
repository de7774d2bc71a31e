"""The untranslated-English check the journeys run on every page, and the rule for scripts.

No browser here: what the journeys read on pages is checked by `tests.e2e.language`, tested
below on text like theirs; the scripts under static/js are read as source.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.language import (
    Entry,
    english_words_of,
    find_english,
    kept_english,
    read_po,
    untranslated_words,
)

STATIC_JS = Path(__file__).resolve().parents[2] / "static" / "js"

PO_SAMPLE = r'''# A comment.
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"

msgid "Save evidence"
msgstr "Lưu minh chứng"

#, python-format
msgid "Imported: %(created)d new households"
msgstr "Đã nhập: %(created)d hộ mới"

msgid "Email"
msgstr "Email"

#, fuzzy
msgid "Pending review"
msgstr "Chờ duyệt"

msgid ""
"Choose a file "
"again"
msgstr ""

msgid "“%(value)s” is not a kind: family or clan"
msgstr "“%(value)s” không phải là loại hợp lệ: family hoặc clan"

msgid "Learning family"
msgstr "Gia đình học tập"

msgid "%(total)s entry"
msgid_plural "%(total)s entries"
msgstr[0] "%(total)s mục"

#~ msgid "Obsolete label"
#~ msgstr "Nhãn cũ"
'''


@pytest.fixture
def sample_po(tmp_path):
    path = tmp_path / "django.po"
    path.write_text(PO_SAMPLE, encoding="utf-8")
    return path


def test_read_po_reads_entries_flags_continuations_and_plurals(sample_po):
    entries = {entry.msgid: entry for entry in read_po(sample_po)}
    assert "" not in entries and "Obsolete label" not in entries
    assert entries["Save evidence"] == Entry("Save evidence", "", ("Lưu minh chứng",), False)
    assert entries["Choose a file again"].msgstrs == ("",)
    assert not entries["Choose a file again"].translated
    assert entries["Pending review"].fuzzy and not entries["Pending review"].translated
    assert entries["%(total)s entry"].msgid_plural == "%(total)s entries"
    assert entries["%(total)s entry"].msgstrs == ("%(total)s mục",)


def test_untranslated_words_of_a_catalogue(sample_po):
    words = untranslated_words(sample_po)
    # Translated, untranslated and fuzzy messages all give their English words …
    assert {"save", "evidence", "imported", "households", "choose", "file", "again"} <= words
    assert {"pending", "review", "entry", "entries"} <= words
    # … but not placeholders, short words, words a translation keeps as they are (the codes in
    # "family hoặc clan", "Email" translated as itself), unless another message translates them.
    assert not {"created", "total", "value", "new", "a", "is"} & words
    assert not {"email", "clan"} & words
    assert {"learning", "family"} <= words


def test_text_a_translation_gives_is_never_untranslated(sample_po):
    assert kept_english(sample_po) == ("” không phải là loại hợp lệ: family hoặc clan",)
    message = "“gia đình” không phải là loại hợp lệ: family hoặc clan"
    assert find_english([message], path=sample_po) == []
    found = find_english(["Loại: family", "Learning family"], path=sample_po)
    assert [(f.word, f.context) for f in found] == [
        ("family", "Loại: family"),
        ("Learning", "Learning family"),
        ("family", "Learning family"),
    ]


def test_the_project_catalogue_gives_a_useful_list():
    words = untranslated_words()
    assert len(words) > 300
    assert {"save", "registration", "evidence", "household", "dashboard", "cancel"} <= words
    # Vietnamese written without diacritics never counts as English.
    assert not {"trong", "theo", "thanh", "minh"} & words


def test_english_words_of_keeps_words_whole():
    assert english_words_of("Nguyễn Văn Long — Save the %(name)s <b>file</b>") == {
        "long",
        "save",
        "file",
    }


def test_find_english_reports_untranslated_labels():
    found = find_english(["Lưu", "Save evidence", "Tên chủ hộ", "Hộ gia đình: Registration 2026"])
    assert [(f.word, f.context) for f in found] == [
        ("Save", "Save evidence"),
        ("evidence", "Save evidence"),
        ("Registration", "Hộ gia đình: Registration 2026"),
    ]


def test_find_english_leaves_data_codes_and_addresses_alone():
    texts = [
        "Hộ gia đình HGD31 — Nguyễn Văn Long",
        "Bộ tiêu chí (VN-FAMILY-448)",
        "Mở http://localhost:8000/titles/self/abc/ trên điện thoại",
        "Ghi chú: Registry Long",
    ]
    assert find_english(texts, data=("Long", "Registry Long")) == []
    assert [f.word for f in find_english(["Ghi chú: Registry Long"], data=("Long",))] == [
        "Registry"
    ]


# --- scripts ----------------------------------------------------------------------------------

# Where a script puts text in front of the user: assignments to text properties and attributes,
# DOM insertion calls, dialogs, and Chart.js labels. What goes there must come from the page (a
# translated data attribute, the page's JSON data) or a catalogue, never a string literal.
_SINKS = re.compile(
    r"""\.(?:textContent|innerText|innerHTML|outerHTML|nodeValue|title|placeholder|alt)
        \s*\+?=\s*(?P<assigned>[^;]+)
      | \b(?:createTextNode|insertAdjacentText|insertAdjacentHTML|alert|confirm|prompt
            |append|prepend|replaceChildren|replaceWith|before|after)\s*\((?P<call>[^;]*)\)
      | \bsetAttribute\(\s*["'](?:aria-label|aria-description|title|placeholder|alt|value)["']
        \s*,(?P<attribute>[^;]+)
      | \b(?:label|text|title)\s*:\s*(?P<option>[^,\n}]+)""",
    re.VERBOSE,
)
# Reading the page is where translated text comes from: getAttribute("data-…") and friends.
_PAGE_LOOKUPS = re.compile(
    r"""\b(?:getAttribute|getElementById|querySelector(?:All)?|closest|dataset)\s*\([^)]*\)"""
)
_LITERAL = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`""")


def script_text_literals(source: str) -> list[str]:
    """The string literals with words in them that a script puts in front of the user."""
    found = []
    for match in _SINKS.finditer(source):
        expression = next(group for group in match.groups() if group is not None)
        for literal in _LITERAL.findall(_PAGE_LOOKUPS.sub("", expression)):
            if re.search(r"[^\W\d_]{2,}", literal):
                found.append(literal)
    return found


def test_script_rule_catches_hard_coded_text():
    assert script_text_literals('status.textContent = "Copied";') == ['"Copied"']
    assert script_text_literals("el.setAttribute('aria-label', 'Sort by ' + name);") == [
        "'Sort by '"
    ]
    assert script_text_literals('list.append(document.createTextNode("No rows"));') == [
        '"No rows"'
    ]
    assert script_text_literals('datasets: [{ label: "Rate", data: rates }]') == ['"Rate"']
    # Text taken from the page, and punctuation between translated pieces, is fine.
    copied = 'status.textContent = button.getAttribute("data-copied-text");'
    assert script_text_literals(copied) == []
    assert script_text_literals('return { label: wards.rateLabel + ": " + format(x) };') == []


@pytest.mark.parametrize("script", sorted(STATIC_JS.glob("*.js")), ids=lambda path: path.name)
def test_scripts_put_no_hard_coded_text_on_pages(script):
    assert script_text_literals(script.read_text(encoding="utf-8")) == []
