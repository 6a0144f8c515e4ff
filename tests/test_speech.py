"""``hub.speech.normalise``: what a speech engine writes, in the forms the reply rules read."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub.defaults.rules import read_reply
from hub.speech import normalise
from hub.types import ParseContext


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        # ZIPs and phone numbers, digit by digit, tens as two digits, spaced digits joined
        ("my zip is seven five two oh one", "my zip is 75201"),
        ("zip code seventy five two oh one", "zip code 75201"),
        ("seventy-eight seven oh four", "78704"),
        ("the zip is 7 8 7 0 4.", "the zip is 78704."),
        ("double five one oh one", "55101"),
        ("seven eight seven oh four, thanks", "78704, thanks"),
        ("call five one two five five five oh one four three", "call 5125550143"),
        # times, only where a time stands
        ("call me back at two p.m.", "call me back at 2 pm"),
        ("between two and four", "between 2 and 4"),
        ("from nine to eleven am", "from 9 to 11 am"),
        ("at three thirty tomorrow", "at 3:30 tomorrow"),
        ("at seven oh five am", "at 7:05 am"),
        ("around two forty five", "around 2:45"),
        ("seven pm works", "7 pm works"),
        # to / two / too / for
        ("call after too", "call after 2"),
        ("call me at for thirty", "call me at 4:30"),
        ("I need to talk to someone", "I need to talk to someone"),
        ("it is too hot for me", "it is too hot for me"),
        ("waiting for an hour", "waiting for an hour"),
        # fillers go; lone number words and exclamations stay
        ("hi um this is uh Carla", "hi this is Carla"),
        ("Hi, this is, um, Dave.", "Hi, this is Dave."),
        ("I need one plumber no one is home", "I need one plumber no one is home"),
        ("oh no the pipe burst", "oh no the pipe burst"),
        ("ummm hmm the drain", "the drain"),
        # a run-on after a name is split before the next clause's "I"
        ("my name is Priya I'd like a quote", "my name is Priya, I'd like a quote"),
        ("this is Frank I'm calling", "this is Frank, I'm calling"),
    ],
)
def test_normalise(spoken: str, written: str) -> None:
    assert normalise(spoken) == written


def test_written_text_passes_through() -> None:
    typed = "Water heater leaking, 78704. Call after 5pm - Jen"
    assert normalise(typed) == typed


CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=CHICAGO)
CONTEXT = ParseContext("acme", "America/Chicago", NOW, {"water heater": ("hot water",)})


def test_fields_survive_speech_through_the_rules() -> None:
    spoken = (
        "hi um this is Carla my water heater is leaking uh the zip is seventy eight seven oh "
        "four call me back after too"
    )
    parsed = read_reply(normalise(spoken), CONTEXT)
    assert parsed.zip == "78704"
    assert parsed.service == "water heater"
    assert parsed.name == "Carla"
    assert parsed.callback is not None
    assert parsed.callback.start == datetime(2026, 12, 1, 14, 0, tzinfo=CHICAGO)
    # Without the normalising step the ZIP and the time are lost.
    raw = read_reply(spoken, CONTEXT)
    assert raw.zip is None
