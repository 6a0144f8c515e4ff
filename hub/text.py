"""Text clean-up shared by the rules: folding, SMS shorthand, sentences, words and stems.

Customers text in lower case, without punctuation, with shorthand ("tmrw", "pls", "2day") and
typos. Every rule works on ``fold``-ed text (lower case, no accents, plain quotes and dashes) and
most on ``normalize``-d text, where shorthand is already spelled out, so each rule's patterns stay
short.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

# Typographic characters phones insert ("smart" quotes, dashes) and their plain forms.
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " "})  # fmt: skip


def fold(text: str) -> str:
    """Lower case, accents removed ("más" → "mas", "arrêt" → "arret"), plain quotes and dashes."""
    text = unicodedata.normalize("NFKD", text.translate(_PLAIN))
    return "".join(char for char in text if not unicodedata.combining(char)).lower()


# Shorthand spelled out. Keys are whole words of folded text.
_SHORTHAND = {
    "2day": "today",
    "tday": "today",
    "2nite": "tonight",
    "tonite": "tonight",
    "2morrow": "tomorrow",
    "2moro": "tomorrow",
    "tmrw": "tomorrow",
    "tmrow": "tomorrow",
    "tmw": "tomorrow",
    "tmr": "tomorrow",
    "tmro": "tomorrow",
    "tomm": "tomorrow",
    "tomorow": "tomorrow",
    "tommorow": "tomorrow",
    "tommorrow": "tomorrow",
    "tomorrrow": "tomorrow",
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "u": "you",
    "ya": "you",
    "ur": "your",
    "r": "are",
    "thx": "thanks",
    "tx": "thanks",
    "ty": "thanks",
    "thanx": "thanks",
    "tks": "thanks",
    "b4": "before",
    "rn": "right now",
    "asap": "asap",
    "hr": "hour",
    "hrs": "hours",
    "mins": "minutes",
    "min": "minutes",
    "wk": "week",
    "nxt": "next",
    "mon": "monday",
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "weds": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
    "wont": "won't",
    "dont": "don't",
    "cant": "can't",
    "isnt": "isn't",
    "im": "i'm",
}
_SHORTHAND_RE = re.compile(r"(?<![\w'/])(" + "|".join(map(re.escape, _SHORTHAND)) + r")(?![\w'/])")
# "a/c", "a.c." and "a c" mean the air conditioner; "a.s.a.p" means asap.
_SPELLED_RE: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\ba\s?/\s?c\b|\ba\.c\.?(?!\w)"), "ac"),
    (re.compile(r"\ba\.s\.a\.p\.?"), "asap"),
    # "10a", "5 p.m." → "10am", "5pm"; not a unit number ("apt 4a") or a 200A panel.
    (
        re.compile(
            r"(?<![\w#])(?<!apt )(?<!unit )(?<!suite )(\d{1,2}(?::\d\d)?)"
            r"(?:\s*([ap])\.?m\b\.?|([ap])\b)"
        ),
        lambda m: f"{m.group(1)}{m.group(2) or m.group(3)}m",
    ),
    (re.compile(r"@"), " at "),
]


@lru_cache(maxsize=512)
def normalize(text: str) -> str:
    """``fold``-ed text with shorthand spelled out and spaces squeezed (cached: every rule asks)."""
    folded = fold(text)
    for pattern, replacement in _SPELLED_RE:
        folded = pattern.sub(replacement, folded)
    folded = _SHORTHAND_RE.sub(lambda m: _SHORTHAND[m.group(1)], folded)
    return re.sub(r"[ \t]+", " ", folded).strip()


# A dash between spaces ends a clause too. Lookarounds, not "\s+-+\s+": that backtracks over
# every run of spaces without a dash, quadratic on a long one.
_SENTENCE_RE = re.compile(r"(?<!\d)[.!?;\n]+(?!\d)|(?<=\s)-+(?=\s)")


def sentences(text: str) -> list[str]:
    """Sentences (and dash-separated clauses) of normalized text, stripped, none empty."""
    return [part.strip() for part in _SENTENCE_RE.split(text) if part.strip()]


WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    """The words of normalized text, apostrophes dropped ("won't" → "wont")."""
    return [word.replace("'", "") for word in WORD_RE.findall(text)]


# Endings taken off, longest first; "ied"/"ies" become "y".
_SUFFIXES = ("erings", "ering", "ings", "ing", "ers", "er", "ied", "ies", "ed", "es", "s", "y")


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """A crude stem, identical for the forms customers use of one word.

    Not linguistics: "clogged", "clogs" and "clogging" all become "clog"; "heater" and "heating"
    become "heat"; "leaky" becomes "leak". What matters is that a catalog synonym and a customer's
    word reduce to the same string; that "water" becomes "wat" is harmless.
    """
    if len(word) < 4 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[: -len(suffix)] + ("y" if suffix in ("ied", "ies") else "")
            break
    if len(word) > 3 and word[-1] in "ey":
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # clogg → clog, dripp → drip
    return word


# C0 and C1 controls, DEL, and the bidi controls that reorder what a terminal shows.
_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every control character escaped (``\\x1b``, ``\\n``, ``\\u202e``...): for
    showing customer words in a terminal or a log line, where an escape sequence would clear
    the screen or set the window title, a newline would forge a line, and a bidi override
    would make the text read backwards."""
    return _UNSAFE_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
