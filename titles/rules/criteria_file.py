"""Read a criteria-set file (DESIGN section 4) into a `CriteriaSet`, or say all that is wrong.

Criteria are data that administrators write by hand, so a bad file is refused as a whole with
every problem listed at once (`CriteriaFileError.errors`), each message naming where it is
("criteria[2] (F3): ..."). A document that parses is a set `evaluate` can score without
surprises: thresholds are attainable, share criteria count the right member kind, required
criteria exist. Checks that need the database (another set of the same title and province
overlapping in years) belong to the loader; `overlaps` is the pure half of that check.

Besides the keys of the contract, a document may carry "name_en", "source" and "note"
(the shipped defaults do), and a criterion "text_en". Any other key is refused, so that a
misspelt key is not silently ignored. JSON floats are read as Decimals, never binary floats.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from titles.rules.evaluation import SHARE_OF, CriteriaSet, Criterion, CriterionType, Title

DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "criteria"
"""The national default sets shipped with the software, one file per title."""

FIRST_YEAR, LAST_YEAR = 1900, 2100

_SET_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SET_CODE_RULE = "letters, digits, '.', '-' or '_', at most 64 characters"
# Criterion codes become the `c.<CODE>` columns of registration files.
_CRITERION_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,19}")
_CRITERION_CODE_RULE = "letters, digits, '-' or '_', at most 20 characters"
_PROVINCE = re.compile(r"[0-9]{2}")
# Text a database cannot store: NUL (PostgreSQL text and jsonb refuse it, SQLite's JSON check
# too) and lone surrogates (not UTF-8 at all).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A registration's points are a DecimalField(max_digits=7, decimal_places=2): a set that can
# earn more could not store its results. A number criterion's threshold is compared, never
# stored, but is kept to what a JSON float holds exactly enough (the document is stored as
# JSON).
MAX_POINTS = Decimal("99999.99")
_MAX_THRESHOLD = Decimal(10) ** 12

_REQUIRED_KEYS = (
    "code",
    "title",
    "name",
    "valid_from",
    "valid_to",
    "province",
    "pass",
    "criteria",
)
_OPTIONAL_KEYS = ("outstanding", "name_en", "source", "note")
_TYPE_KEYS: Mapping[CriterionType, tuple[str, ...]] = {
    CriterionType.BOOLEAN: ("points",),
    CriterionType.NUMBER: ("min", "points"),
    CriterionType.SCALE: ("max",),
    CriterionType.SHARE: ("of", "min", "points"),
}
_CRITERION_KEYS = ("code", "text", "type", "text_en", "points", "min", "max", "of")


_Bound = tuple[str, Callable[[Decimal], bool]]
_NOT_NEGATIVE: _Bound = ("0 or more", lambda number: number >= 0)
_FRACTION: _Bound = ("between 0 and 1 (0.7 means 70%)", lambda number: 0 <= number <= 1)
_POINTS: _Bound = (
    f"greater than 0 and at most {MAX_POINTS}",
    lambda number: 0 < number <= MAX_POINTS,
)
_THRESHOLD: _Bound = (
    f"0 or more and at most {_MAX_THRESHOLD:,}",
    lambda number: 0 <= number <= _MAX_THRESHOLD,
)


class CriteriaFileError(ValueError):
    """A criteria-set document that cannot be used; `errors` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("invalid criteria set:\n" + "\n".join(f"- {e}" for e in errors))


def overlaps(a_from: int, a_to: int | None, b_from: int, b_to: int | None) -> bool:
    """Whether two inclusive year ranges share a year; a `to` of None means open-ended."""
    return (b_to is None or a_from <= b_to) and (a_to is None or b_from <= a_to)


def read_criteria_file(path: str | Path) -> CriteriaSet:
    """Parse the criteria-set file at `path` (UTF-8, a byte-order mark allowed)."""
    return parse_criteria_set(Path(path).read_bytes())


def parse_criteria_set(document: str | bytes | Mapping[str, Any]) -> CriteriaSet:
    """Validate `document` (JSON text or an already decoded object) and build the set.

    Raises CriteriaFileError listing every problem; never returns a partly valid set.
    """
    errors: list[str] = []
    data = _decode(document, errors) if isinstance(document, str | bytes) else document
    if data is None and errors:  # undecodable; a JSON null is refused as not an object below
        raise CriteriaFileError(errors)
    if not isinstance(data, Mapping):
        raise CriteriaFileError([*errors, "the document must be a JSON object"])
    criteria_set = _Reader(errors).read(data)
    if errors or criteria_set is None:
        raise CriteriaFileError(errors)
    return criteria_set


