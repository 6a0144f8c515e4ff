"""Spoken words in the written forms the reply parsers read: for voicemail transcripts only.

A transcript is what a caller said, written down by a speech engine: no punctuation or odd
punctuation, fillers ("um", "uh"), and numbers as words or as spaced digits. The reply parsers
were written for texts, where a ZIP is ``78704`` and a time ``3:30``; ``normalise`` rewrites
what a caller says into that shape before the parser chain runs, and changes nothing else:

- fillers go ("this is um Carla" → "this is Carla");
- ``a.m.`` / ``p.m.`` become ``am`` / ``pm``;
- a run-on after a capitalised word is split before "I" ("my name is Priya I'd like" →
  "my name is Priya, I'd like"), so a name does not swallow the next clause;
- a run of number words or single digits is read digit by digit, tens as two digits
  ("seven eight seven oh four", "seventy eight seven oh four", "7 8 7 0 4" → ``78704``;
  "double five" → ``55``), so ZIPs and phone numbers survive;
- an hour said in a time context ("at seven", "between two and four", "three thirty pm",
  "after too") becomes digits (``at 7``, ``between 2 and 4``, ``3:30 pm``, ``after 2``); "to",
  "too" and "for" are read as a number only there, since elsewhere they are the words.

A lone number word outside a time ("I need one", "no one") is left alone: written out it would
read as a house number or a count. Texts typed by customers never pass through here.
"""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_REPEAT = {"double": 2, "triple": 3}
#: Words after which a number is a time of day ("at seven", "between two and four").
_TIME_BEFORE = {
    "at", "after", "before", "by", "around", "about", "from", "between", "until", "till", "til",
    "past", "round",
}  # fmt: skip
#: Words after a number that make it a time ("seven pm", "seven o'clock", "sevenish").
_TIME_AFTER = {"am", "pm", "o'clock", "oclock", "ish"}
#: Homophones of two and four a speech engine writes in their place.
_SOUNDALIKES = {"to": "two", "too": "two", "for": "four"}
#: Minutes said after an hour ("three thirty", "ten fifteen", "two forty five").
_MINUTES = {"fifteen", "thirty", "forty", "fourty", "fifty", "twenty"}

_FILLER_RE = re.compile(r"(?:,\s*)?\b(?:u+m+|u+h+|e+r+m+|a+h+|h+m+|m+h+m+|uh-huh)\b(?:\s*,)?", re.I)
_MERIDIEM_RE = re.compile(r"\b([ap])\.\s?m\b\.?", re.I)
_HYPHEN_NUMBER_RE = re.compile(
    r"\b(twenty|thirty|forty|fourty|fifty|sixty|seventy|eighty|ninety)-(one|two|three|four|five"
    r"|six|seven|eight|nine)\b",
    re.I,
)
_TOKEN_RE = re.compile(r"\S+")
# "Priya I'd like": a capitalised word, then the pronoun "I" starting the next clause.
_RUN_ON_RE = re.compile(r"\b([A-Z][a-z]{1,20}) (?=I(?:'[a-z]{1,2})?\b)")
_EDGE_PUNCT = ",.;:!?\"'()"


def normalise(text: str) -> str:
    """``text``, a speech transcript, in the written forms of a text message (see above)."""
    text = _FILLER_RE.sub(" ", text)
    text = _MERIDIEM_RE.sub(lambda m: m.group(1).lower() + "m", text)
    text = _HYPHEN_NUMBER_RE.sub(r"\1 \2", text)
    text = _RUN_ON_RE.sub(r"\1, ", text)
    words = [_Word.of(token) for token in _TOKEN_RE.findall(text)]
    _read_soundalikes(words)
    out: list[str] = []
    i = 0
    while i < len(words):
        end = _run_end(words, i)
        if end == i:
            out.append(words[i].raw)
            i += 1
            continue
        out.append(_read_run(words, i, end) + words[end - 1].trail)
        i = end
    return " ".join(out)


class _Word:
    __slots__ = ("core", "lead", "raw", "trail")

    def __init__(self, raw: str, lead: str, core: str, trail: str) -> None:
        self.raw, self.lead, self.core, self.trail = raw, lead, core, trail

    @classmethod
    def of(cls, raw: str) -> _Word:
        stripped = raw.strip(_EDGE_PUNCT)
        if not stripped:
            return cls(raw, "", "", raw)
        start = raw.index(stripped)
        lead, trail = raw[:start], raw[start + len(stripped) :]
        return cls(raw, lead, stripped.lower(), trail)

    def is_number(self) -> bool:
        core = self.core
        return (
            core in _UNITS
            or core in _TEENS
            or core in _TENS
            or core in _REPEAT
            or (len(core) == 1 and core.isdigit())
        )


