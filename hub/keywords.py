"""What a text is for: a reply, an opt-out, an opt-in or a request for help.

The opt-out decision is conservative in the direction the law asks: every message whose clear
meaning is "stop texting me" opts out, in English or Spanish, however it is decorated; nothing
else does. In order (the README's decision table):

1. **The whole text is keywords.** After case, accents, punctuation and courtesy ("please",
   "thanks", "por favor", "now") are dropped, letters spaced or hyphenated are joined ("S T O P",
   "S-T-O-P"), a stretched word is shrunk ("STOPPP") and a keyword may repeat ("stop stop
   STOP", "STOP ALTO"): STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, REMOVE,
   ARRET, ALTO, BASTA, PARAR, CANCELAR, NO MAS are opt-outs; START, UNSTOP, YES opt in; HELP,
   INFO, AIDE, AYUDA ask for help. For every business, whatever its languages.
2. **A negation wins over what follows it**: "please don't stop the reminders", "do not
   unsubscribe me", "no dejen de mandarme mensajes" are replies.
3. **A clause that is a strong keyword** (STOP, UNSUBSCRIBE, OPTOUT, REVOKE, ALTO, BASTA, PARAR,
   with courtesy) opts out inside a longer text: "Who is this? Stop.", "Stop, we found someone".
   "cancel", "end", "quit" and "remove" do not: "Cancel. We fixed it ourselves" is a reply.
4. **A text that opens with a strong keyword said to us** opts out whatever trails it: "stop i
   dont need a plumber", "STOP we hired someone", "stop pls". Not when the next word makes it
   another verb: "stop by tomorrow", "stop the leak".
5. **A phrasing that only ever means "stop contacting me"**, anywhere in the text: it names what
   to stop (texting, messages, these reminders, this list) or who is wrong (wrong number): "stop
   texting me", "remove me from your list", "no más mensajes", "dejen de escribirme", "darme de
   baja". A verb alone is never enough: "the leak won't stop", "stop by", "cancel my appointment".

Nothing here backtracks on long input: the patterns have no nested quantifiers, and spaced
letters are joined by walking the words.
"""

from __future__ import annotations

import re

from hub.text import fold, sentences
from hub.types import Intent

# Whole-text keywords (rule 1), as bare words.
OPT_OUT_KEYWORDS = frozenset(
    {
        "stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke",
        "optout", "opt out", "remove", "arret", "unsub", "st0p",
        # Spanish: carriers and customers use these as STOP.
        "alto", "basta", "no mas", "parar", "cancelar", "baja", "darme de baja",
    }
)  # fmt: skip
OPT_IN_KEYWORDS = frozenset({"start", "unstop", "yes"})
HELP_KEYWORDS = frozenset({"help", "info", "aide", "ayuda"})

# Keywords strong enough to mean opt-out as one clause of a longer text (rule 3) or to open it
# (rule 4).
_STRONG = frozenset(
    {"stop", "stopall", "stop all", "unsubscribe", "unsub", "optout", "opt out", "revoke", "st0p",
     "alto", "basta", "parar", "no mas"}
)  # fmt: skip
# Courtesy around a keyword that does not change it: "stop please", "unsubscribe me", "alto ya".
_COURTESY = frozenset(
    {"please", "pls", "plz", "plse", "now", "me", "thanks", "thank", "you", "ty", "thx", "ok",
     "okay", "sir", "maam", "asap", "immediately", "right", "just", "por", "favor", "gracias",
     "ya", "ahora", "mismo", "senor", "senora", "i", "said", "dije", "already", "again", "it",
     "this", "us", "all", "k"}
)  # fmt: skip
# Words that may follow an opening STOP and keep it addressed to us (rule 4).
_ADDRESSED = frozenset(
    {"i", "im", "ive", "id", "we", "were", "weve", "you", "your", "youre", "u", "ur", "wrong",
     "not", "no", "dont", "do", "who", "never", "texting", "txting", "messaging", "sending",
     "contacting", "calling", "bothering", "spamming", "all", "this", "these", "it", "stop",
     "unsubscribe", "remove", "wtf", "omg", "seriously", "yo", "already", "numero",
     "equivocado", "soy", "estoy", "ya", "por", "favor", "que", "dejen", "quien", "n"}
)  # fmt: skip

