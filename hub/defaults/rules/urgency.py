"""How soon the customer needs someone: ``emergency``, ``soon`` or ``flexible``.

Emergencies are danger or damage happening now, what a dispatcher would send someone out for
tonight: water where it should not be (flooding, a burst pipe), sewage coming up, gas, sparks,
smoke, no heat in winter, or a customer who calls it an emergency or urgent. Only an emergency
pages the owner's phone, so haste alone is not one: "ASAP", "as soon as you can", "right away"
are ``soon``. "Not urgent" and "no rush" are checked first, so their words do not count as
urgent. Then a day: today or tomorrow or this week is ``soon``; next week or later is
``flexible``. A weekday alone says when the customer is free, not how urgent it is, so it counts
only as a deadline or a visit day ("by Friday", "come Thursday").

Emergencies are read by meaning too, without the alarm words: water coming through a ceiling
or out of a light, inches of water, a leak "all over" the floor, sewage on a floor, a smell with
gas near it, an outlet or panel hot, buzzing or melting, a dead furnace with the house
freezing in any season. A danger in the past ("the pipe burst last winter", "there was a gas
smell yesterday but it was fixed", "it's dry now") is not one: its sentence says it is over.
Spanish is read through ``hub.defaults.rules.spanish`` ("se inundó" is "flooded").
"""

from __future__ import annotations

import re
from datetime import datetime

_CALM = re.compile(
    r"\b(?:no|not an?|not in an?|no big) (?:rush|hurry|emergency|urgency|biggie)\b"
    r"|\bnot (?:urgent|pressing|an emergency|super urgent|that urgent)\b"
    r"|\bnothing urgent\b|\bisn'?t urgent\b"
    # "whenever" as an answer ("whenever works", "call me whenever"), not "whenever it rains".
    r"|\bwhenever\b(?= *(?:$|[.,!?;]|works?|is|you|your|you're|good|fine|convenient|ok|okay))"
    r"|\bwhen(?:ever)? you (?:get|have) a (?:chance|minute|sec)"
    r"|\bat your convenience\b|\bno (?:time )?(?:rush|hurry)\b|\bin no hurry\b|\btake your time\b"
)
_EMERGENCY = re.compile(
    r"\b(?:emergency|emergencia|urgent(?:e|ly)?|urgencia)\b"
    r"|\bflood(?:s|ed|ing)?\b|\binundad"
    r"|\bburst(?:ing|ed)?\b|\bbroken? (?:water )?(?:main|pipe)|\bpipe (?:broke|split|exploded)"
    r"|\bwater (?:is )?everywhere|\b(?:pouring|gushing|spraying)\b(?! rain)"
    r"|\boverflow(?:ing|ed|s)?\b"
    r"|\bgas (?:smell|leak|odor)|\bsmell(?:s|ing)? (?:of |like )?gas\b|\bsmells? gas\b"
    r"|\bspark(?:s|ing|ed)?\b|\bsmoke\b(?! (?:detector|alarm))|\bburning (?:smell|plastic|odor)"
    r"|\bsmell(?:s|ing)? (?:like )?(?:burning|smoke)|\b(?:on|caught) fire\b|\belectrocut"
    r"|\b(?:got|get|getting) shocked\b|\bshock(?:ed|ing)? me\b"
    r"|\bno heat\b|\bno heating\b|\bheat(?:ing)? (?:is |went |has gone )?(?:out|off|gone|dead)\b"
    r"|\bheat (?:won'?t|isn'?t|is not|will not|doesn'?t|does not) (?:come on|turn on|work|working)"
    r"|\bcarbon monoxide\b|\bco (?:alarm|detector) "
)
# A heating failure in winter is "no heat" in other words.
_HEATING_FAILURE = re.compile(
    r"\b(?:furnace|(?<!water )heater|boiler|heat pump|heat|heating)\b[^.!?]{0,20}?"
    r"\b(?:quit|died|dead|broke|stopped|not working|isn'?t working|won'?t (?:turn|come) on"
    r"|went out|is out|blowing cold)"
)
# Sewage coming back into the home.
_SEWAGE = re.compile(
    r"\b(?:sewage|sewer)\b[^.!?\n]*\b(?:back(?:ed|ing)? up|coming (?:up|out|in)|overflow)"
    r"|\b(?:back(?:ed|ing)? up|coming (?:up|out))\b[^.!?\n]*\bsewage\b"
)
# Danger by meaning, not by alarm words. Gaps are bounded: linear on long texts.
_BY_MEANING = re.compile(
    r"\b(?:water|leak\w*|drip\w*|pour\w*|gush\w*|coming|running)\b[^.!?\n]{0,40}"
    r"\b(?:through|from|out of|in) (?:the |my |our )?(?:\w+ )?(?:ceiling|light fixture|light)\b"
    r"|\bceiling\b[^.!?\n]{0,30}\b(?:leaking|dripping|pouring|sagging|caving|collapsing"
    r"|coming down)\b"
    r"|\bsewage\b[^.!?\n]{0,40}\b(?:floor|basement|everywhere|all over|tub|shower|yard)\b"
    r"|\b(?:floor|basement)\b[^.!?\n]{0,30}\bsewage\b"
    r"|\b(?:outlet|switch|panel|breaker\w*|plug|wires?|wiring|cord|fuse box)\b[^.!?\n]{0,30}"
    r"\b(?:hot to the touch|is hot|melt\w*|buzzing|scorch\w*|crackl\w*|burnt|burned)\b"
    r"|\b(?:\d+|an|one|two|three|a few|several) (?:inch(?:es)?|feet|foot|ft) of water\b"
    r"|\bstanding water\b|\bwater (?:is )?rising\b"
    r"|\b(?:leak\w*|water|pouring|spilling)\b[^.!?\n]{0,15}\ball over\b"
    r"|\bwater (?:is )?coming (?:up|in|out|through)\b"
)
# Gas with a smell near it: "huele raro cerca de la estufa... el medidor de gas".
_GAS = re.compile(r"\bgas\b")
_SMELL = re.compile(r"\b(?:smell\w*|odor|stinks?|fumes)\b")
_NO_SMELL = re.compile(r"\b(?:no|not|without|dont|don't|never) (?:\w+ )?$")
# A heating failure with the house cold is an emergency whatever the month.
_COLD = re.compile(r"\b(?:freezing|frozen|degrees|so cold|very cold|cold in (?:here|the house))\b")
# A sentence that puts its danger in the past...
_OVER = re.compile(
    r"\b(?:last (?:week|month|year|winter|summer|spring|fall)|ago"
    r"|in the (?:spring|summer|fall|winter)|once|used to|was (?:fixed|repaired)|were fixed"
    r"|fixed it|got fixed|been fixed|dry now|fine now|ok now|okay now|since then|previously"
    r"|back in|(?:had|was) repaired)\b"
)
# ... unless it says it is still going on.
_ONGOING = re.compile(r"\b(?:still|again|right now|currently|keeps|is getting)\b")
_SENTENCE_END = re.compile(r"[.!?\n]")

