"""Hostile input for the fuzz tests: what people paste, what spreadsheets hold, what attackers try.

`FUZZ` is the Hypothesis profile every fuzz test uses: no deadline (the database and the
template engine are slow on a shared CI machine), derandomized so a run is repeatable, and a few
dozen examples per test so the whole directory stays within a couple of minutes on two cores.
Set `FUZZ_SCALE` (a multiplier of every test's examples, e.g. 20) for a deeper run by hand.
"""

from __future__ import annotations

import os
import unicodedata

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_SCALE = float(os.environ.get("FUZZ_SCALE", "1"))

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=40,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def examples(count: int) -> settings:
    """The fuzz profile with `count` examples (times FUZZ_SCALE)."""
    return settings(FUZZ, max_examples=max(1, int(count * _SCALE)))


VIETNAMESE = [
    "Nguyễn Thị Ánh Tuyết",
    "Đặng Quốc Bảo",
    "Trần Văn Ơn",
    "Hộ ông Lê Văn Tám (xóm Đồng)",
    unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết"),  # the same name, decomposed
    "TỔ DÂN PHỐ SỐ 7",
]
HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><b>bold</b>",
    "'; DROP TABLE registry_entity; --",
    "1' OR '1'='1",
    '" OR ""="',
    '=HYPERLINK("http://example.com","x")',
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1:A9)",
    "{{ 7|add:7 }}",
    "{% csrf_token %}",
    "%(name)s %s %d",
    "${jndi:ldap://x/a}",
    "../../etc/passwd",
    "陳 Trần Ткаченко محمد 🙂",
    "\u202eevil\u202c",
    "zero\u200bwidth\u200d",
    "a\r\nb",
    "tab\tand\x0bvertical\x0cfeed",
    "\x1b[31mred\x1b[0m",
    "\ufeffBOM",
    "&amp; &lt; &#39;",
    "null",
    "None",
    "NaN",
    "Infinity",
    "1e9999",
    "0x1F",
    "٣",
    "²",
    "  padded  ",
    "",
    " ",
]
NUL = "a\x00b"

# Any character that UTF-8 can carry (no lone surrogates), control characters included.
_ANY_CHARACTER = st.characters(blacklist_categories=("Cs",))
_PRINTABLE = st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Co", "Cn"))


def hostile_text(*, max_size: int = 60, nul: bool = True) -> st.SearchStrategy[str]:
    """Text a user might send: known-nasty samples, random Unicode, and mixtures of both."""
    samples = [*VIETNAMESE, *HOSTILE, *([NUL] if nul else [])]
    alphabet = (
        _ANY_CHARACTER
        if nul
        else st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    )
    pieces = st.one_of(st.sampled_from(samples), st.text(alphabet, max_size=12))
    return st.one_of(
        st.sampled_from(samples),
        st.text(alphabet, max_size=max_size),
        st.lists(pieces, min_size=2, max_size=4).map("".join),
    ).map(lambda text: text[:max_size])


def long_text(max_length: int) -> st.SearchStrategy[str]:
    """Strings around a field's limit: exactly at it, just over it, far over it."""
    unit = st.sampled_from(["a", "Ắ", "漢", "<", "🙂", "Nguyễn "])
    size = st.sampled_from([max_length, max_length + 1, max_length * 4])
    return st.builds(lambda u, n: (u * n)[:n], unit, size)


def printable_text(*, min_size: int = 1, max_size: int = 40) -> st.SearchStrategy[str]:
    """Visible text without control characters (names that must round-trip)."""
    return st.text(_PRINTABLE, min_size=min_size, max_size=max_size).filter(str.strip)
