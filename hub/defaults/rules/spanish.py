"""Spanish (and a few English idioms) said the way the English rules read them.

The rules for services, urgency and callback times are written against English. Rather than a
second set of rules, the phrases Spanish-speaking customers text are rewritten into the English
the rules know, on ``normalize``-d text (folded: no accents, lower case): "mañana en la tarde"
→ "tomorrow afternoon", "después de las 5" → "after 5", "se inundó" → "flooded", "huele a gas"
→ "smells gas", "el calentador" → "water heater". The phrases are Spanish words, so English texts
pass through unchanged, and Spanglish ("call me mañana en la tarde") reads as one language.

Order matters: longer phrases come before the words inside them ("la mañana" is the morning,
"mañana" alone is tomorrow; "drenaje principal" is the main line, "drenaje" a drain). Every
pattern is a plain alternation of words, linear on any input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_WEEKDAYS = {
    "lunes": "monday",
    "martes": "tuesday",
    "miercoles": "wednesday",
    "jueves": "thursday",
    "viernes": "friday",
    "sabado": "saturday",
    "domingo": "sunday",
}
_DAY = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_HOUR = r"\d{1,2}(?::\d\d)?"

Replacement = str | Callable[[re.Match[str]], str]


def _in_hours(amount: str, unit: str) -> str:
    number = {"dos": "two", "tres": "three"}.get(amount, amount)
    return f"in {number} {'hours' if unit == 'horas' else 'minutes'}"


_PHRASES: list[tuple[str, Replacement]] = [
    # Greetings before parts of the day: "buenas noches" is hello, not "tonight".
    (r"\bbuen[oa]s (?:dias|tardes|noches)\b|\bbuenas\b", "hello"),
    (r"\bpor favor\b|\bporfa\b|\bfavor de\b", "please"),
    # Times of day.
    (rf"\b({_HOUR}) (?:de la (?:tarde|noche)|pm)\b", r"\1pm"),
    (rf"\b({_HOUR}) de la manana\b", r"\1am"),
    (r"\bno antes de(?: las| la)?\b", "no earlier than"),
    (r"\bno despues de(?: las| la)?\b", "no later than"),
    (r"\bdespues del trabajo\b", "after work"),
    (r"\bdespues del? mediodia\b", "after noon"),
    (r"\bantes del? mediodia\b", "before noon"),
    (r"\bmediodia\b", "noon"),
    (r"\bdespues de(?:l| las| la)?\b", "after"),
    (r"\bantes de(?:l| las| la)?\b", "before"),
    (rf"\bentre (?:las |la )?({_HOUR}) y (?:las |la )?({_HOUR})", r"between \1 and \2"),
    (rf"\bde (?:las |la )?({_HOUR}) a (?:las |la )?({_HOUR})", r"from \1 to \2"),
    (rf"\ba eso de (?:las |la )?({_HOUR})", r"around \1"),
    (rf"\ba (?:las|la) ({_HOUR})", r"at \1"),
    (r"\ben media hora\b", "in half an hour"),
    (r"\ben un par de horas\b", "in a couple hours"),
    (r"\ben una hora\b", "in an hour"),
    (r"\ben (dos|tres|\d{1,3}) (horas|minutos)\b", lambda m: _in_hours(m[1], m[2])),
    # Days and parts of days.
    (r"\besta manana\b", "this morning"),
    (r"\besta tarde\b", "this afternoon"),
    (r"\besta noche\b|\bhoy (?:en|por) la noche\b", "tonight"),
    (r"\b(?:en|por|de|durante) la manana\b|\btemprano\b", "morning"),
    (r"\b(?:en|por|de|durante) la tarde\b", "afternoon"),
    (r"\b(?:en|por|de|durante) la noche\b", "evening"),
    (r"\bmanana\b", "tomorrow"),
    (r"\bhoy\b", "today"),
    (r"\bahora mismo\b|\bde inmediato\b|\binmediatamente\b", "right now"),
    (r"\b(?:lo )?(?:antes|mas pronto|mas rapido) posible\b|\bcuanto antes\b", "asap"),
    (r"\bla (?:proxima|otra) semana\b|\bla semana que viene\b|\bsemana proxima\b", "next week"),
    (r"\b(?:el )?(?:proximo|otro) mes\b|\bel mes que viene\b", "next month"),
    (r"\beste fin de semana\b", "this weekend"),
    (r"\bfin de semana\b", "weekend"),
    (r"\b(" + "|".join(_WEEKDAYS) + r")\b", lambda m: _WEEKDAYS[m[1]]),
    (rf"\bpara el ({_DAY})\b", r"by \1"),
    (rf"\b(?:el|este) ({_DAY})\b", r"\1"),
    (r"\bcada (dos|2) semanas\b", "every two weeks"),
    (r"\ba cualquier hora\b|\bcuando sea\b", "anytime"),
    (r"\btodo el dia\b", "all day"),
    (r"\ben casa\b", "home"),
    (r"\besta bien\b|\bme queda bien\b|\bme funciona\b", "is fine"),
    # Calls.
    (
        r"\bme (?:pueden|puede|podrian|podria) (?:llamar|marcar)\b"
        r"|\b(?:pueden|puede|podrian|podria) (?:llamarme|marcarme)\b"
        r"|\bllam(?:eme|ame|enme|enos|eme)\b|\bmarqu(?:eme|enme)\b|\bmarcame\b"
        r"|\bllamarme\b",
        "call me",
    ),
    (r"\b(?:pueden|puede|podrian|podria) venir\b", "can you come"),
    (r"\bvenir\b|\bvengan?\b", "come"),
    # Haste and calm.
    (r"\bno (?:es|hay) (?:nada )?urgente\b|\bno es urgencia\b", "not urgent"),
    (r"\bno es (?:una )?emergencia\b", "not an emergency"),
    (r"\b(?:no hay|sin|no tengo) (?:prisa|apuro)\b|\bcon calma\b", "no rush"),
    (r"\bcuando (?:pueda|puedan|tenga tiempo|tengan tiempo)\b", "whenever you can"),
    (r"\bme urge\b|\burge\b", "urgent"),
    # Danger.
    (r"\bse (?:me |nos )?(?:esta |estan )?inund\w*|\binund\w*", "flooded"),
    (r"\bagua por todos lados\b|\bagua por todas partes\b", "water everywhere"),
    (r"\b(?:huele|olor) a gas\b", "smells gas"),
    (r"\bfuga de gas\b", "gas leak"),
    (r"\b(?:huele|olor) a quemado\b", "burning smell"),
    (r"\bchispas?\b|\bchispe\w*", "sparks"),
    (r"\bhumo\b", "smoke"),
    (r"\baguas? negras?\b|\bagua sucia\b", "sewage"),
    (
        r"\b(?:sale|salen|saliendo|cae|cayendo|gotea|goteando) agua (?:del|por el|de el) techo\b",
        "water coming through the ceiling",
    ),
    (r"\bse (?:rompio|reviento|quebro) (?:un|el|la|una) (?:tubo|tuberia|cano)\b", "pipe broke"),
    (r"\b(?:tubo|tuberia|cano) (?:roto|rota|reventado|reventada)\b", "broken pipe"),
    (r"\b(?:no hay|sin|no tengo|no tenemos) calefaccion\b", "no heat"),
    (r"\bhace (?:mucho )?frio\b|\bnos estamos congelando\b", "freezing"),
    (r"\bno (?:prende|enciende|funciona|sirve|jala)\b", "not working"),
    (r"\bno enfria\b", "not cooling"),
    (
        r"\b(?:salen|saliendo)\b|\bsale (?=smoke|sparks|sewage|agua|water|gas|mucha|mucho)",
        "coming out ",
    ),
    (r"\bhuele\b", "smells"),
    (r"\bolor\b", "smell"),
    # Trades.
    (r"\bventilador(?:es)? de techo\b", "ceiling fan"),
    (r"\btecho\b", "ceiling"),
    (r"\bpiso\b", "floor"),
    (r"\bcalentador(?:es)?(?: de agua)?\b|\bboiler de agua\b", "water heater"),
    (r"\bagua caliente\b", "hot water"),
    (r"\baire acondicionado\b|\bminisplit\b|\bel aire\b", "air conditioning"),
    (r"\bmantenimiento\b", "maintenance"),
    (r"\bcalefaccion\b|\bcalefactor\b|\bcalenton\b", "heating"),
    (r"\bdrenaje principal\b|\blinea principal\b", "main line"),
    (r"\bfosa septica\b", "septic"),
    (r"\bdrenaje\b|\bdesague\b|\bcoladera\b", "drain"),
    (r"\bdrena\b", "drains"),
    (r"\bse (?:me |nos )?tapo\b|\btapad[oa]s?\b", "clogged"),
    (r"\bfugas?\b|\bgoteras?\b", "leak"),
    (r"\bgote(?:a|an|ando|ar|o)\b", "dripping"),
    (r"\btuberias?\b|\btubos?\b|\bcanos?\b", "pipe"),
    (r"\binodoros?\b|\bexcusados?\b|\btaza del bano\b|\bsanitario\b", "toilet"),
    (r"\blimpieza profunda\b", "deep cleaning"),
    (r"\blimpieza de (?:la )?casa\b|\blimpi\w* (?:la|mi|nuestra) casa\b", "house cleaning"),
    (r"\blimpi\w* (?:de )?(?:la |las |mi |mis )?alfombras?\b", "carpet cleaning"),
    (r"\balfombras?\b|\btapetes?\b", "carpet"),
    (r"\blimpieza\b", "cleaning"),
    (r"\belectricista\b", "electrician"),
    (r"\benchufes?\b", "outlet"),
    (r"\bpastillas?\b|\binterruptor principal\b", "breaker"),
    (r"\bcortocircuito\b|\bun corto\b", "short"),
    (r"\bcableado\b", "wiring"),
    (r"\bpanel electrico\b|\bcaja de fusibles\b", "electrical panel"),
    (
        r"\bcargador (?:para|de|del) (?:mi |el |un )?(?:carro|coche|auto|vehiculo) electrico\b",
        "ev charger",
    ),
    (r"\blamparas?\b", "light fixture"),
    (r"\b(?:medidor|linea|tuberia|conexion) de gas\b", "gas line"),
    (r"\bestufa\b", "stove"),
    (r"\bno hay luz\b|\bse fue la luz\b|\bsin luz\b", "no power"),
    (r"\bagua\b", "water"),
    # Articles between a problem and its thing ("se tapó el excusado": "clogged toilet").
    (r"\b(?:el|la|los|las) ", ""),
    # English idioms whose words the rules do not know.
    (r"\b(?:smell\w* (?:like |of )?)?rotten eggs?\b", "gas smell"),
    (r"\bgas (?:stove|range|oven|dryer|fireplace|grill)\b", "gas line"),
    (r"\b(?:ok|okay|very|so|that's|thats|sounds|pretty) cool\b", "ok fine"),
    (r"\bwater stains?\b", "water mark"),
    (r"\b(not|won't|wont|isn't|stopped|keeps) light(?:ing)?\b", r"\1 igniting"),
]
_COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in _PHRASES]
# A cheap first look: texts with none of these letters' words skip the list.
_ANY = re.compile(
    r"\b(?:de|la|el|las|los|en|me|se|no|hay|para|por|hoy|manana|buen|agua|gas|rotten|light|cool"
    r"|water)"
)


@lru_cache(maxsize=512)
def in_english(text: str) -> str:
    """Normalized ``text`` with the Spanish phrases the rules read rewritten in English."""
    if not _ANY.search(text):
        return text
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text