def _decode(document: str | bytes, errors: list[str]) -> Any:
    def reject_constant(name: str) -> None:
        raise ValueError(f"{name} is not a number")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                errors.append(f"key {key!r} appears twice in one object")
            seen[key] = value
        return seen

    try:
        text = document.decode("utf-8-sig") if isinstance(document, bytes) else document
        return json.loads(
            text, parse_float=Decimal, parse_constant=reject_constant, object_pairs_hook=pairs
        )
    except UnicodeDecodeError:
        errors.append("the file is not UTF-8 text")
    except ValueError as error:
        errors.append(f"not valid JSON: {error}")
    except RecursionError:
        errors.append("not valid JSON: nested too deeply")
    return None


class _Reader:
    """Walks one document, appending a message per problem; returns the set only if clean."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        # Codes of every criterion object in the list, well-formed or not; None without a list.
        self.codes: set[str] | None = None

    def read(self, data: Mapping[str, Any]) -> CriteriaSet | None:
        start = len(self.errors)
        self._keys(data, _REQUIRED_KEYS, _OPTIONAL_KEYS, "the document")
        code = self._string(data, "code", "the document", pattern=(_SET_CODE, _SET_CODE_RULE))
        title = self._title(data)
        name = self._string(data, "name", "the document")
        name_en = self._string(data, "name_en", "the document", optional=True)
        source = self._string(data, "source", "the document", optional=True)
        note = self._string(data, "note", "the document", optional=True)
        valid_from = self._year(data, "valid_from")
        valid_to = self._year(data, "valid_to", optional=True)
        if valid_from is not None and valid_to is not None and valid_from > valid_to:
            self.errors.append(f"valid_from {valid_from} is after valid_to {valid_to}")
        province = self._province(data)
        criteria = self._criteria(data["criteria"], title) if "criteria" in data else None
        pass_min, required = self._pass(data["pass"]) if "pass" in data else (None, None)
        outstanding_min = self._outstanding(data.get("outstanding"))
        self._thresholds(criteria, pass_min, outstanding_min)
        if len(self.errors) > start:
            return None
        assert code and title and name and valid_from and pass_min is not None
        assert criteria is not None and required is not None
        return CriteriaSet(
            code=code,
            title=title,
            name=name,
            valid_from=valid_from,
            valid_to=valid_to,
            province=province,
            pass_min_points=pass_min,
            pass_required=tuple(required),
            outstanding_min_points=outstanding_min,
            criteria=tuple(criteria),
            name_en=name_en,
            source=source,
            note=note,
        )

    def _keys(
        self,
        data: Mapping[str, Any],
        required: tuple[str, ...],
        optional: tuple[str, ...],
        where: str,
    ) -> None:
        missing = [key for key in required if key not in data]
        if missing:
            self.errors.append(f"{where}: missing {', '.join(map(repr, missing))}")
        unknown = [key for key in data if key not in required + optional]
        if unknown:
            allowed = ", ".join(required + optional)
            self.errors.append(
                f"{where}: unknown key {', '.join(map(repr, unknown))} (allowed: {allowed})"
            )

    def _string(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        *,
        optional: bool = False,
        pattern: tuple[re.Pattern[str], str] | None = None,
    ) -> str | None:
        value = data.get(key)
        if value is None:
            if not optional and key in data:
                self.errors.append(f"{where}: {key!r} must be text, not null")
            return None
        if not isinstance(value, str) or not value.strip():
            self.errors.append(f"{where}: {key!r} must be non-empty text, got {value!r}")
            return None
        if _UNSTORABLE.search(value):
            self.errors.append(
                f"{where}: {key!r} contains a NUL or an unpaired surrogate character, "
                f"which cannot be stored: {value!r}"
            )
            return None
        if pattern is not None and not pattern[0].fullmatch(value):
            self.errors.append(f"{where}: {key!r} {value!r} must be {pattern[1]}")
            return None
        return value.strip()

    def _title(self, data: Mapping[str, Any]) -> Title | None:
        value = data.get("title")
        if "title" not in data:
            return None
        if not _is_word_of(value, Title):
            choices = ", ".join(Title)
            self.errors.append(f"unknown title {value!r} (expected one of {choices})")
            return None
        return Title(value)

    def _year(self, data: Mapping[str, Any], key: str, *, optional: bool = False) -> int | None:
        value = data.get(key)
        if value is None:
            if key in data and not optional:
                self.errors.append(f"{key!r} must be a year, not null")
            return None
        if not _is_int(value) or not FIRST_YEAR <= value <= LAST_YEAR:
            self.errors.append(
                f"{key!r} must be a year between {FIRST_YEAR} and {LAST_YEAR}, got {value!r}"
            )
            return None
        return value

    def _province(self, data: Mapping[str, Any]) -> str | None:
        value = data.get("province")
        if value is not None and not (isinstance(value, str) and _PROVINCE.fullmatch(value)):
            self.errors.append(
                f"'province' must be a 2-digit province code such as \"01\", or null for "
                f"national, got {value!r}"
            )
            return None
        return value

    def _criteria(self, value: Any, title: Title | None) -> list[Criterion] | None:
        """The criteria, or None when any of them is malformed (so totals are not trusted)."""
        if not isinstance(value, list) or not value:
            self.errors.append(f"'criteria' must be a non-empty list, got {value!r}")
            return None
        self.codes = set()
        start = len(self.errors)
        criteria: list[Criterion] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            if isinstance(item, Mapping) and isinstance(item.get("code"), str):
                self.codes.add(item["code"])
            criterion = self._criterion(index, item, title)
            if criterion is None:
                continue
            folded = criterion.code.casefold()
            if folded in seen:
                self.errors.append(
                    f"criteria[{index}]: duplicate criterion code {criterion.code!r} "
                    f"(criteria[{seen[folded]}] has it; codes are compared ignoring case)"
                )
            else:
                seen[folded] = index
            criteria.append(criterion)
        return criteria if len(self.errors) == start else None

    def _criterion(self, index: int, item: Any, title: Title | None) -> Criterion | None:
        where = f"criteria[{index}]"
        if not isinstance(item, Mapping):
            self.errors.append(f"{where}: must be an object, got {item!r}")
            return None
        if isinstance(item.get("code"), str):
            where = f"{where} ({item['code']})"
        start = len(self.errors)
        unknown = [key for key in item if key not in _CRITERION_KEYS]
        if unknown:
            self.errors.append(
                f"{where}: unknown key {', '.join(map(repr, unknown))} "
                f"(allowed: {', '.join(_CRITERION_KEYS)})"
            )
        missing = [key for key in ("code", "text", "type") if key not in item]
        if missing:
            self.errors.append(f"{where}: missing {', '.join(map(repr, missing))}")
        code = self._string(item, "code", where, pattern=(_CRITERION_CODE, _CRITERION_CODE_RULE))
        text = self._string(item, "text", where)
        text_en = self._string(item, "text_en", where, optional=True)
        kind = self._criterion_type(item, where)
        fields: dict[str, Any] = {}
        if kind is not None:
            fields = self._type_fields(item, kind, title, where)
        if len(self.errors) > start:
            return None
        assert code and text and kind is not None
        return Criterion(code=code, text=text, type=kind, text_en=text_en, **fields)

    def _criterion_type(self, item: Mapping[str, Any], where: str) -> CriterionType | None:
        value = item.get("type")
        if "type" not in item:
            return None
        if not _is_word_of(value, CriterionType):
            choices = ", ".join(CriterionType)
            self.errors.append(f"{where}: unknown type {value!r} (expected one of {choices})")
            return None
        return CriterionType(value)

    def _type_fields(
        self, item: Mapping[str, Any], kind: CriterionType, title: Title | None, where: str
    ) -> dict[str, Any]:
        wanted = _TYPE_KEYS[kind]
        for key in ("points", "min", "max", "of"):
            if key in wanted and item.get(key) is None:
                self.errors.append(f"{where}: a {kind} criterion needs {key!r}")
            elif key not in wanted and item.get(key) is not None:
                self.errors.append(f"{where}: {key!r} does not apply to a {kind} criterion")
        fields: dict[str, Any] = {}
        if item.get("points") is not None and "points" in wanted:
            fields["points"] = self._amount(item["points"], f"{where}: 'points'", _POINTS)
        if item.get("max") is not None and "max" in wanted:
            fields["max"] = self._amount(item["max"], f"{where}: 'max'", _POINTS)
        if item.get("min") is not None and kind is CriterionType.NUMBER:
            fields["min"] = self._amount(item["min"], f"{where}: 'min'", _THRESHOLD)
        if item.get("min") is not None and kind is CriterionType.SHARE:
            fields["min"] = self._amount(item["min"], f"{where}: 'min'", _FRACTION)
        if kind is CriterionType.SHARE and item.get("of") is not None:
            fields["of"] = self._share_of(item["of"], title, where)
        return fields

    def _share_of(self, value: Any, title: Title | None, where: str) -> Title | None:
        if not _is_word_of(value, Title):
            self.errors.append(
                f"{where}: 'of' must name a title ({', '.join(Title)}), got {value!r}"
            )
            return None
        if title is None:
            return Title(value)
        fits = SHARE_OF.get(title)
        if fits is None:
            self.errors.append(f"{where}: a {title} criteria set cannot have share criteria")
        elif fits != value:
            self.errors.append(
                f"{where}: a share in a {title} criteria set must be of '{fits}', not {value!r}"
            )
        return Title(value)

    def _amount(self, value: Any, where: str, bound: _Bound) -> Decimal | None:
        number = _decimal(value)
        if number is None:
            self.errors.append(f"{where} must be a number, got {value!r}")
            return None
        rule, allowed = bound
        if not allowed(number):
            self.errors.append(f"{where} must be {rule}, got {value}")
            return None
        return number

    def _pass(self, value: Any) -> tuple[Decimal | None, list[str] | None]:
        if not isinstance(value, Mapping):
            self.errors.append(f"'pass' must be an object with 'min_points', got {value!r}")
            return None, None
        self._keys(value, ("min_points",), ("required",), "'pass'")
        min_points = None
        if "min_points" in value:
            min_points = self._amount(value["min_points"], "'pass': 'min_points'", _NOT_NEGATIVE)
        required = value.get("required", [])
        if not isinstance(required, list) or not all(isinstance(c, str) for c in required):
            self.errors.append("'pass': 'required' must be a list of criterion codes")
            return min_points, None
        for position, code in enumerate(required):
            if code in required[:position]:
                self.errors.append(f"'pass': required criterion {code!r} is listed twice")
            elif self.codes is not None and code not in self.codes:
                self.errors.append(f"'pass': required {code!r} is not a criterion of this set")
        return min_points, required

    def _outstanding(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.errors.append("'outstanding' must be an object with 'min_points' or null")
            return None
        self._keys(value, ("min_points",), (), "'outstanding'")
        if "min_points" not in value:
            return None
        return self._amount(value["min_points"], "'outstanding': 'min_points'", _NOT_NEGATIVE)

    def _thresholds(
        self,
        criteria: list[Criterion] | None,
        pass_min: Decimal | None,
        outstanding_min: Decimal | None,
    ) -> None:
        if criteria is not None:
            top = sum((criterion.possible for criterion in criteria), Decimal(0))
            if top > MAX_POINTS:
                self.errors.append(
                    f"'criteria': together they can earn {top} points, more than the "
                    f"{MAX_POINTS} a result can hold"
                )
            for label, threshold in (("pass", pass_min), ("outstanding", outstanding_min)):
                if threshold is not None and threshold > top:
                    self.errors.append(
                        f"'{label}': min_points {threshold} is more than the {top} points "
                        f"the criteria can earn"
                    )
        if pass_min is not None and outstanding_min is not None and outstanding_min < pass_min:
            self.errors.append(
                f"'outstanding': min_points {outstanding_min} is below the pass threshold "
                f"{pass_min}"
            )


def _is_word_of(value: Any, words: type[StrEnum]) -> bool:
    """Whether `value` is one of `words`' values (any JSON value may be asked, lists too)."""
    return isinstance(value, str) and value in {str(word) for word in words}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal(value: Any) -> Decimal | None:
    """A JSON number as a Decimal; None for anything else (text, true/false, NaN)."""
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return None
