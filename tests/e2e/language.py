"""What "no untranslated English in Vietnamese mode" means, checked on pages in a real browser.

The English words to look for come from the catalogue itself (locale/vi/LC_MESSAGES/django.po):
every word of four letters or more in a msgid whose translation is missing or differs from it.
Words the translations use as they are ("Email", "PDF", "XLSX", …) are legitimately the same in
both languages and are left out, and so are the words in `SAME_IN_BOTH`. The data a journey
shows (names, codes, filenames, what users typed) is removed from the text before it is read.

What is read on a page: every text node (hidden ones too: closed <details>, forms a script
reveals), the title, placeholder, aria-label and alt attributes, the text of <option>s and of
submit inputs, and what Chart.js draws on canvases (labels, legends, ticks). Left out: <code>,
<kbd>, <samp>, <script>, <style>, <noscript> and anything marked translate="no": machine
readable names such as a spreadsheet's English column headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PO_FILE = Path(__file__).resolve().parents[2] / "locale" / "vi" / "LC_MESSAGES" / "django.po"

# English words of the msgids that are legitimately the same in Vietnamese text although no
# translation happens to use them. Keep it short and say why.
SAME_IN_BOTH: frozenset[str] = frozenset()

# Placeholders and markup inside msgids and msgstrs are not words of the message.
_MARKUP = re.compile(
    r"%\(\w+\)[sdfr]|%[sdfr]|\{\w*\}|<[^>]+>|&\w+;|https?://\S+|\w+@\w+(\.\w+)+",
)
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
# A word is a run of letters in any script, so that a Vietnamese "Nguyễn" is one word and never
# yields an English-looking "Nguy"; only all-ASCII words of four letters or more count.
_WORD = re.compile(r"[^\W\d_]+")
_ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")


@dataclass(frozen=True)
class Entry:
    msgid: str
    msgid_plural: str
    msgstrs: tuple[str, ...]
    fuzzy: bool

    @property
    def translated(self) -> bool:
        return not self.fuzzy and bool(self.msgstrs) and all(self.msgstrs)


def read_po(path: Path = PO_FILE) -> list[Entry]:
    """The catalogue's entries (obsolete `#~` ones left out), without the header."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    flags = ""
    current = None

    def finish() -> None:
        nonlocal fields, flags, current
        if "msgid" in fields and fields["msgid"]:
            msgstrs = tuple(v for k, v in sorted(fields.items()) if k.startswith("msgstr"))
            entries.append(
                Entry(
                    msgid=fields["msgid"],
                    msgid_plural=fields.get("msgid_plural", ""),
                    msgstrs=msgstrs,
                    fuzzy="fuzzy" in flags,
                )
            )
        fields, flags, current = {}, "", None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            if "msgid" in fields:
                finish()
            flags += line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if current is not None:
                fields[current] += _unquote(line)
        else:
            keyword, _, value = line.partition(" ")
            if keyword == "msgid" and "msgid" in fields:
                finish()
            current = keyword.replace("[", "_").rstrip("]")
            fields[current] = _unquote(value)
    finish()
    return entries


def _unquote(literal: str) -> str:
    body = literal.strip()[1:-1]
    return re.sub(
        r'\\(["\\nt])',
        lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)),
        body,
    )


def english_words_of(text: str) -> set[str]:
    """The all-ASCII words of four letters or more, lowercased."""
    words = set()
    for word in _WORD.findall(_MARKUP.sub(" ", text)):
        if _ENGLISH_WORD.fullmatch(word):
            words.add(word.lower())
    return words


@cache
def untranslated_words(path: Path = PO_FILE) -> frozenset[str]:
    """Words that show a page is in English where it should be in Vietnamese: those of each
    msgid that its translation does not keep as they are (a translation keeps command names,
    file formats and codes such as "family" in "family, clan, community, unit hoặc citizen")."""
    english: set[str] = set()
    for entry in read_po(path):
        words = english_words_of(f"{entry.msgid} {entry.msgid_plural}")
        if entry.translated:
            words -= set().union(*(english_words_of(s) for s in entry.msgstrs))
        english |= words
    return frozenset(english - SAME_IN_BOTH)


