"""How soon the customer needs someone: ``emergency``, ``soon`` or ``flexible``.

Emergencies are danger or damage happening now, what a dispatcher would send someone out for
tonight: water where it should not be (flooding, a burst pipe), sewage coming up, gas, sparks,
smoke, no heat in winter, or a customer who calls it an emergency or urgent. Only an emergency
pages the owner's phone, so haste alone is not one: "ASAP", "as soon as you can", "right away"
are ``soon``. "Not urgent" and "no rush" are checked first, so their words do not count as
urgent. Then a day: today or tomorrow or this week is ``soon``; next week or later is
``flexible``. A weekday alone says when the customer is free, not how urgent it is, so it counts
only as a deadline or a visit day ("by Friday", "come Thursday").
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
    r"\b(?:furnace|(?<!water )heater|boiler|heat pump|heat)\b[^.!?]{0,20}?"
    r"\b(?:quit|died|dead|broke|stopped|not working|isn'?t working|won'?t (?:turn|come) on"
    r"|went out|is out|blowing cold)"
)
# Sewage coming back into the home.
_SEWAGE = re.compile(
    r"\b(?:sewage|sewer)\b[^.!?\n]*\b(?:back(?:ed|ing)? up|coming (?:up|out|in)|overflow)"
    r"|\b(?:back(?:ed|ing)? up|coming (?:up|out))\b[^.!?\n]*\bsewage\b"
)
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
    for match in _EMERGENCY.finditer(text):
        if calm and calm.start() <= match.start() < calm.end():
            continue
        if _NEGATED.search(text[max(0, match.start() - 20) : match.start()]):
            continue
        return "emergency"
    if _SEWAGE.search(text) or (_is_winter(received_at) and _HEATING_FAILURE.search(text)):
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


def _is_winter(moment: datetime) -> bool:
    # Northern-hemisphere heating season: the hub's businesses are in the US and Canada.
    return moment.month in (11, 12, 1, 2, 3)
