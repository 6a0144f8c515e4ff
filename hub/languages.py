"""Which language a customer writes in, for a business that texts in more than one.

A business declares ``languages: [en, es]``; the first is used until a caller writes. Each text
from a caller is then weighed: words only Spanish uses ("necesito", "mañana", "por favor", "se
inundó") against words only English uses ("the", "need", "please"). A clear lead for one of the
business's languages makes it the caller's (``Contact.language``), and texts to them follow it:
``templates/sms/es/*.txt`` for Spanish. Spanglish ("mi water heater está leaking") counts the
Spanish grammar words, so it is Spanish: someone who writes that way reads Spanish. A text too
short to tell ("78704", "ok") changes nothing, except that a Spanish opt-out or help keyword
("ALTO", "AYUDA") is Spanish on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hub.text import fold

LANGUAGES = ("en", "es")

# Common words of one language that are not words (or are rare) in the other. Folded: no accents.
_SPANISH = frozenset(
    """
    el la los las del al de que y en un una unos unas es son esta estan estoy tengo tiene tenemos
    necesito necesitamos necesita quiero queremos puede pueden podria mi mis su sus nuestro nuestra
    por favor gracias hola buenas buenos dias tardes noches manana tarde noche hoy ayer semana
    con sin para pero porque cuando donde como muy mas ya se no si hay agua bano cocina casa
    llamar llame llamen llamenme llameme marcar despues antes hora horas codigo postal me llamo
    soy llamo nombre ayuda urgente fuga gotea tapado tapada inodoro calentador luz chispas humo olor
    huele lo le nos les algo todo nada ahora pronto vengan venga alguien tecnico arreglar
    reparar revisar funciona sirve prende enciende senor senora usted ustedes cuanto cuesta
    inundo inundado inundada inundacion regadera lavabo fregadero tuberia desague drenaje
    alto parar cancelar basta ayuda
    """.split()  # noqa: SIM905 - a word list reads best as text
)
_ENGLISH = frozenset(
    """
    the a an and is are was were it its my our your we i you he she they this that these those
    need needs want have has had can could would will please thanks thank hi hello hey call me
    at in on of for with from after before tomorrow today tonight morning afternoon evening
    what when where how who why not dont don't can't won't is isn't there here just get got
    fix come out soon
    """.split()  # noqa: SIM905
)
# Words both languages write the same way, which say nothing ("no", "me", "a", "son"...).
_SHARED = frozenset({"no", "me", "a", "son", "con", "ok", "hi", "help"})
_KEYWORDS_ES = frozenset({"alto", "parar", "cancelar", "basta", "no mas", "ayuda"})
_WORD = re.compile(r"[a-z]+")


def detect_language(text: str, languages: Sequence[str]) -> str | None:
    """The language of ``languages`` that ``text`` is clearly in, or ``None`` if it cannot be
    told (a business with one language never switches)."""
    if len(languages) < 2:
        return None
    folded = fold(text[:2000])
    # Marks only Spanish writes: ñ and the opening ¿ ¡ (fold keeps ñ's n, so look before it).
    marks = sum(text.count(mark) for mark in "ñÑ¿¡")
    words = _WORD.findall(folded)
    bare = " ".join(words)
    if bare in _KEYWORDS_ES:
        return "es" if "es" in languages else None
    spanish = marks + sum(word in _SPANISH and word not in _SHARED for word in words)
    english = sum(word in _ENGLISH and word not in _SHARED for word in words)
    if spanish >= 2 and spanish > english:
        found = "es"
    elif english >= 2 and english > 2 * spanish:
        found = "en"
    else:
        return None
    return found if found in languages else None