# What a customer asks us to stop. Calls are left out of "don't ...": "don't call, text me" is a
# preference, not an opt-out; "stop calling me" still is one.
_TEXTING = r"(?:text(?:ing|s)?|txt(?:ing|s)?|messag(?:e|es|ing)|msg(?:s|ing)?|sms|contact(?:ing)?)"
_THINGS = r"(?:texts|txts|messages|msgs|sms|reminders|notifications|alerts|updates|spam)"
_STOPPING = (
    rf"(?:{_TEXTING}|sending|send(?:ing)? (?:me )?(?:these|this|that|messages|texts)"
    r"|calling(?= me| us| this| my| here|$)"
    rf"|bother(?:ing)?|spam(?:ming)?|bugging|harass(?:ing)?|{_THINGS}"
    rf"|getting (?:these |your |the |any )?(?:{_THINGS}|text))"
)
_STOP_VERB = r"(?:stop+|quit|cease|end|cancel|halt)"
_OPT_OUT_PHRASES = [
    # "stop texting me", "please stop sending these", "stop the reminders", "end all texts"
    rf"\b{_STOP_VERB}(?: it)?(?: with)?(?: all)?(?: of)?(?: the| these| those| your| my| this)?"
    rf" {_STOPPING}\b",
    # "don't text me", "do not contact me again", "never text this number", "dont ever text me"
    rf"\b(?:dont|do not|never|no more)(?: ever)? {_TEXTING} (?:me|us|this|my|again|anymore"
    r"|any more|here)\b",
    rf"\bno more {_THINGS}\b",
    rf"\benough (?:with )?(?:the |these |your )?{_THINGS}\b",
    rf"\b(?:i|we) (?:dont|do not) want (?:any |these |your |more |the )*{_THINGS}\b",
    # "remove me from your list", "take me off", "delete my number"
    r"\b(?:remove|delete|erase) (?:me|us|my (?:number|phone|cell|info))\b",
    r"\btake (?:me|us|my number|this number) off\b",
    r"\boff (?:your|this|the) (?:list|texts?|mailing list)\b",
    r"\bunsub(?:scribe)?\b",
    r"\bopt (?:me )?out\b",
    r"\bwrong (?:number|person|no)\b",
    r"\bleave (?:me|us) alone\b",
    r"\blose (?:my|this) number\b",
    r"\b(?:f+|fuck|piss|buzz|screw) off\b",
    r"^(?:please |just )?go away\b",
    r"^not interested\b",
    # Spanish: "no más mensajes", "no me manden mensajes", "dejen de enviarme textos".
    r"^no mas(?: (?:mensajes|textos|por favor|gracias))*$",
    r"\bno (?:mas )?(?:mensajes|textos|msjs?)\b",
    r"\bno (?:me )?(?:manden|envien|escriban|mande|envie|escriba|contacten|mandar|enviar"
    r"|escribir)(?: mas)?(?: (?:mensajes|textos|nada))?\b",
    r"\bdej(?:e|en|a|ar|ar?me) de (?:enviar|mandar|escribir|mensajear|contactar|molestar)",
    r"\bya no (?:me )?(?:manden|envien|escriban|contacten|quiero)\b",
    r"\bno quiero (?:recibir )?(?:mas |sus |los |estos )*(?:mensajes|textos)\b",
    r"\b(?:b[oa]rr|saqu|quit)(?:a|en|ar|e)me de (?:su|la|esta) lista\b",
    r"\bd(?:ar|a|e|en)(?:me|nos)? de baja\b",
    r"\bnumero equivocado\b",
    r"^no me interesa\b",
    r"^no (?:estoy|estamos) interesad[oa]s?\b",
    # French: "arrêtez de m'écrire", "désabonner".
    r"\barret(?:e|ez) de m",
    r"\bdesabonn",
]
_OPT_OUT_RE = re.compile("|".join(f"(?:{phrase})" for phrase in _OPT_OUT_PHRASES))
# A negation just before an opt-out word or phrase, in the same clause, undoes it: "don't stop
# the reminders", "i do not want to unsubscribe", "no dejen de mandarme mensajes". Never a
# bare "no" in English ("no stop texting me" is no negation) and never "don't text": that is
# the opt-out itself.
_NEGATION_BEFORE = re.compile(
    r"\b(?:dont|do not|didnt|did not|doesnt|never|not|no need to|wont|will not|cant|cannot"
    r"|shouldnt|wouldnt|isnt|is not|its not)(?: \w+){0,3} $"
)
_NEGATABLE = re.compile(r"^(?:stop|quit|cease|end|cancel|halt|unsub|opt|remove|delete|take|wrong)")
_NEGACION_BEFORE = re.compile(r"\bno (?:\w+ )?$")
_NEGABLE = re.compile(r"^(?:dej|da|de)")
# Words that make an opening STOP another verb (rule 4): "stop by", "stop the leak".
_NOT_ADDRESSED_CAPS = frozenset(
    {"by", "in", "over", "at", "on", "from", "the", "a", "an", "my", "our", "his", "her",
     "their", "that", "leak", "leaking", "water", "running", "dripping", "working", "and"}
)  # fmt: skip


_DOTTED_RE = re.compile(r"\b([a-z])[.-](?=[a-z]\b)")


