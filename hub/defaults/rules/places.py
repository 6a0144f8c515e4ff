"""ZIP codes and Canadian postal codes.

A Canadian postal code (``A1A 1A1``) has a shape nothing else in a text has, so any one counts.
Five digits, though, are also house numbers ("12010 Jollyville Rd"), prices ("$12500",
"quoted 10500"), capacities ("24000 BTU"), order numbers and gate codes. A five-digit run is a
ZIP unless the words around it say it is one of those; when several remain, one the text calls a
ZIP wins, then the last (customers put the ZIP after the street).

A customer corrects themselves in the same text: "78704, sorry I mean 78745", "zip is 78704 no
wait 78702", "código postal 78704, perdón, quise decir 78745". A ZIP right after a correction
wins over every other; one the text denies ("78702 not 78720", "instead of 78631") is none.
"""

from __future__ import annotations

import re

# Letters Canada Post uses: no D, F, I, O, Q, U anywhere, and no W or Z first.
_CANADIAN_RE = re.compile(
    r"(?<![a-z0-9])([abceghj-nprstvxy]\d[abceghj-nprstv-z])[ -]?(\d[abceghj-nprstv-z]\d)"
    r"(?![a-z0-9])",
    re.IGNORECASE,
)
# Five digits, an optional +4, not inside a longer number, price or phone number.
_FIVE_RE = re.compile(r"(?<![\d$#.,/-])(\d{5})(?:-\d{4})?(?![\d/]|[.,]\d|-\d{1,3}\b|-\d{5})")

# Street types after a house number. The plain-word ones ("way", "run", "court") count only
# capitalized: "78704 by the way" is a ZIP, "4501 Ridge Way" is not.
_STREET_TYPES = frozenset(
    {
        "st", "street", "ave", "av", "avenue", "rd", "road", "dr", "drive", "blvd", "boulevard",
        "ln", "lane", "pkwy", "parkway", "hwy", "highway", "cir", "trl", "ter", "terrace", "cv",
        "ct", "pl", "xing", "fm",
    }
)  # fmt: skip
_STREET_WORDS = frozenset(
    {
        "way", "court", "place", "circle", "trail", "loop", "run", "pass", "cove", "square",
        "crossing", "pike", "row", "path", "bend", "ridge", "hollow", "point", "creek",
    }
)  # fmt: skip
# Words right after the number that make it a quantity, not a place.
_UNITS = frozenset(
    {
        "btu", "btus", "k", "dollars", "bucks", "usd", "sq", "sqft", "sf", "ft", "feet", "miles",
        "mi", "lbs", "lb", "gal", "gallons", "watts", "w", "kw", "volts", "v", "amps", "a", "cfm",
        "rpm", "psi", "hours", "minutes", "times", "people", "units", "x",
    }
)  # fmt: skip
# Words just before the number that make it something else than a ZIP.
_NOT_ZIP_BEFORE = re.compile(
    r"(?:\b(?:gate|door|access|lock|alarm|entry|error|promo|confirmation|reference|ref|"
    r"order|account|acct|invoice|inv|ticket|case|job|unit|apt|suite|ste|lot|model|serial|"
    r"sn|claim|policy|member|pin|code|passcode|password|quoted?|quote of|paid|pay|cost|costs|"
    r"price|priced|charged?|estimate|bid|budget|spent|around|about|over|under|number|no)"
    r"\s*(?:is|was|of|:)?\s*)$",
    re.IGNORECASE,
)
_ZIP_BEFORE = re.compile(
    r"\b(?:zip|zipcode|zip code|postal|postal code|c[oó]digo postal|area|in)\b\W*(?:is\W*|es\W*)?$",
    re.IGNORECASE,
)
# Words that correct what came before ("sorry I mean", "no wait", "quise decir")...
_CORRECTION_BEFORE = re.compile(
    r"\b(?:i mean|i meant|sorry|no wait|wait|actually|correction|oops|my bad|rather|typo"
    r"|perd[oó]n|quise decir|digo|mejor dicho|me equivoqu[eé]|corrijo)\b[^0-9]{0,25}$",
    re.IGNORECASE,
)
# ... and words that deny the number after them ("not 78720", "no es 78631").
_DENIED_BEFORE = re.compile(r"\b(?:not|isn'?t|no es|instead of|en vez de)\W*$", re.IGNORECASE)
# Two-letter state abbreviations just before a ZIP ("Austin TX 78704").
_STATE_CODES = (
    "al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh "
    "nj nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy pr"
)
_STATES = frozenset(_STATE_CODES.split())


def find_zip(text: str) -> str | None:
    """The ZIP (five digits) or Canadian postal code (``A1A 1A1``) in ``text`` (as received:
    capitals tell a street name from a plain word)."""
    canadian = _CANADIAN_RE.search(text)
    if canadian:
        return f"{canadian.group(1)} {canadian.group(2)}".upper()
    candidates: list[tuple[bool, int, str]] = []
    corrected: list[str] = []
    for match in _FIVE_RE.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        if _DENIED_BEFORE.search(before):
            continue
        verdict = _judge(text, match)
        if verdict is None:
            continue
        candidates.append((verdict, match.start(), match.group(1)))
        if len(candidates) > 1 and _CORRECTION_BEFORE.search(before):
            corrected.append(match.group(1))
    if corrected:
        return corrected[-1]
    if not candidates:
        return None
    named = [candidate for candidate in candidates if candidate[0]]
    return (named or candidates)[-1][2]


def _judge(text: str, match: re.Match[str]) -> bool | None:
    """``None`` if this five-digit run is not a ZIP; else whether the text names it one."""
    digits = match.group(1)
    if digits == "00000":
        return None
    before = text[max(0, match.start() - 30) : match.start()]
    after_words = re.findall(r"[A-Za-z]+|[,.;!?\n]", text[match.end() : match.end() + 40])
    if after_words and after_words[0].lower() in _UNITS:
        return None
    if _ZIP_BEFORE.search(before):
        return True
    if _NOT_ZIP_BEFORE.search(before) or _is_house_number(after_words):
        return None
    state = re.search(r"\b([A-Za-z]{2})[ ,]+$", before)
    return bool(state and state.group(1).lower() in _STATES)


def _is_house_number(after_words: list[str]) -> bool:
    """Whether the words after a number read like a street: "Main St", "S Lamar Blvd"."""
    for index, word in enumerate(after_words[:4]):
        lower = word.lower()
        if lower in ",.;!?\n" or (index == 0 and lower in {"on", "at", "of", "and", "is"}):
            return False
        if index > 0 and (lower in _STREET_TYPES or (lower in _STREET_WORDS and word[0].isupper())):
            return True
    return False
