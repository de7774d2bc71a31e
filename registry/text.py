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
