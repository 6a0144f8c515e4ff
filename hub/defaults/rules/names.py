"""The customer's name, when they give it: "this is Maria", "my name is Bob Smith", "- Dave",
"Thanks, Lisa", "Dave here", "ask for Dave", "me llamo Carmen", "soy Guadalupe", "le habla Rocío".

Read from the text as received, because capitals matter: after "I'm" or "it's" only a
capitalized word is taken ("I'm Jose" but not "I'm flooding"). Every candidate word must look like
a name: letters (a hyphen or apostrophe inside), not a common word that follows these phrases
("this is urgent", "thanks, see you"), not a weekday, not ending in -ing. A second word is taken
only if it is capitalized ("Bob Smith"; "this is maria" gives "Maria"). A filler or a title
between the phrase and the name is skipped ("this is um Carla", "this is Mr Johnson"). Ordinary
words customers capitalize are not names: seasons ("It's Fall"), trade abbreviations ("It's
HVAC"), modal verbs and adverbs that open a sentence ("Will try later", "Really need help"),
and what follows a thank-you ("thanks, sounds good"). Letters may carry accents ("José").
"""

from __future__ import annotations

import re

_LETTER = r"[^\W\d_]"
_NAME_WORD = rf"{_LETTER}(?:{_LETTER}|['\-])*{_LETTER}|{_LETTER}"
# Filler and titles between "this is" and the name: "this is um Carla", "this is Mr Johnson".
_SKIPPED = (
    r"(?:(?:um+|uh+|er+|erm|ah+|uhm+|hmm+|mr|mrs|ms|miss|dr|sr|sra|srta|don|do[nñ]a)\.?,?[ \t]+)?"
)
_CANDIDATE = rf"{_SKIPPED}({_NAME_WORD})(?:[ \t]+({_NAME_WORD}))?"
# A co-signer after a sign-off name ("- Sandra & Mike"): the first name is the sender's.
_AND_ONE_MORE = rf"(?:[ \t]*(?:&|\+|and)[ \t]*(?:{_NAME_WORD}))?"

# (pattern, whether the first word must be capitalized). Tried in order; the first name wins.
_PATTERNS: list[tuple[re.Pattern[str], bool]] = [
    (re.compile(rf"\bmy name(?:'s| is|:)[ \t]+{_CANDIDATE}", re.IGNORECASE), False),
    (re.compile(rf"\bname(?: is|:)[ \t]*{_CANDIDATE}", re.IGNORECASE), False),
    (re.compile(rf"\b(?:me llamo|mi nombre es)[ \t]+{_CANDIDATE}", re.IGNORECASE), False),
    (re.compile(rf"\b(?:soy|(?:le |les )?habla)[ \t]+{_CANDIDATE}", re.IGNORECASE), True),
    (re.compile(rf"\bask (?:for|for for)[ \t]+{_CANDIDATE}", re.IGNORECASE), True),
    (re.compile(rf"\bthis is[ \t]+{_CANDIDATE}", re.IGNORECASE), False),
    (re.compile(rf"\b(?:it'?s|it is|i'?m|i am|im)[ \t]+{_CANDIDATE}", re.IGNORECASE), True),
    (re.compile(rf"(?:^|[.!?\n][ \t]*){_CANDIDATE}[ \t]+here\b", re.IGNORECASE), True),
    # Sign-offs at the very end: "- Dave", "—Marcus", "Thanks, Lisa", "Regards, Linda Park".
    (
        re.compile(
            rf"(?:^|\s|\d)[-~\u2013\u2014]+[ \t]*{_CANDIDATE}{_AND_ONE_MORE}[\s.!]*$", re.IGNORECASE
        ),
        False,
    ),
    (
        re.compile(
            rf"\b(?:thanks|thank you|thx|ty|tks|regards|cheers|best|sincerely|love)"
            rf"[ \t]*[,!.]*[ \t]*{_CANDIDATE}{_AND_ONE_MORE}[\s.!]*$",
            re.IGNORECASE,
        ),
        False,
    ),
    (
        re.compile(
            rf"^(?:regards|sincerely|cheers|best)[ \t]*,[ \t]*{_CANDIDATE}\b", re.IGNORECASE
        ),
        False,
    ),
]

# Words that follow "this is", "I'm", "thanks" and the like without being names.
_NOT_NAMES = frozenset(
    """
    a an the my our your his her their this that these those it its me us you u ya y'all all
    and or but so if as at on in to of for from with about by up down out off over again here
    there now just still also too very really not no yes yeah yep ok okay k sure fine good great
    bad urgent important serious emergency regarding re wrong right same second first last third
    only one two three home free available around back away busy calling texting looking trying
    going getting having hoping wondering asking writing following reaching interested done
    ready sorry glad happy new old hot cold out working broken flooding leaking what who why how
    when where which is was be been being have has had do does did can could will would should
    may might must shall see talk told tell let call text reply message anyway again thanks
    thank please pls plz sir maam madam mr mrs ms dr team everyone guys folks man dude bro
    monday tuesday wednesday thursday friday saturday sunday today tonight tomorrow morning
    afternoon evening night week weekend
    pm am asap ac hvac gfci ev sink toilet drain heat furnace water leak pipe outlet carpet
    house apartment condo unit apt suite number phone cell zip code address street
    stop start help info end quit cancel unsubscribe remove
    lol lmao omg smh idk tbh btw fyi
    spring summer fall autumn winter
    hvac plumbing electrical sounds sound sounded appreciate appreciated perfect awesome cool
    will would could should can may might must shall really just also maybe probably definitely
    um uh er erm ah hmm
    el la los las lo de del un una yo su mi tu muy aqui aca hola gracias favor senor senora
    dueno duena inquilino inquilina vecino vecina cliente nuevo nueva de parte señor señora
    dueño dueña aquí acá
    """.split()  # noqa: SIM905 - a word list reads best as text
)


def find_name(text: str) -> str | None:
    """The name the customer signs or introduces themselves with, in ``text`` as received."""
    for pattern, capitalized in _PATTERNS:
        for match in pattern.finditer(text):
            name = _name(match.group(1), match.group(2), capitalized)
            if name:
                return name
    return None


def _name(first: str, second: str | None, capitalized: bool) -> str | None:
    if not _looks_like_name(first) or (capitalized and not first[0].isupper()):
        return None
    parts = [first]
    # A second word only when it is capitalized: "Bob Smith", not "Angela from".
    if second and second[0].isupper() and _looks_like_name(second) and first[0].isupper():
        parts.append(second)
    return " ".join(part if not part.islower() else part.capitalize() for part in parts)


def _looks_like_name(word: str) -> bool:
    lower = word.lower()
    return len(word) >= 2 and lower not in _NOT_NAMES and not lower.endswith(("ing", "'s"))
