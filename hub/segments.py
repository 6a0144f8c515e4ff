"""How many SMS segments a text costs.

A text that fits the GSM 03.38 alphabet is sent in 7-bit encoding: 160 characters in one
segment, 153 per segment once split (the rest carries the concatenation header); characters of
the extension table (``{ } [ ] ~ \\ | ^ €`` and form feed) take two. One character outside it
(an emoji, a curly quote, ``á``...) switches the whole text to UCS-2: 70, then 67 per segment,
with characters beyond the Basic Multilingual Plane taking two code units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets or UTF-16 code units
    count: int
    #: Characters that forced UCS-2, to show the author what to change.
    non_gsm: str = ""


def is_gsm7(text: str) -> bool:
    """Whether ``text`` fits the 7-bit GSM alphabet (else it goes as UCS-2)."""
    return set(text) <= _GSM7


_GSM7 = GSM7_BASIC | GSM7_EXTENSION


def count_segments(text: str) -> Segments:
    non_gsm = "".join(sorted(set(text) - _GSM7))  # per distinct character: texts repeat many
    if not non_gsm:
        units = len(text) + sum(text.count(ch) for ch in GSM7_EXTENSION)
        count = 1 if units <= 160 else math.ceil(units / 153)
        return Segments("GSM-7", units, count)
    units = len(text.encode("utf-16-le")) // 2
    count = 1 if units <= 70 else math.ceil(units / 67)
    return Segments("UCS-2", units, count, non_gsm)
