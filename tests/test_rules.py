"""The ``rules`` reply parser: each field's rules, the tricky negatives, the plugin, the CLI, and
the labelled replies in tests/data."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.config import load_config
from hub.defaults.rules import RulesParser, classify_intent, read_reply
from hub.defaults.rules.callback import find_callback
from hub.defaults.rules.names import find_name
from hub.defaults.rules.places import find_zip
from hub.defaults.rules.services import find_service
from hub.defaults.rules.urgency import find_urgency
from hub.plugins import load_plugins
from hub.providers import Kind
from hub.testing import CliResult, business, run_cli, write_config
from hub.text import normalize, stem
from hub.types import CallbackWindow, Intent, ParseContext

DATA = Path(__file__).parent / "data"
CHICAGO = ZoneInfo("America/Chicago")
SERVICES = {
    name: tuple(synonyms)
    for name, synonyms in json.loads((DATA / "services.json").read_text()).items()
}


def local(text: str, zone: ZoneInfo = CHICAGO) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


# Tuesday 14 May 2024, 10:12 in Chicago.
TUESDAY_MORNING = local("2024-05-14T10:12")


# -- intent ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "STOP", "stop", "Stop.", "STOP!!!", " stop ", "StopAll", "STOP ALL", "UNSUBSCRIBE",
        "cancel", "END", "quit", "Revoke", "OPTOUT", "opt-out", "Opt Out", "remove", "ARRET",
        "Arrêt", "stop please", "Please stop", "unsubscribe me",
    ],
)  # fmt: skip
def test_stop_keywords_are_opt_outs_whatever_their_case_and_punctuation(text):
    assert classify_intent(text) is Intent.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "please stop texting me",
        "remove me from your list",
        "wrong number don't text me",
        "u have the wrong number",
        "wrong #",
        "no más",
        "No mas mensajes por favor",
        "ya no me manden mensajes",
        "leave me alone",
        "Do not contact me again.",
        "stop sending these",
        "quit texting me",
        "take me off this list",
        "lose my number",
        "I never called you. Who is this? Stop.",
        "STOP - wrong person",
        "Stop, we already found someone",
        "Not interested. Please don't contact me again.",
        "Arrêtez de m'envoyer des messages",
    ],
)
def test_opt_outs_in_the_customers_own_words(text):
    assert classify_intent(text) is Intent.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "my sink won't stop leaking",
        "can you cancel my appointment and reschedule",
        "the pipe at the end of the hall",
        "Can you stop by tomorrow to look at the outlet?",
        "my furnace quit working",
        "Remove and replace the old water heater",
        "We need to end the contract with our current cleaner",
        "water won't stop running in the toilet",
        "Help! basement is flooding",
        "what info do you need?",
        "Yes please, the upstairs toilet",
        "please don't text, call me at 512-555-0143",
        "I didn't call you",
        "the smell won't go away",
        "no hot water",
        "No thanks, we already found someone",
    ],
)
def test_replies_that_merely_contain_keywords_are_replies(text):
    assert classify_intent(text) is Intent.REPLY


@pytest.mark.parametrize("text", ["START", "start", "Unstop", "YES", "yes.", "Yes!"])
def test_bare_start_unstop_and_yes_are_opt_ins(text):
    assert classify_intent(text) is Intent.OPT_IN


@pytest.mark.parametrize("text", ["HELP", "help!", "Help?", "info", "INFO.", "aide"])
def test_bare_help_keywords_are_help(text):
    assert classify_intent(text) is Intent.HELP


def test_empty_and_emoji_texts_are_replies():
    assert classify_intent("") is Intent.REPLY
    assert classify_intent("👍") is Intent.REPLY


# -- ZIP ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("78704", "78704"),
        ("sink clogged, 78704 thanks", "78704"),
        ("Leaky faucet. 02139", "02139"),
        ("zip is 78704-1234", "78704"),
        ("Austin, TX 78759", "78759"),
        ("I'm in 90210 and need help", "90210"),
        ("m5v2t6", "M5V 2T6"),
        ("we're at M5V 2T6", "M5V 2T6"),
        ("k1p-5g4", "K1P 5G4"),
        ("zip 77084, service: drain cleaning", "77084"),
    ],
)
def test_zip_codes_and_canadian_postal_codes(text, expected):
    assert find_zip(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "we're at 12345 Main St",  # house number
        "house number is 10234 on Maple Ave",
        "12010 Jollyville Rd needs a plumber",
        "call me at 512-555-0143",  # phone numbers
        "call me at 5125550143",
        "(773) 555-0134",
        "+1 647 555 0123",
        "they quoted $12500 for the AC",  # prices
        "Quoted 10500 for a new furnace",
        "quote was $10,500.00",
        "need a 24000 BTU mini split",  # a capacity
        "gate code is 24680",
        "Order #55012 again",
        "zip 6061",  # too short
        "00000",
    ],
)
def test_house_numbers_phone_numbers_prices_and_codes_are_not_zips(text):
    assert find_zip(text) is None


def test_the_zip_after_a_street_address_wins_over_its_house_number():
    assert find_zip("10234 Maple Ave 78739") == "78739"
    assert find_zip("4501 Ridgeview Dr 78745, the closet is wet") == "78745"
    assert find_zip("gate code is 24680, we're at 78613") == "78613"


def test_a_street_word_only_makes_a_house_number_when_it_is_a_street():
    assert find_zip("78704 by the way") == "78704"
    assert find_zip("4501 Ridge Way") is None


# -- service --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my kitchen sink is clogged", "drain cleaning"),  # inflection of "clog"
        ("clogs in both bathrooms", "drain cleaning"),  # plural
        ("need the drain cleaning service", "drain cleaning"),  # the name itself
        ("leaky faucet", "leak repair"),
        ("toliet keeps running", "toilet repair"),  # misspellings
        ("furnance blowing cold air", "heating repair"),
        ("air conditoner is leaking", "ac repair"),
        ("water heatr is out", "water heater"),
        ("need to unclog the tub", "drain cleaning"),
        ("a/c not cooling", "ac repair"),
        ("housecleaning quote", "house cleaning"),  # run together
        ("hydrojetting for the main kitchen line", "drain cleaning"),
        ("el drenaje está tapado", "drain cleaning"),  # Spanish
        ("se rompió el calentador de agua", "water heater"),
        ("Tesla charger in the garage", "ev charger"),
    ],
)
def test_services_match_synonyms_inflections_plurals_and_misspellings(text, expected):
    assert find_service(normalize(text), SERVICES) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A longer term hides the shorter one inside it.
        ("hot water heater is leaking", "water heater"),
        ("heat pump makes noise", "heating repair"),
        ("carpet cleaning for 3 rooms", "carpet cleaning"),
        # A word many services share weighs less than a specific one.
        ("need quote on cleaning my rugs", "carpet cleaning"),
        ("toilet wobbles and leaks at the base", "toilet repair"),
        # The first of two side-by-side terms is a modifier...
        ("Annual AC maintenance please", "hvac maintenance"),
        ("furnace tune up before winter", "hvac maintenance"),
        ("Can you help with a clogged toilet?", "toilet repair"),
        # ... unless the second is a verb.
        ("toilets clogged again", "toilet repair"),
        ("water heater leaking from the bottom", "water heater"),
        # Otherwise the first mentioned wins a tie.
        ("I smell gas near the water heater", "gas line"),
    ],
)
def test_when_several_services_match_the_most_specific_wins(text, expected):
    assert find_service(normalize(text), SERVICES) == expected


@pytest.mark.parametrize(
    "text", ["Need a plumber", "hvac guy needed", "garbage disposal jammed", "ok", "78704", ""]
)
def test_no_service_when_nothing_in_the_catalog_fits(text):
    assert find_service(normalize(text), SERVICES) is None


def test_real_words_are_not_corrected_into_trade_words():
    catalog = {"ac repair": ("cooling",), "carpet cleaning": ("stain",)}
    assert find_service(normalize("can't use the stove for cooking"), catalog) is None
    assert find_service(normalize("the stairs are creaky"), catalog) is None


def test_no_catalog_no_service():
    assert find_service(normalize("my sink is clogged"), {}) is None


def test_stems_agree_across_forms():
    assert stem("clogged") == stem("clogs") == stem("clogging") == stem("clog")
    assert stem("leaky") == stem("leaking") == stem("leaks") == stem("leak")
    assert stem("heater") == stem("heating") == stem("heat")


# -- urgency --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "basement is flooding",
        "Burst pipe in the wall",
        "pipe burst",
        "No heat and it's 10 degrees",
        "I smell gas",
        "gas smell in the kitchen",
        "outlet sparked",
        "sparks from the breaker box",
        "need a plumber asap, basement is flooding",
        "URGENT water leaking through the ceiling",
        "Emergency! sewage coming out of the shower drain",
        "toilet overflowing everywhere",
        "burning smell from an outlet",
    ],
)
def test_emergencies(text):
    assert find_urgency(normalize(text), TUESDAY_MORNING) == "emergency"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Haste is not danger: only an emergency pages the owner's phone.
        ("need a plumber asap", "soon"),
        ("need someone ASAP", "soon"),
        ("can you come right now", "soon"),
        ("please call as soon as you can", "soon"),
        ("soon as you can", "soon"),
        ("call me back right away about the faucet", "soon"),
        ("need it today", "soon"),
        ("can someone come tomorrow", "soon"),
        ("sometime this week", "soon"),
        ("can you come Thursday?", "soon"),
        ("need it done by Friday", "soon"),
        ("no rush", "flexible"),
        ("Not urgent, the light just flickers", "flexible"),
        ("not an emergency", "flexible"),
        ("whenever works", "flexible"),
        ("next week is fine", "flexible"),
        ("sometime next month", "flexible"),
        ("my sink is clogged", None),
        ("It broke on Monday", None),
        ("Monday works", None),  # a day alone is availability, not urgency
        ("Need a cleaner every 2 weeks", None),
        ("slow for a few weeks now", None),
        ("backs up whenever the washer drains", None),
        ("smoke detector wiring", None),
    ],
)
def test_soon_flexible_and_unsaid(text, expected):
    assert find_urgency(normalize(text), TUESDAY_MORNING) == expected


def test_a_dead_furnace_is_an_emergency_in_winter_only():
    text = normalize("our heater quit working last night")
    assert find_urgency(text, local("2025-01-18T19:30")) == "emergency"
    assert find_urgency(text, local("2024-07-10T13:05")) is None
    assert find_urgency(normalize("water heater went out"), local("2025-01-18T19:30")) is None


# -- callback -------------------------------------------------------------------------------------


def callback(text: str, now: datetime = TUESDAY_MORNING) -> CallbackWindow | None:
    return find_callback(normalize(text), now)


@pytest.mark.parametrize(
    "text",
    ["now", "call me now", "asap", "Call me back", "please call", "anytime", "call me at 512-555-0143",
     "please don't text, call 303-555-0148", "Heat is out, call me right away"],
)  # fmt: skip
def test_immediate_callbacks_start_when_the_text_arrived(text):
    assert callback(text) == CallbackWindow(TUESDAY_MORNING)


@pytest.mark.parametrize(
    ("text", "now", "start", "end"),
    [
        ("after 5", "2024-05-14T10:12", "2024-05-14T17:00", None),
        ("call after 5 please", "2024-05-14T19:30", "2024-05-15T17:00", None),  # already past
        ("tomorrow morning", "2024-05-14T10:12", "2024-05-15T08:00", "2024-05-15T12:00"),
        ("tomorrow afternoon", "2024-05-14T10:12", "2024-05-15T12:00", "2024-05-15T17:00"),
        ("tomorrow evening", "2024-05-14T10:12", "2024-05-15T17:00", "2024-05-15T21:00"),
        ("between 2 and 4", "2024-05-14T10:12", "2024-05-14T14:00", "2024-05-14T16:00"),
        ("2-4pm works", "2024-05-14T10:12", "2024-05-14T14:00", "2024-05-14T16:00"),
        ("Monday", "2024-05-14T10:12", "2024-05-20T08:00", None),
        ("Monday works", "2024-05-20T07:00", "2024-05-27T08:00", None),  # said on a Monday
        ("at noon", "2024-05-14T10:12", "2024-05-14T12:00", None),
        ("at 3", "2024-05-14T10:12", "2024-05-14T15:00", None),  # 1-7: pm
        ("at 7", "2024-05-14T10:12", "2024-05-14T19:00", None),
        ("at 9", "2024-05-14T08:00", "2024-05-14T09:00", None),  # 8-11: am
        ("at 9", "2024-05-14T10:12", "2024-05-15T09:00", None),
        ("at 10:30", "2024-05-14T10:12", "2024-05-14T10:30", None),
        ("8am tomorrow", "2024-05-14T10:12", "2024-05-15T08:00", None),
        ("tmrw @ 10", "2024-05-14T10:12", "2024-05-15T10:00", None),
        ("2ish?", "2024-05-14T10:12", "2024-05-14T14:00", None),
        ("around 5:30pm", "2024-05-14T10:12", "2024-05-14T17:30", None),
        ("call me in an hour", "2024-05-14T10:12", "2024-05-14T11:12", None),
        ("tonight after 7 is good", "2024-05-14T19:30", "2024-05-14T19:30", None),
        ("im home all evening", "2024-05-14T19:30", "2024-05-14T19:30", "2024-05-14T21:00"),
        ("mornings are best", "2024-05-14T13:05", "2024-05-15T08:00", "2024-05-15T12:00"),
        ("call me next week", "2024-05-14T10:12", "2024-05-20T08:00", None),
        ("before noon", "2024-05-14T10:12", "2024-05-14T10:12", "2024-05-14T12:00"),
    ],
)
def test_callback_windows(text, now, start, end):
    assert callback(text, local(now)) == CallbackWindow(local(start), local(end) if end else None)


def test_callback_times_follow_daylight_saving_time():
    # Saturday before the spring change: 8:00 on Sunday is CDT, not CST.
    window = callback("tomorrow morning pls", local("2025-03-08T18:00"))
    assert window is not None
    assert window.start.isoformat() == "2025-03-09T08:00:00-05:00"


@pytest.mark.parametrize(
    "text",
    [
        "my sink is clogged",
        "toilet keeps running all night",
        "It broke on Monday",
        "Can you come Thursday?",  # a visit day, not a time to call
        "need it done by Friday",
        "I'll stop by your shop Monday to pay",
        "Thanks, see you tomorrow",
        "we're at 12010 Jollyville Rd",
        "unit 4 at 98 Elm",
        "3 bedrooms 2 baths",
        "Sparks came out. Right now nothing in the kitchen works",
        "Text me instead, I can't talk at work",
        "I didn't call you",
        "whenever works",
    ],
)
def test_no_callback_when_the_text_gives_no_time_to_call(text):
    assert callback(text) is None


def test_a_deadline_day_does_not_move_a_callback_time():
    window = callback("need a move-out clean by Friday. Can talk after 6")
    assert window == CallbackWindow(local("2024-05-14T18:00"))


# -- name -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("this is Maria", "Maria"),
        ("this is maria", "Maria"),
        ("my name is Bob Smith", "Bob Smith"),
        ("Hey this is Bob Smith, our sewer is backed up", "Bob Smith"),
        ("sink clogged 78701\n- Dave", "Dave"),
        ("thx -Carlos", "Carlos"),
        ("—Marcus", "Marcus"),
        ("Thanks, Lisa", "Lisa"),
        ("thx, Tim", "Tim"),
        ("I'm Jose, need a plumber", "Jose"),
        ("Hi it's Kevin. AC is out", "Kevin"),
        ("Dave here. drain backed up", "Dave"),
        ("Name: Steve. Carpets.", "Steve"),
        ("me llamo Carmen", "Carmen"),
        ("this is Anne-Marie", "Anne-Marie"),
        ("It's Angela from Oak Hill", "Angela"),
        ("water heater is going - Sandra & Mike", "Sandra"),
    ],
)
def test_names(text, expected):
    assert find_name(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "This is urgent, please call",
        "this is the second time I've texted",
        "I'm flooding",
        "Im in 78704",
        "I'm not sure what's wrong",
        "I'm home after 5",
        "Its for my rental",
        "it's 98 in the house",
        "Thanks, see you tomorrow",
        "thanks anyway",
        "Thank you",
        "Pls call my husband Mike",
        "STOP - wrong person",
        "Need a move-out clean",
    ],
)
def test_no_name_where_none_is_given(text):
    assert find_name(text) is None


# -- the parser, the plugin, the data -------------------------------------------------------------


async def test_the_rules_parser_reads_every_field_of_one_text():
    context = ParseContext("acme", "America/Chicago", TUESDAY_MORNING, SERVICES)
    parser = RulesParser(RulesParser.Config(), None)  # type: ignore[arg-type]
    parsed = await parser.parse(
        "Burst pipe in the basement!! 60614. call me after 5 - Dave", context
    )
    assert parsed.intent is Intent.REPLY
    assert parsed.service == "leak repair"
    assert parsed.zip == "60614"
    assert parsed.urgency == "emergency"
    assert parsed.callback == CallbackWindow(local("2024-05-14T17:00"))
    assert parsed.name == "Dave"


def test_rules_is_a_default_reply_parser_a_business_can_select(hub_dir):
    plugins = load_plugins(environ={"HUB_LOAD_PLUGINS": ""})
    assert plugins.provider(Kind.REPLY_PARSER, "rules") is RulesParser
    config = write_config(
        hub_dir,
        {
            "acme": business(
                sms_sender={"use": "console"},
                sinks=[{"use": "log"}],
                reply_parsers=[{"use": "rules"}],
            )
        },
    )
    loaded = load_config(config, plugins)
    assert loaded.businesses["acme"].reply_parsers[0].use == "rules"


def labelled(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


def test_the_labelled_replies_are_well_formed():
    development, holdout = labelled("replies.jsonl"), labelled("replies_holdout.jsonl")
    assert len(development) >= 150
    for rows in (development, holdout):
        assert len({row["text"] for row in rows}) == len(rows)
    for row in development + holdout:
        expected = row["expected"]
        assert set(expected) == {"intent", "service", "zip", "urgency", "callback", "name"}
        assert expected["intent"] in {"reply", "opt_out", "opt_in", "help"}
        assert expected["service"] is None or expected["service"] in SERVICES
        assert expected["urgency"] in {None, "emergency", "soon", "flexible"}
        now = datetime.fromisoformat(row["now"])
        assert now.utcoffset() == now.astimezone(ZoneInfo(row["timezone"])).utcoffset()
        if expected["callback"]:
            assert datetime.fromisoformat(expected["callback"]["start"]).tzinfo is not None


def test_accuracy_on_the_labelled_replies_meets_the_targets():
    """The issue's targets, on both labelled sets together (per set: bench/parse_accuracy.py)."""
    rows = labelled("replies.jsonl") + labelled("replies_holdout.jsonl")
    right = dict.fromkeys(("intent", "service", "zip", "urgency", "callback", "name"), 0)
    for row in rows:
        received = datetime.fromisoformat(row["now"]).astimezone(ZoneInfo(row["timezone"]))
        parsed = read_reply(row["text"], ParseContext("t", row["timezone"], received, SERVICES))
        want = row["expected"]
        right["intent"] += str(parsed.intent) == want["intent"]
        for field in ("service", "zip", "urgency", "name"):
            right[field] += getattr(parsed, field) == want[field]
        if want["callback"] is None or parsed.callback is None:
            right["callback"] += want["callback"] is None and parsed.callback is None
        else:
            start = datetime.fromisoformat(want["callback"]["start"])
            right["callback"] += abs((parsed.callback.start - start).total_seconds()) <= 1800
    accuracy = {field: count / len(rows) for field, count in right.items()}
    targets = {"intent": 0.95, "zip": 0.95, "service": 0.9, "urgency": 0.9}
    targets |= {"callback": 0.8, "name": 0.8}
    assert all(accuracy[field] >= target for field, target in targets.items()), accuracy


