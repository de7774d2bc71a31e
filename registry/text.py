"""Vietnamese text helpers: diacritics-insensitive folding for search."""

import unicodedata

# đ/Đ are letters of their own, not a d with a combining mark, so NFD leaves them alone.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    """Lower-case `text`, drop diacritics and collapse white space: "Nguyễn  Văn" -> "nguyen van".

    The result is what search stores and matches, so "nguyen van" finds "Nguyễn Văn".
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


# --- Vietnamese alphabetical order ---------------------------------------------------------------

# The Vietnamese alphabet (with the letters that occur in foreign names in their Latin places);
# each letter gets a two-character code so the key compares code by code.
_ALPHABET = tuple("aăâbcdđeêfghijklmnoôơpqrstuưvwxyz")
_LETTER_CODE = {letter: f"{10 + i:02d}" for i, letter in enumerate(_ALPHABET)}
# Tones in dictionary order: level, grave (huyền), hook (hỏi), tilde (ngã), acute (sắc), dot
# (nặng). They decide only between words whose letters are the same.
_TONE_MARKS = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
# Marks that make a letter of its own (ă â ê ô ơ ư); đ has no decomposition.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
_END_OF_WORD = "00"
SORT_KEY_LENGTH = 1000


def _word_key(word: str) -> str:
    """A word's letters as codes, an end mark (so "An" sorts before "Anh"), then its tone.

    A run of digits is one number, compared by value ("Tổ 2" before "Tổ 10"); any other sign
    is ignored.
    """
    letters: list[str] = []
    tone = "0"
    decomposed = unicodedata.normalize("NFD", word.lower())
    i = 0
    while i < len(decomposed):
        ch = decomposed[i]
        if ch.isdigit() and ch.isascii():
            j = i
            while j < len(decomposed) and decomposed[j].isdigit() and decomposed[j].isascii():
                j += 1
            number = decomposed[i:j].lstrip("0") or "0"
            letters.append(f"01{len(number):02d}{number}")
            i = j
            continue
        marks = ""
        j = i + 1
        while j < len(decomposed) and unicodedata.combining(decomposed[j]):
            mark = decomposed[j]
            if mark in _TONE_MARKS:
                tone = _TONE_MARKS[mark]
            elif mark in _LETTER_MARKS:
                marks += mark
            j += 1
        letter = unicodedata.normalize("NFC", ch + marks)
        code = _LETTER_CODE.get(letter) or _LETTER_CODE.get(ch)
        if code is None and ch.isalpha():
            code = _LETTER_CODE.get(fold(ch)[:1])
        if code is not None:
            letters.append(code)
        i = j
    return "".join(letters) + _END_OF_WORD + tone


def sort_key(name: str, *, person: bool = False) -> str:
    """What a list ordered the Vietnamese way sorts `name` by: compare these keys as bytes.

    Letters in the Vietnamese alphabet's order (a ă â b c d đ e ê …), each word's tone only
    after its letters, numbers by value, case ignored. A `person` ("Nguyễn Văn An") is ordered
    as Vietnamese lists of people are: given name (An), then family name (Nguyễn), then the
    middle names (Văn). The key is made of digits only, so any database collation (C, en_US,
    ICU) orders it as bytes and an index serves it.
    """
    words = [w for w in name.split() if any(ch.isalnum() for ch in w)]
    if person and len(words) > 1:
        words = [words[-1], words[0], *words[1:-1]]
    return "".join(_word_key(word) for word in words)[:SORT_KEY_LENGTH]
