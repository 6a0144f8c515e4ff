"""What a text is for: a reply, an opt-out, an opt-in or a request for help.

Carriers' compliance keywords (STOP, UNSUBSCRIBE, START, HELP...) count only as the whole text:
"my sink won't stop leaking" and "cancel my appointment" are replies. A customer may also opt out
in their own words ("please stop texting me", "remove me from your list", "no más"), which the
law asks us to honour, so a short list of phrasings that only ever mean "stop contacting me" is
matched anywhere in the text. Each phrasing names what to stop (texting, messages, this list) or
who is wrong (wrong number): a verb alone is never enough.
"""

from __future__ import annotations

import re

from hub.text import fold, sentences
from hub.types import Intent

# Whole-text keywords, after punctuation is dropped and spaces squeezed.
OPT_OUT_KEYWORDS = frozenset(
    {
        "stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke",
        "optout", "opt out", "remove", "arret",
        # Spanish: carriers and customers use these as STOP.
        "alto", "basta", "no mas", "parar", "cancelar",
    }
)  # fmt: skip
OPT_IN_KEYWORDS = frozenset({"start", "unstop", "yes"})
HELP_KEYWORDS = frozenset({"help", "info", "aide"})

# Keywords strong enough to mean opt-out as one sentence of a longer text ("Who is this? Stop.").
# "cancel", "end", "quit" and "remove" are not: "Cancel. We fixed it ourselves" is a reply.
_SENTENCE_KEYWORDS = frozenset({"stop", "stopall", "stop all", "unsubscribe", "optout", "revoke"})
# Courtesy around a keyword that does not change it: "stop please", "unsubscribe me".
_COURTESY = frozenset({"please", "pls", "plz", "now", "me", "thanks", "thank you", "ty", "thx"})

# What a customer asks us to stop. Calls are left out of "don't ...": "don't call, text me" is a
# preference, not an opt-out; "stop calling me" still is one.
_TEXTING = r"(?:text(?:ing|s)?|txt(?:ing)?|messag(?:e|es|ing)|msg(?:s)?|sms|contact(?:ing)?)"
_STOPPING = (
    rf"(?:{_TEXTING}|sending|send(?:ing)? (?:me )?(?:these|this|that|messages|texts)|calling"
    r"|bother(?:ing)?|spam(?:ming)?|bugging|harass(?:ing)?)"
)
_OPT_OUT_PHRASES = [
    # "stop texting me", "please stop sending these", "stop contacting this number"
    rf"\b(?:stop+|quit|cease)(?: it)?(?: with)?(?: the)? {_STOPPING}\b",
    # "don't text me", "do not contact me again", "never text this number"
    rf"\b(?:dont|do not|never|no more) {_TEXTING} (?:me|us|this|my|again|anymore|any more)\b",
    r"\bno more (?:texts|messages|msgs)\b",
    # "remove me from your list", "take me off", "delete my number"
    r"\b(?:remove|delete|erase) (?:me|us|my (?:number|phone|cell|info))\b",
    r"\btake (?:me|us|my number|this number) off\b",
    r"\boff (?:your|this|the) (?:list|texts?)\b",
    r"\bunsubscribe\b",
    r"\bopt ?out\b",
    r"\bwrong (?:number|person|no)\b",
    r"\bleave (?:me|us) alone\b",
    r"\blose (?:my|this) number\b",
    r"\b(?:f+|fuck|piss|buzz|screw) off\b",
    r"^(?:please |just )?go away\b",
    r"^not interested\b",
    # Spanish: "no más mensajes", "no me manden mensajes", "dejen de enviarme textos".
    r"^no mas\b",
    r"\bno (?:mas )?(?:mensajes|textos)\b",
    r"\bno (?:me )?(?:manden|envien|escriban|mande|envie|escriba|contacten)\b",
    r"\bdej(?:e|en|a|ar) de (?:enviar|mandar|escribir|mensajear|contactar)",
    r"\bya no (?:me )?(?:manden|envien|escriban|contacten)\b",
    r"\bb[oa]rr(?:a|en|ar)me de (?:su|la) lista\b",
    # French: "arrêtez de m'écrire", "désabonner".
    r"\barret(?:e|ez) de m",
    r"\bdesabonn",
]
_OPT_OUT_RE = re.compile("|".join(f"(?:{phrase})" for phrase in _OPT_OUT_PHRASES))


def _bare(text: str) -> str:
    """Letters, digits and spaces only, squeezed: "Opt-Out!!" → "opt out", "don't" → "dont"."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]+", " ", text.replace("'", ""))).strip()


def _without_courtesy(text: str) -> str:
    parts = [word for word in text.split(" ") if word not in _COURTESY]
    return " ".join(parts)


def is_keyword(text: str) -> bool:
    """Whether the whole text is a compliance keyword (STOP, START, HELP...), as carriers match
    them, rather than a customer's own words."""
    bare = _bare(fold(text))
    return (
        bare in OPT_OUT_KEYWORDS
        or _without_courtesy(bare) in OPT_OUT_KEYWORDS
        or bare in OPT_IN_KEYWORDS
        or bare in HELP_KEYWORDS
    )


def classify_intent(text: str) -> Intent:
    """The intent of one customer text; ``Intent.REPLY`` when nothing else applies."""
    folded = fold(text).replace("#", " number ")
    bare = _bare(folded)
    if bare in OPT_OUT_KEYWORDS or _without_courtesy(bare) in OPT_OUT_KEYWORDS:
        return Intent.OPT_OUT
    if bare in OPT_IN_KEYWORDS:
        return Intent.OPT_IN
    if bare in HELP_KEYWORDS:
        return Intent.HELP
    for sentence in sentences(folded.replace("opt-out", "optout")):
        for clause in sentence.split(","):
            if _without_courtesy(_bare(clause)) in _SENTENCE_KEYWORDS:
                return Intent.OPT_OUT
    if _OPT_OUT_RE.search(bare):
        return Intent.OPT_OUT
    return Intent.REPLY