def _bare(text: str) -> str:
    """Letters, digits and spaces only, squeezed: "Opt-Out!!" → "opt out", "don't" → "dont"."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]+", " ", text.replace("'", ""))).strip()


def _shrink(word: str) -> str:
    """A stretched word at most two of a letter in a row: "stoppp" → "stopp", "stooop" → "stoop"."""
    out: list[str] = []
    for char in word:
        if len(out) >= 2 and out[-1] == char and out[-2] == char:
            continue
        out.append(char)
    return "".join(out)


def _joined(bare: str) -> list[str]:
    """The words of bare text, runs of three or more single letters joined ("s t o p" →
    "stop"), stretched words shrunk."""
    result: list[str] = []
    letters: list[str] = []
    for word in [*bare.split(" "), ""]:
        if len(word) == 1 and word.isalpha():
            letters.append(word)
            continue
        if len(letters) >= 3:
            result.append("".join(letters))
        else:
            result.extend(letters)
        letters = []
        if word:
            result.append(_shrink(word))
    return result


def _squeeze(word: str) -> str:
    """Doubled letters made single, for comparing with keywords: "stopp" → "stop"."""
    return re.sub(r"(.)\1+", r"\1", word)


_SQUEEZED = {words: frozenset(map(_squeeze, words)) for words in (OPT_OUT_KEYWORDS, _STRONG)}
_SQUEEZED_STRONG = _SQUEEZED[_STRONG]


def _all_keywords(tokens: list[str], keywords: frozenset[str]) -> bool:
    """Whether ``tokens`` are nothing but ``keywords`` (one or more, any of them one to three
    words) and courtesy, with at least one keyword."""
    index, found = 0, False
    while index < len(tokens):
        for size in (3, 2, 1):
            phrase = " ".join(tokens[index : index + size])
            if index + size <= len(tokens) and (
                phrase in keywords or _squeeze(phrase) in _SQUEEZED[keywords]
            ):
                index += size
                found = True
                break
        else:
            if tokens[index] not in _COURTESY:
                return False
            index += 1
    return found


def _whole_text(text: str) -> Intent | None:
    """Rule 1: the intent of a text that is nothing but keywords."""
    tokens = _joined(_bare(fold(text)))
    if not tokens or len(tokens) > 12:
        return None
    if _all_keywords(tokens, OPT_OUT_KEYWORDS):
        return Intent.OPT_OUT
    joined = " ".join(tokens)
    if joined in OPT_IN_KEYWORDS:
        return Intent.OPT_IN
    if joined in HELP_KEYWORDS:
        return Intent.HELP
    return None


def is_keyword(text: str) -> bool:
    """Whether the whole text is a compliance keyword (STOP, START, HELP...), as carriers match
    them, rather than a customer's own words."""
    return _whole_text(text) is not None


def _negated(clause: str, match: re.Match[str]) -> bool:
    before = clause[: match.start()]
    if _NEGATABLE.match(match.group()):
        return _NEGATION_BEFORE.search(before) is not None
    return _NEGABLE.match(match.group()) is not None and _NEGACION_BEFORE.search(before) is not None


def _opens_with_stop(original: str, clause: str) -> bool:
    """Rule 4: the text opens with a strong keyword addressed to us."""
    tokens = _joined(clause)
    if not tokens or _squeeze(tokens[0]) not in _SQUEEZED_STRONG:
        return False
    rest = [token for token in tokens[1:] if token not in ("please", "pls", "plz", "por", "favor")]
    if not rest:
        return True
    if rest[0] in _ADDRESSED:
        return True
    # A capitalised STOP (the way the keyword is printed) to open a text in lower case.
    first = original.strip().split(" ", 1)[0].strip(".,!:;-")
    return first.isupper() and not original.isupper() and rest[0] not in _NOT_ADDRESSED_CAPS


def classify_intent(text: str) -> Intent:
    """The intent of one customer text; ``Intent.REPLY`` when nothing else applies."""
    whole = _whole_text(text)
    if whole is not None:
        return whole
    folded = fold(text).replace("#", " number ").replace("opt-out", "optout")
    folded = _DOTTED_RE.sub(r"\1 ", folded)  # "s.t.o.p" is one word, not four sentences
    clauses = [
        bare
        for sentence in sentences(folded)
        for part in sentence.split(",")
        if (bare := _bare(part))
    ]
    for clause in clauses:  # rule 3
        tokens = [token for token in _joined(clause) if token not in _COURTESY]
        if tokens and _all_keywords(tokens, _STRONG):
            return Intent.OPT_OUT
    if clauses and _opens_with_stop(text, clauses[0]):  # rule 4
        return Intent.OPT_OUT
    for clause in clauses:  # rules 2 and 5
        for match in _OPT_OUT_RE.finditer(clause):
            if _negated(clause, match):
                continue
            return Intent.OPT_OUT
    return Intent.REPLY