def _before(words: list[_Word], i: int) -> str:
    return words[i - 1].core if i > 0 else ""


def _after(words: list[_Word], i: int) -> str:
    return words[i + 1].core if i + 1 < len(words) else ""


def _time_context(words: list[_Word], start: int, end: int) -> bool:
    """Whether the number words ``words[start:end]`` stand in a time of day's place."""
    before = _before(words, start)
    if before in _TIME_BEFORE:
        return True
    # "between 2 and four", "from 2 to four": the second end of a range.
    if before in {"and", "to", "or", "-"} and start >= 2 and _hourish(words[start - 2]):
        return True
    return _after(words, end - 1) in _TIME_AFTER


def _hourish(word: _Word) -> bool:
    return word.is_number() or word.core.rstrip("apm").isdigit()


def _read_soundalikes(words: list[_Word]) -> None:
    """ "at too", "after for pm": a homophone of a number where only a time can stand."""
    for i, word in enumerate(words):
        number = _SOUNDALIKES.get(word.core)
        if number is None or word.trail:
            continue
        before, after = _before(words, i), _after(words, i)
        if (before in {"at", "after", "before", "around", "until", "till"} and (
            after in _TIME_AFTER or after in _MINUTES or after in {"", "or", "and", "please"}
        )) or after in {"am", "pm", "o'clock", "oclock"}:  # fmt: skip
            word.core = number


def _run_end(words: list[_Word], start: int) -> int:
    """The end of the run of number words starting at ``start`` (``start`` itself if none).

    A run stops after a word with trailing punctuation, and "oh" alone is an exclamation.
    """
    end = start
    while end < len(words) and words[end].is_number():
        end += 1
        if words[end - 1].trail.strip():
            break
    cores = [w.core for w in words[start:end]]
    if all(core in {"oh", "o"} for core in cores):
        return start
    if end - start == 1 and cores[0] in _REPEAT:
        return start
    if end - start == 1 and not _time_context(words, start, end):
        return start  # a lone number word is a count or a word, not something to rewrite
    return end


def _read_run(words: list[_Word], start: int, end: int) -> str:
    cores = [w.core for w in words[start:end]]
    lead = words[start].lead
    if _time_context(words, start, end):
        clock = _as_clock(cores)
        if clock is not None:
            return lead + clock
    return lead + _as_digits(cores)


def _value(core: str) -> int | None:
    for table in (_UNITS, _TEENS, _TENS):
        if core in table:
            return table[core]
    return int(core) if core.isdigit() else None


def _as_clock(cores: list[str]) -> str | None:
    """ "seven" → ``7``, "three thirty" → ``3:30``, "two forty five" → ``2:45``; ``None`` if
    the words are no time of day."""
    values = [_value(core) for core in cores]
    if any(v is None for v in values) or not values:
        return None
    hour = values[0]
    assert hour is not None
    if not 1 <= hour <= 12:
        return None
    if len(values) == 1:
        return str(hour)
    minute_words = cores[1:]
    minutes = [v for v in values[1:] if v is not None]
    if minute_words[0] in {"oh", "o"} and len(minutes) == 2 and minutes[1] < 10:
        return f"{hour}:0{minutes[1]}"  # "seven oh five"
    if minute_words[0] in _MINUTES and len(minutes) <= 2:
        total = sum(minutes)
        if (len(minutes) == 1 or minutes[1] < 10) and total < 60:
            return f"{hour}:{total:02d}"
    return None


def _as_digits(cores: list[str]) -> str:
    """Read number words digit by digit: tens followed by a unit are two digits ("seventy
    five" → ``75``), a ten alone is ``70``, "double five" is ``55``."""
    digits: list[str] = []
    repeat = 1
    i = 0
    while i < len(cores):
        core = cores[i]
        if core in _REPEAT:
            repeat = _REPEAT[core]
            i += 1
            continue
        if core in _TENS:
            nxt = cores[i + 1] if i + 1 < len(cores) else ""
            if nxt in _UNITS and _UNITS[nxt] > 0 and nxt not in {"oh", "o"}:
                digits.append(str(_TENS[core] + _UNITS[nxt]) * repeat)
                i += 2
                repeat = 1
                continue
            digits.append(str(_TENS[core]) * repeat)
        else:
            value = _value(core)
            digits.append(str(value) * repeat)
        repeat = 1
        i += 1
    return "".join(digits)
