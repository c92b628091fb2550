"""Printed numerals: find them in a text, read their value, and read the qualifier before them.

Everything that turns the characters of a printed number into a value ("125,000", "15. 5",
"US$500 million", "5.27%", "two-day", "seven-fold", "in half", "three of the four"), the
scanner of every numeral token (for the coverage check), and the qualifier printed before a
numeral ("over", "up to"). Only the forms the sources print are read; anything else is a
`NumeralError`, so a new form is added on purpose, with a test. Units: schemas/units.yaml;
periods: pipeline.core.periods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

CARDINALS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30,
}  # fmt: skip
SCALES: dict[str, int] = {"million": 1_000_000, "billion": 1_000_000_000}
# Scanned for coverage but never read as a value: a bare scale word has no number before
# it ("million"), and a plural one is a vague amount ("hundreds of convictions").
BARE_SCALE_WORDS = frozenset({"hundred", "thousand", "million", "billion"})
VAGUE_WORDS = frozenset({"hundreds", "thousands", "millions", "billions"})
HYPHEN_UNITS = ("day", "mile", "year", "fold")

QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("more than", "at_least"),
    ("over", "at_least"),
    ("approximately", "approximately"),
    ("close to", "approximately"),
    ("about", "approximately"),
    ("nearly", "approximately"),
    ("around", "approximately"),
    ("up to", "at_most"),
    ("average of", "average"),  # also "an average of", "a daily average of"
)

ACCEPTED_FORMS = (
    "digits such as 125,000, 1,014.9 or 2000, $6 billion, US$500 million, 9.4 million, "
    "3.1 percent, 5.27%, number words one to twenty and thirty, one percent, 60-mile, "
    "two-day, seven-fold, tripled, half, in half, three of the four"
)


class NumeralError(ValueError):
    """A literal that is not a numeral this module reads; the message is one sentence."""


@dataclass(frozen=True)
class ParsedNumeral:
    """A numeral read from its printed literal.

    `value` is in the printed unit with scale words applied ("9.4 million" -> 9400000.0); it
    is an int when the number is integral and printed without a decimal point. `unit_hint`
    is the unit the literal carries itself ("$", "US$", "percent", "%", "fold", "tripled",
    "half", "day", "year", "mile") or None. `flags` note how it was read ("number_word",
    "scale_word", "stray_space_in_decimal"). `denominator` is the whole of "three of the four".
    """

    literal: str
    value: int | float
    unit_hint: str | None
    flags: tuple[str, ...] = ()
    denominator: int | None = None


_INT = r"(?:[0-9]{1,3}(?:,[0-9]{3}(?![0-9]))+|[0-9]+)"  # a comma only before exactly 3 digits
_NUMBER = rf"{_INT}(?:\.[0-9]+)?"
_CARDINAL = "|".join(sorted(CARDINALS, key=len, reverse=True))
_OTHER_WORDS = "|".join(sorted(BARE_SCALE_WORDS | VAGUE_WORDS | {"half", "tripled"}))
_SCALE = r"(?: (?:million|billion)\b)"

# every token starts at a digit, a "$" or a letter after a word boundary: the lookahead skips
# any other place before the alternatives are tried (half of find_numerals' time)
_TOKEN = re.compile(
    r"(?=[0-9$]|\b[^\W\d_])(?:"
    + "|".join(
        (
            rf"\b(?:{_NUMBER}|{_CARDINAL})-(?:day|mile|year)\b",  # 60-mile, two-day
            rf"\b(?:{_NUMBER}|[^\W\d_]++)-fold\b",  # seven-fold, 10-fold, any word-fold
            rf"(?:\bUS)?\${_NUMBER}{_SCALE}?",  # $6 billion, US$500 million
            rf"{_NUMBER}{_SCALE}?(?: percent\b|%)?",  # 125,000, 9.4 million, 3.1 percent, 5.27%
            rf"\b(?:{_CARDINAL})\b{_SCALE}?(?: percent\b)?",  # three, one percent
            rf"\b(?:{_OTHER_WORDS})\b",  # half, tripled, hundreds, millions
        )
    )
    + ")",
    re.IGNORECASE,
)

_DIGITS = re.compile(
    r"(?P<currency>US\$|\$)?(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
    r"(?:\.(?P<stray> )?(?P<frac>[0-9]+))?"
    r"(?: (?P<scale>million|billion))?(?P<percent> percent|%)?",
    re.IGNORECASE,
)
_WORD = re.compile(
    rf"(?P<word>{_CARDINAL})(?: (?P<scale>million|billion))?(?P<percent> percent)?",
    re.IGNORECASE,
)
_HYPHENATED = re.compile(
    rf"(?P<number>{_NUMBER}|[^\W\d_]+)-(?P<unit>{'|'.join(HYPHEN_UNITS)})", re.IGNORECASE
)
_WHOLE_NUMBER = r"[0-9]+|[^\W\d_]+"
_SHARE = re.compile(
    rf"(?P<part>{_WHOLE_NUMBER}) of (?:the )?(?P<whole>{_WHOLE_NUMBER})", re.IGNORECASE
)
_HALF = re.compile(r"(?:in )?half", re.IGNORECASE)
_TRIPLED = re.compile(r"tripled", re.IGNORECASE)


def _fail(literal: str, problem: str) -> NumeralError:
    return NumeralError(f'The numeral "{literal}" cannot be read: {problem}.')


def _number(int_part: str, frac: str | None, scale: str | None) -> int | float:
    """Exact decimal arithmetic, then int or float by whether a decimal point was printed."""
    value = Decimal(int_part.replace(",", "") + (f".{frac}" if frac else ""))
    if scale:
        value *= SCALES[scale.lower()]
    return float(value) if frac else int(value)


def _read_digits(literal: str) -> ParsedNumeral | None:
    m = _DIGITS.fullmatch(literal)
    if not m:
        return None
    if m["currency"] and m["percent"]:
        raise _fail(literal, "an amount of money cannot also be a percentage")
    flags = ("stray_space_in_decimal",) if m["stray"] else ()
    flags += ("scale_word",) if m["scale"] else ()
    unit = m["currency"].upper() if m["currency"] else None
    if m["percent"]:
        unit = m["percent"].strip().lower()
    return ParsedNumeral(literal, _number(m["int"], m["frac"], m["scale"]), unit, flags)


def _read_word(literal: str) -> ParsedNumeral | None:
    m = _WORD.fullmatch(literal)
    if not m:
        return None
    value: int = CARDINALS[m["word"].lower()]
    flags: tuple[str, ...] = ("number_word",)
    if m["scale"]:
        value *= SCALES[m["scale"].lower()]
        flags += ("scale_word",)
    return ParsedNumeral(literal, value, "percent" if m["percent"] else None, flags)


def _read_hyphenated(literal: str) -> ParsedNumeral | None:
    m = _HYPHENATED.fullmatch(literal)
    if not m:
        return None
    unit, number = m["unit"].lower(), m["number"]
    if number[0] in "0123456789":
        int_part, _, frac = number.partition(".")
        return ParsedNumeral(literal, _number(int_part, frac or None, None), unit)
    value = CARDINALS.get(number.lower())
    if value is None:
        raise _fail(literal, f'"{number}" before "-{unit}" is not a number word')
    return ParsedNumeral(literal, value, unit, ("number_word",))


def _whole_number(word: str) -> int | None:
    return int(word) if word[0] in "0123456789" else CARDINALS.get(word.lower())


def _read_share(literal: str) -> ParsedNumeral | None:
    m = _SHARE.fullmatch(literal)
    if not m:
        return None
    part, whole = _whole_number(m["part"]), _whole_number(m["whole"])
    if part is None or whole is None:
        return None
    if whole == 0 or part > whole:
        raise _fail(literal, f"{part} cannot be a share of {whole}")
    flags = () if m["part"][0] in "0123456789" else ("number_word",)
    return ParsedNumeral(literal, part, None, flags, denominator=whole)


def _read_multiple(literal: str) -> ParsedNumeral | None:
    for pattern, value, unit in ((_HALF, 0.5, "half"), (_TRIPLED, 3, "tripled")):
        if pattern.fullmatch(literal):
            return ParsedNumeral(literal, value, unit, ("number_word",))
    return None


_READERS = (_read_digits, _read_word, _read_hyphenated, _read_share, _read_multiple)


def _diagnose(literal: str) -> str:
    """Why a literal that no reader accepts is wrong, as the end of one sentence."""
    lowered = literal.lower()
    if not literal.strip():
        return "it is empty"
    if literal != literal.strip():
        return "it has spaces around it; copy only the characters of the numeral"
    if lowered in BARE_SCALE_WORDS:
        return "a scale word needs a number printed before it"
    if lowered in VAGUE_WORDS:
        return "it is a vague amount, not a number"
    if re.fullmatch(r"(?:US)?\$", literal, re.IGNORECASE):
        return "a currency sign needs a number printed after it"
    if re.search(r"\d,(?!\d{3}(?!\d))|\d{4},", literal):
        return "a thousands comma must follow one to three digits and precede exactly three"
    if literal.count(".") > 1:
        return "it has more than one decimal point"
    if re.search(r"\d\.\s{2,}\d|\d\s+\.\s*\d", literal):
        return "only a single space right after the decimal point is read as a stray space"
    return f"it is not one of the forms read here ({ACCEPTED_FORMS})"


def parse_numeral(literal: str) -> ParsedNumeral:
    """Read a numeral exactly as printed; raise `NumeralError` for any other literal.

    "hundreds", "millions" and the other plural scale words are found by `find_numerals`
    (so the coverage check sees them) but raise here: they are vague amounts, not numbers.
    """
    for reader in _READERS:
        parsed = reader(literal)
        if parsed is not None:
            return parsed
    raise _fail(literal, _diagnose(literal))


def find_numerals(text: str) -> list[tuple[int, int, str]]:
    """Every numeral token of a text as (start, end, literal), code-point offsets, in order
    and non-overlapping: digit numbers (a thousands comma only before exactly three digits)
    with currency, scale word and percent; hyphenated units ("60-mile", any "-fold" word);
    whole number words (one to twenty, thirty, hundred(s) ... billion(s), half, tripled)."""
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def read_qualifier(text_before: str) -> str:
    """The qualifier printed right before a numeral: "at_least" (over, more than),
    "approximately" (approximately, close to, about, nearly, around), "at_most" (up to),
    "average" (an average of, a daily average of) or "exact". Whole words only, any case;
    trailing whitespace is ignored ("Moreover" is not "over")."""
    words = " ".join(text_before.split()).lower()
    for phrase, qualifier in QUALIFIERS:
        if re.search(rf"(?<!\w){re.escape(phrase)}$", words):
            return qualifier
    return "exact"