# -- the CLI --------------------------------------------------------------------------------------


def hub(*args: str) -> CliResult:
    return run_cli(*args)


@pytest.fixture
def config(hub_dir):
    return write_config(
        hub_dir,
        {
            "acme": business(
                sms_sender={"use": "console"},
                sinks=[{"use": "log"}],
                services={"drain cleaning": ["clog", "drain"], "water heater": ["hot water"]},
            )
        },
    )


KEYS = ["intent", "service", "zip", "urgency", "callback", "name"]


def test_parse_reply_prints_exactly_the_fields(config):
    result = hub(
        "parse-reply", "--config", str(config), "--business", "acme",
        "--now", "2024-05-14T10:12:00", "sink clogged, 78704, call me after 5 - Dave",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert list(printed) == KEYS
    # No offset in --now: the business's timezone (Chicago, CDT in May).
    assert printed == {
        "intent": "reply",
        "service": "drain cleaning",
        "zip": "78704",
        "urgency": None,
        "callback": {"start": "2024-05-14T17:00:00-05:00", "end": None},
        "name": "Dave",
    }


def test_parse_reply_reads_jsonl_one_object_per_line(config, hub_dir):
    lines = hub_dir / "replies.jsonl"
    lines.write_text(
        json.dumps({"text": "STOP", "now": "2024-05-14T10:12:00-05:00"})
        + "\n"
        + json.dumps({"text": "no hot water. between 2 and 4", "now": "2024-05-14T15:12:00Z"})
        + "\n"
    )
    result = hub("parse-reply", "--config", str(config), "-b", "acme", "--jsonl", str(lines))
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert list(first) == KEYS and list(second) == KEYS
    assert first["intent"] == "opt_out"
    assert second["service"] == "water heater"
    # 15:12 UTC is 10:12 in Chicago.
    assert second["callback"] == {
        "start": "2024-05-14T14:00:00-05:00",
        "end": "2024-05-14T16:00:00-05:00",
    }


def test_parse_reply_errors_are_one_line(config):
    unknown = hub("parse-reply", "--config", str(config), "-b", "nope", "hi")
    assert unknown.returncode != 0 and "no business 'nope'" in unknown.stderr
    bad_time = hub("parse-reply", "--config", str(config), "-b", "acme", "--now", "soon", "hi")
    assert bad_time.returncode != 0 and "not an ISO-8601 time" in bad_time.stderr
    neither = hub("parse-reply", "--config", str(config), "-b", "acme")
    assert neither.returncode != 0