_NEGATED = re.compile(r"\b(?:no|not|isn'?t|wasn'?t|never|nothing) (?:\w+ )?$")
_SOON = re.compile(
    r"\b(?:asap|a\.s\.a\.p|immediately|right away|right now|(?:as )?soon as (?:possible|you can)"
    r"|today|tonight|this (?:morning|afternoon|evening|week|weekend)|tomorrow"
    r"|in the next (?:day|couple (?:of )?days)|(?:a )?day or two|same day|end of (?:the )?day)\b"
)
_DEADLINE_DAY = re.compile(
    r"\b(?:by|before|on|this|come(?: out)?|out|visit|coming)\s+(?:monday|tuesday|wednesday"
    r"|thursday|friday|saturday|sunday)\b"
)
_LATER = re.compile(
    r"(?<!for )(?<!for a )(?<!for the )(?<!past )(?<!last )(?<!the last )(?<!every )(?<!each )"
    r"\b(?:next (?:week(?:end)?|month|year|couple (?:of )?weeks"
    r"|few weeks)|(?:in )?(?:a |the )?(?:few|couple(?: of)?|two|2|several) (?:weeks|months)"
    r"|in a (?:week|month)|this (?:month|summer|fall|spring|winter|year)|later this"
    r"|sometime|some time|eventually|down the road|after the holidays)\b(?! ago)"
)
# Past events ("it broke on Monday") say nothing about when to come.
_PAST = re.compile(
    r"\b(?:broke|happened|started|stopped|quit|died|was|were|went|began|came|did|had|since)\b[^.!?,]*$"
)
_NEXT_DAY = re.compile(r"\bnext (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b")


def find_urgency(text: str, received_at: datetime) -> str | None:
    """``emergency``, ``soon``, ``flexible`` or ``None`` for normalized ``text``."""
    calm = _CALM.search(text)
    for pattern in (_EMERGENCY, _BY_MEANING):
        for match in pattern.finditer(text):
            if calm and calm.start() <= match.start() < calm.end():
                continue
            if _NEGATED.search(text[max(0, match.start() - 20) : match.start()]):
                continue
            if _is_over(text, match.start()):
                continue
            return "emergency"
    if _gas_smelled(text):
        return "emergency"
    heating_failure = _HEATING_FAILURE.search(text)
    if _SEWAGE.search(text) or (
        heating_failure and (_is_winter(received_at) or _COLD.search(text))
    ):
        return "emergency"
    if calm:
        return "flexible"
    if _SOON.search(text):
        return "soon"
    for match in _DEADLINE_DAY.finditer(text):
        if not _PAST.search(text[max(0, match.start() - 120) : match.start()]):
            return "soon"
    if _LATER.search(text) or _NEXT_DAY.search(text):
        return "flexible"
    return None


def _sentence_at(text: str, position: int) -> str:
    """The sentence around ``position`` (at most 200 characters either side)."""
    start = max(0, position - 200)
    before = text[start:position]
    ends = [match.end() for match in _SENTENCE_END.finditer(before)]
    after = text[position : position + 200]
    stop = _SENTENCE_END.search(after)
    return text[start + (ends[-1] if ends else 0) : position + (stop.start() if stop else 200)]


def _is_over(text: str, position: int) -> bool:
    sentence = _sentence_at(text, position)
    return _OVER.search(sentence) is not None and _ONGOING.search(sentence) is None


def _gas_smelled(text: str) -> bool:
    """A smell within 60 characters of "gas", not denied ("no smell") nor over."""
    for gas in _GAS.finditer(text):
        window_start = max(0, gas.start() - 60)
        for smell in _SMELL.finditer(text, window_start, gas.end() + 60):
            if _NO_SMELL.search(text[max(0, smell.start() - 20) : smell.start()]):
                continue
            if _is_over(text, smell.start()):
                continue
            return True
    return False


def _is_winter(moment: datetime) -> bool:
    # Northern-hemisphere heating season: the hub's businesses are in the US and Canada.
    return moment.month in (11, 12, 1, 2, 3)
