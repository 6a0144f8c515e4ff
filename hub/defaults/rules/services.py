"""Which catalog service a text asks for.

Each service's name and synonyms become terms: sequences of stems, so "clogged drains" meets the
synonym "clog" and "drain". Words one typo away from a catalog word also count ("toliet",
"furnance"), as do a few Spanish trade words. When several services match, the pick is:

1. a term inside a longer one does not count ("water heater" hides "heater");
2. each term weighs 1 / the number of services whose terms contain it: "cleaning" is part of
   drain, house, deep and carpet cleaning, so "cleaning my rugs" is about the rugs;
3. of two terms side by side, the first is the modifier of the second and weighs half
   ("AC maintenance", "clogged toilet"), unless the second is a verb form ("toilets clogged");
4. the heaviest service wins; a tie goes to the one mentioned first (people lead with the
   problem: "I smell gas near the water heater").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from hub.text import normalize, stem, words

# A few trade words in Spanish, folded, and their English catalog counterparts.
_SPANISH = [
    ("calentador de agua", "water heater"),
    ("aire acondicionado", "air conditioning"),
    ("limpieza de casa", "house cleaning"),
    ("limpieza de alfombras", "carpet cleaning"),
    ("calefaccion", "heating"),
    ("calentador", "heater"),
    ("drenaje", "drain"),
    ("desague", "drain"),
    ("tapado", "clogged"),
    ("tapada", "clogged"),
    ("fuga", "leak"),
    ("gotea", "drip"),
    ("goteando", "leaking"),
    ("tuberia", "pipe"),
    ("inodoro", "toilet"),
    ("excusado", "toilet"),
    ("limpieza", "cleaning"),
    ("alfombra", "carpet"),
    ("alfombras", "carpets"),
    ("electricista", "electrician"),
    ("enchufe", "outlet"),
    ("cortocircuito", "short"),
]
_SPANISH_RE = re.compile(r"\b(" + "|".join(re.escape(es) for es, _ in _SPANISH) + r")\b")
_SPANISH_MAP = dict(_SPANISH)

# Misspellings too far from the word for the one-typo rule, or too short for it.
_MISSPELLINGS = {
    "heatr": "heater",
    "furnice": "furnace",
    "furnas": "furnace",
    "thermastat": "thermostat",
    "thermastate": "thermostat",
    "thermostate": "thermostat",
    "sewar": "sewer",
    "sewerage": "sewage",
    "tiolet": "toilet",
    "toliet": "toilet",
    "toilette": "toilet",
    "airconditioner": "air conditioner",
    "aircon": "air conditioner",
    "watter": "water",
    "wter": "water",
    "fawcet": "faucet",
    "faucit": "faucet",
    "sinc": "sink",
    "brekaer": "breaker",
    "braker": "breaker",
    "circut": "circuit",
    "outlit": "outlet",
    "carpit": "carpet",
}

# Real words a typo away from trade words; never "corrected".
_REAL_WORDS = frozenset(
    {
        "cooking", "cooked", "stairs", "stair", "filler", "fitter", "broiler", "sceptic",
        "clear", "clearer", "drawn", "shirt", "hater", "heart", "water", "later", "hotter",
        "taller", "toiled", "sewed", "sower", "beaker", "panels", "pastel", "career", "carper",
        "faster", "master", "matter", "letter", "better", "butter", "gutter", "leaky", "leaks",
        "drips", "spark", "stark", "spare", "waste", "paste", "tiles", "toilets", "boiled",
        "fixed", "mixed", "winter", "filled", "heated", "seated", "painter", "pointer",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Match:
    service: str
    start: int
    end: int
    weight: float


class ServiceMatcher:
    """The terms of one catalog, ready to match texts against."""

    def __init__(self, services: Mapping[str, Iterable[str]]) -> None:
        self.terms: list[tuple[tuple[str, ...], str]] = []
        for service, synonyms in services.items():
            for phrase in {service, *synonyms}:
                for term in _term_forms(phrase):
                    self.terms.append((term, service))
        self.by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for term, service in self.terms:
            self.by_first[term[0]].append((term, service))
        self.vocabulary = {token for term, _ in self.terms for token in term}
        self.raw_words = {
            word
            for service, synonyms in services.items()
            for phrase in (service, *synonyms)
            for word in words(normalize(phrase))
        }
        self.longest = max((len(word) for word in self.raw_words), default=0)
        self._deletions: dict[str, set[str]] = defaultdict(set)
        for word in self.raw_words:
            if len(word) >= 5 and word.isalpha():
                for variant in _deletions(word):
                    self._deletions[variant].add(word)
        # Which services' terms contain each run of stems, for the weights.
        containing: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for term, service in self.terms:
            for start in range(len(term)):
                for end in range(start + 1, len(term) + 1):
                    containing[term[start:end]].add(service)
        self.weight = {term: 1 / len(containing[term]) for term, _ in self.terms}
        self._seen: dict[str, frozenset[str]] = {}  # word → candidates; texts reuse words

    def match(self, text: str) -> str | None:
        """The catalog name ``text`` (normalized) asks for, or ``None``."""
        raw: list[str] = []
        for word in words(_SPANISH_RE.sub(lambda m: _SPANISH_MAP[m.group(1)], text)):
            raw.extend(_MISSPELLINGS.get(word, word).split())
        matches = self._find([self._candidates(word) for word in raw])
        if not matches:
            return None
        scores: dict[str, float] = defaultdict(float)
        first: dict[str, int] = {}
        for found, following in zip(matches, [*matches[1:], None], strict=True):
            weight = found.weight
            if (
                following is not None
                and following.start == found.end
                and following.service != found.service
                and not raw[following.start].endswith(("ing", "ed"))
            ):
                weight /= 2
            scores[found.service] += weight
            first.setdefault(found.service, found.start)
        return max(scores, key=lambda service: (scores[service], -first[service]))

    def _candidates(self, word: str) -> frozenset[str]:
        """The stems a customer's word may stand for: its own, and a near catalog word's."""
        known = self._seen.get(word)
        if known is None:
            if len(self._seen) > 20_000:
                self._seen.clear()
            known = self._seen[word] = self._lookup(word)
        return known

    def _lookup(self, word: str) -> frozenset[str]:
        found = {stem(word)}
        for prefix in ("un", "re"):  # "unclog" → "clog", "rewiring" → "wiring"
            if word.startswith(prefix) and stem(word[len(prefix) :]) in self.vocabulary:
                found.add(stem(word[len(prefix) :]))
        if found & self.vocabulary or len(word) < 6 or word in _REAL_WORDS or not word.isalpha():
            return frozenset(found)
        if len(word) > self.longest + 1:
            # One typo from no catalog word; and a word's deletions cost its length squared.
            return frozenset(found)
        for variant in (word, *_deletions(word)):
            for near in self._deletions.get(variant, set()) | ({variant} & self.raw_words):
                if near[0] == word[0]:
                    found.add(stem(near))
        return frozenset(found)

    def _find(self, tokens: list[frozenset[str]]) -> list[_Match]:
        """Every term occurrence; then longer ones first claim their words."""
        hits: list[_Match] = []
        for start, candidates in enumerate(tokens):
            for first in candidates:
                for term, service in self.by_first.get(first, ()):
                    end = start + len(term)
                    if end <= len(tokens) and all(
                        term[i] in tokens[start + i] for i in range(1, len(term))
                    ):
                        hits.append(_Match(service, start, end, self.weight[term]))
        hits.sort(key=lambda hit: (hit.start - hit.end, hit.start))
        taken: set[int] = set()
        kept: list[_Match] = []
        for hit in hits:
            span = range(hit.start, hit.end)
            if not taken.intersection(span):
                kept.append(hit)
                taken.update(span)
        kept.sort(key=lambda hit: hit.start)
        return kept


def _term_forms(phrase: str) -> list[tuple[str, ...]]:
    """A catalog phrase as stems, plus its words run together ("hydro jetting" → "hydrojet")."""
    parts = words(normalize(phrase).replace("/", " "))
    if not parts:
        return []
    forms = [tuple(stem(part) for part in parts)]
    if len(parts) > 1:
        forms.append((stem("".join(parts)),))
    return forms


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@lru_cache(maxsize=64)
def _matcher(catalog: tuple[tuple[str, tuple[str, ...]], ...]) -> ServiceMatcher:
    return ServiceMatcher(dict(catalog))


def find_service(text: str, services: Mapping[str, Iterable[str]]) -> str | None:
    """The catalog service normalized ``text`` asks for (matchers are cached per catalog)."""
    if not services:
        return None
    catalog = tuple((name, tuple(synonyms)) for name, synonyms in services.items())
    return _matcher(catalog).match(text)