_PLACEHOLDER_OR_TAG = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]|%[sdfr]|\{\w*\}|<[^>]+>")


@cache
def kept_english(path: Path = PO_FILE) -> tuple[str, ...]:
    """The pieces of translations that keep English words on purpose, longest first: "Danh hiệu
    (family, clan, community, unit, citizen), mã phường/xã …" names the values a file takes.
    Text the catalogue itself gives for Vietnamese is never untranslated."""
    words = untranslated_words(path)
    pieces = set()
    for entry in read_po(path):
        if not entry.translated:
            continue
        for msgstr in entry.msgstrs:
            for piece in _PLACEHOLDER_OR_TAG.split(msgstr):
                piece = " ".join(piece.split())
                if english_words_of(piece) & words:
                    pieces.add(piece)
    return tuple(sorted(pieces, key=len, reverse=True))


@dataclass(frozen=True)
class Finding:
    word: str
    context: str

    def __str__(self) -> str:
        return f"{self.word!r} in {self.context!r}"


def find_english(
    texts: list[str], *, data: tuple[str, ...] = (), path: Path = PO_FILE
) -> list[Finding]:
    """The untranslated English words in `texts`, each with the text it was found in.

    `data` are strings a journey put on the page itself (names, codes, what a user typed); they
    are removed first, longest first, so that a name like "Long" is not taken for English, and
    so are the pieces of translations that keep English words on purpose (`kept_english`).
    Addresses and tokens with a digit in them (codes such as VN-FAMILY-448) are not read either.
    """
    words = untranslated_words(path)
    found: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    strip = [
        *sorted({" ".join(d.split()) for d in data if d.strip()}, key=len, reverse=True),
        *kept_english(path),
    ]
    for text in texts:
        cleaned = _URL.sub(" ", " ".join(text.split()))  # addresses are not for translating
        for item in strip:
            cleaned = cleaned.replace(item, " ")
        # A token with a digit in it is a code or a number: VN-FAMILY-448, 15/QĐ-UBND, HGD31.
        cleaned = " ".join(t for t in cleaned.split() if not any(c.isdigit() for c in t))
        for word in _WORD.findall(cleaned):
            key = word.lower()
            if _ENGLISH_WORD.fullmatch(word) and key in words and (key, text) not in seen:
                seen.add((key, text))
                found.append(Finding(word, " ".join(text.split())[:160]))
    return found


# Runs in the page: its address, its language and the strings a reader sees or hears, one per
# text node, attribute or chart label, so that words are never glued across element boundaries.
# Text marked as another language (the header's "English" button, lang="en") is not Vietnamese
# that went missing and is left out.
READ_PAGE_JS = """
() => {
  const skip = "code, kbd, samp, script, style, noscript, template, [translate=no]";
  const keep = (el) => !el.closest(skip) && (el.closest("[lang]")?.lang || "vi").startsWith("vi");
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const value = node.nodeValue.trim();
    if (value && keep(node.parentElement)) texts.push(value);
  }
  for (const el of document.querySelectorAll("[title], [placeholder], [aria-label], [alt]")) {
    if (!keep(el)) continue;
    for (const name of ["title", "placeholder", "aria-label", "alt"]) {
      const value = el.getAttribute(name);
      if (value) texts.push(value);
    }
  }
  for (const el of document.querySelectorAll("option, input[type=submit], input[type=button]")) {
    if (keep(el)) texts.push(el.tagName === "OPTION" ? el.text : el.value);
  }
  if (typeof window.Chart === "function") {
    for (const chart of Object.values(window.Chart.instances)) {
      texts.push(...(chart.data.labels || []).map(String));
      for (const dataset of chart.data.datasets) if (dataset.label) texts.push(dataset.label);
      for (const scale of Object.values(chart.scales)) {
        for (const tick of scale.ticks || []) {
          if (tick.label !== undefined) texts.push([].concat(tick.label).join(" "));
        }
      }
      for (const item of (chart.legend && chart.legend.legendItems) || []) texts.push(item.text);
    }
  }
  return {url: location.href, lang: document.documentElement.lang, texts: texts.filter(Boolean)};
}
"""
