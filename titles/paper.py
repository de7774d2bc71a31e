"""The formal frame of the papers a ward office files: letterhead, place and date, signatures,
certificate numbers and the way a certificate names who holds the title.

One definition for every print (certificates, the public list, the decision's list, slips) and
for the Excel report, so the words on paper and in the workbook are the same. A printed paper is
an official Vietnamese document: the words written here stay Vietnamese whatever the page
language (the body of a print follows the page language).

Who speaks on which paper:

- **The People's Committee** (ỦY BAN NHÂN DÂN PHƯỜNG …) recognises: the decision's list and the
  certificates, signed "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH".
- **The ward's association** (HỘI KHUYẾN HỌC PHƯỜNG …, under the province's association)
  compiles and proposes: the public list posted before the decision, the self-assessment slips
  and the yearly report, signed by whoever drew it up ("Người lập biểu") and "TM. BAN CHẤP
  HÀNH / CHỦ TỊCH". A province's report speaks for the province's association.

Certificate numbers ("Số: 15/GCN-KH") run per ward and year. The suffix is the same for every
ward: GCN (giấy chứng nhận) and KH (khuyến học), for the register of certificates the ward's
association keeps for the movement.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from registry.models import Kind

COMMITTEE = "committee"
ASSOCIATION = "association"
ISSUERS = (COMMITTEE, ASSOCIATION)

CERTIFICATE_SUFFIX = "GCN-KH"
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_LINE = "Độc lập - Tự do - Hạnh phúc"
NATIONAL_ASSOCIATION = "TRUNG ƯƠNG HỘI KHUYẾN HỌC VIỆT NAM"
# What an administrative unit's name starts with, left out where the place is named.
_UNIT_PREFIXES = ("thành phố ", "tỉnh ", "phường ", "xã ", "đặc khu ", "thị trấn ")


def certificate_label(number: int | None) -> str:
    """ "Số: 15/GCN-KH"; a dotted blank where no number has been given yet."""
    shown = "……" if number is None else str(number)
    return f"Số: {shown}/{CERTIFICATE_SUFFIX}"


def formal_name(kind: str, name: str) -> str:
    """Who holds the title, as a certificate writes it.

    A household is named after its head ("Gia đình ông/bà Nguyễn Văn An"), a citizen with the
    honorific ("Ông/Bà Trần Thị Bình"), a clan as a clan ("Dòng họ Nguyễn Văn", whether its name
    already says "Họ …" or "Dòng họ …"); residential areas and units by their own name.
    """
    name = " ".join(name.split())
    if kind == Kind.FAMILY:
        return f"Gia đình ông/bà {name}"
    if kind == Kind.CITIZEN:
        return f"Ông/Bà {name}"
    if kind == Kind.CLAN:
        lowered = name.lower()
        if lowered.startswith("dòng họ "):
            return "Dòng họ " + name[len("dòng họ ") :]
        if lowered.startswith("họ "):
            return "Dòng họ " + name[len("họ ") :]
        return f"Dòng họ {name}"
    return name


def place_name(unit_name: str) -> str:
    """ "Phường Khương Đình" → "Khương Đình", as the place line of a document names it."""
    lowered = unit_name.lower()
    for prefix in _UNIT_PREFIXES:
        if lowered.startswith(prefix) and len(unit_name) > len(prefix):
            return unit_name[len(prefix) :]
    return unit_name


def in_sentence(unit_name: str) -> str:
    """ "Phường Khương Đình" → "phường Khương Đình": inside a sentence the kind of unit is a
    common noun, written in lower case, the proper name keeps its capitals."""
    lowered = unit_name.lower()
    for prefix in _UNIT_PREFIXES:
        if lowered.startswith(prefix) and len(unit_name) > len(prefix):
            return prefix + unit_name[len(prefix) :]
    return unit_name


def date_words(date: datetime.date) -> str:
    """ "ngày 07 tháng 12 năm 2026": days below 10 and the months 1 and 2 take a leading zero,
    as the rules for administrative documents (Decree 30/2020) write them."""
    month = f"{date.month:02d}" if date.month < 3 else str(date.month)
    return f"ngày {date.day:02d} tháng {month} năm {date.year}"


def place_date(unit_name: str, date: datetime.date) -> str:
    """ "Khương Đình, ngày 07 tháng 12 năm 2026"."""
    return f"{place_name(unit_name)}, {date_words(date)}"


@dataclass(frozen=True)
class Letterhead:
    """The top of a paper: the issuing body on the left (the body above it, then its own name),
    the national motto on the right, and the place and date line under the motto."""

    above: str
    issuer: str
    place_date: str
    motto: str = MOTTO
    motto_line: str = MOTTO_LINE


@dataclass(frozen=True)
class Signatures:
    """The signature block at the foot of a paper: who drew it up (left, may be empty) and who
    signs for the issuing body (right)."""

    prepared_by: str
    on_behalf: str
    signer: str
    prepared_note: str = "(Ký, ghi rõ họ tên)"
    signer_note: str = "(Ký tên, đóng dấu)"


def letterhead(
    *,
    unit_name: str,
    province_name: str,
    issuer: str,
    date: datetime.date,
    of_province: bool = False,
) -> Letterhead:
    """The letterhead of a ward's paper of `date` (or, `of_province`, the province
    association's: a province has no ward committee)."""
    if issuer not in ISSUERS:
        raise ValueError(f"unknown issuer {issuer!r}")
    if issuer == COMMITTEE:
        return Letterhead(
            above="ỦY BAN NHÂN DÂN",
            issuer=unit_name.upper(),
            place_date=place_date(unit_name, date),
        )
    return Letterhead(
        above=NATIONAL_ASSOCIATION if of_province else f"HỘI KHUYẾN HỌC {province_name.upper()}",
        issuer=f"HỘI KHUYẾN HỌC {unit_name.upper()}",
        place_date=place_date(unit_name, date),
    )


def signatures(*, issuer: str, prepared: bool = True) -> Signatures:
    """The signature block of an issuer's paper; `prepared=False` leaves out the preparer."""
    if issuer not in ISSUERS:
        raise ValueError(f"unknown issuer {issuer!r}")
    on_behalf = "TM. ỦY BAN NHÂN DÂN" if issuer == COMMITTEE else "TM. BAN CHẤP HÀNH"
    return Signatures(
        prepared_by="NGƯỜI LẬP BIỂU" if prepared else "", on_behalf=on_behalf, signer="CHỦ TỊCH"
    )


# What a list of registrations selects so that `residential_area` reads no more rows.
AREA_RELATED = (
    "entity__family__community__entity",
    "entity__citizen__family__community__entity",
)


def residential_area(entity) -> str:
    """The residential area a household or a citizen (through their household) lives in, as
    the lists name it; "" for the other kinds and for a citizen without a household. Reads
    the relations `AREA_RELATED` selects."""
    if entity.kind == Kind.FAMILY:
        return entity.family.community.entity.name
    if entity.kind == Kind.CITIZEN:
        family = entity.citizen.family
        return family.community.entity.name if family is not None else ""
    return ""
