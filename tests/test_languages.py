"""Spanish conversations and opt-outs, end to end through an in-process hub: the caller's
language read from their texts, the answers in it, `hub check` on the translations, and every
labelled opt-out stopping the next text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hub.config import load_config
from hub.languages import detect_language
from hub.models import Contact, OptOut
from hub.templating import Templates, check_templates
from hub.testing import ManualClock, business, in_process_hub, write_config

DATA = Path(__file__).parent / "data"
SERVICES = {
    "water heater": {"en": ["hot water", "water heater"], "es": ["calentador", "agua caliente"]},
    "drain cleaning": ["drain", "clog"],
}


def start(hub_dir, **settings):
    settings.setdefault("services", SERVICES)
    return in_process_hub(write_config(hub_dir, {"acme": business(**settings)}))


async def test_a_spanish_caller_is_answered_in_spanish_to_the_opt_out(hub_dir):
    hub = start(hub_dir, languages=["en", "es"])
    async with hub as running:
        await running.post_call(id="es-1")
        await running.run_due_jobs()
        assert "Sorry we missed your call" in running.outbox.texts[0].body  # not known yet
        await running.text_in("Hola, no tengo agua caliente desde ayer. Me llamo Rosa")
        await running.run_due_jobs()
        question = running.outbox.texts[1]
        assert question.body == "¡Gracias, Rosa! ¿Cuál es el código postal del trabajo?"
        assert (await Contact.get()).language == "es"

        await running.text_in("STOP")  # the keyword in English: the answer follows the caller
        await running.run_due_jobs()
        confirmation = running.outbox.texts[2]
        assert "se dio de baja" in confirmation.body and "Acme Plumbing" in confirmation.body
        assert (await OptOut.get()).active

        response = await running.post_call(id="es-2")
        assert response.json()["skipped"] == "opted_out"
        await running.run_due_jobs()
        assert len(running.outbox.texts) == 3


async def test_a_spanish_opt_out_keyword_is_confirmed_in_spanish(hub_dir):
    hub = start(hub_dir, languages=["en", "es"])
    async with hub as running:
        await running.text_in("ALTO")
        await running.text_in("AYUDA", caller="+15125550124")
        await running.run_due_jobs()
        by_caller = {text.to: text.body for text in running.outbox.texts}
        assert "se dio de baja" in by_caller["+15125550123"]
        assert "Pueden aplicar tarifas" in by_caller["+15125550124"]


async def test_a_known_spanish_caller_gets_the_spanish_text_back_and_switches_back(hub_dir):
    hub = start(hub_dir, languages=["en", "es"], follow_ups={"summary_wait_minutes": 1})
    async with hub as running:
        await running.text_in("Buenas tardes, necesito ayuda con el drenaje de la cocina")
        await running.run_due_jobs()
        assert "código postal" in running.outbox.texts[0].body
        await running.post_call(id="es-3")
        await running.run_due_jobs()
        assert running.outbox.texts[-1].body.startswith("Acme Plumbing: disculpe")
        await running.text_in("Sorry, my daughter wrote that. I need the drain fixed, 78704")
        assert (await Contact.get()).language == "en"


async def test_a_business_spanish_first_texts_back_and_nudges_in_spanish(hub_dir):
    clock = ManualClock(datetime(2026, 5, 12, 15, 0, tzinfo=UTC))  # 10:00 in Chicago
    config = write_config(hub_dir, {"acme": business(languages=["es", "en"])})
    async with in_process_hub(config, clock=clock) as running:
        await running.post_call(id="es-5")
        await running.run_due_jobs()
        first = running.outbox.texts[0].body
        assert first.startswith("Acme Plumbing: disculpe") and "STOP" in first
        await running.advance(hours=3)  # past follow_ups.nudge_after_hours
        nudge = running.outbox.texts[1].body
        assert nudge.startswith("Acme Plumbing: ¿aún necesita ayuda?")


async def test_a_business_in_english_only_answers_spanish_in_english(hub_dir):
    hub = start(hub_dir)
    async with hub as running:
        await running.post_call(id="en-1")
        await running.run_due_jobs()
        await running.text_in("Hola, no tengo agua caliente, necesito ayuda por favor")
        await running.run_due_jobs()
        assert running.outbox.texts[1].body.startswith("Thanks! What ZIP code")
        assert (await Contact.get()).language is None
        await running.text_in("ALTO")  # Spanish opt-outs work for every business
        await running.run_due_jobs()
        assert "unsubscribed" in running.outbox.texts[2].body


async def test_spanish_service_words_from_the_catalog_fill_the_lead(hub_dir):
    hub = start(hub_dir, languages=["en", "es"])
    async with hub as running:
        await running.post_call(id="es-4")
        await running.run_due_jobs()
        await running.text_in("el calentador no prende, es urgente. 78745")
        await running.run_due_jobs()
        urgent = running.outbox.notifications[1]
        assert urgent.lead.service == "water heater" and urgent.lead.zip == "78745"
        assert urgent.lead.urgency == "emergency"


def test_the_caller_language_is_told_only_when_clear():
    both = ["en", "es"]
    assert detect_language("Hola, se inundó el baño. Necesito un plomero", both) == "es"
    assert detect_language("mi water heater está leaking, pueden venir?", both) == "es"
    assert detect_language("My basement flooded, can you come today", both) == "en"
    assert detect_language("78704", both) is None
    assert detect_language("ok", both) is None
    assert detect_language("Hola, se inundó el baño", ["en"]) is None


def _check(hub_dir, **settings):
    config = load_config(write_config(hub_dir, {"acme": business(**settings)}))
    return check_templates(Templates(config), config.businesses["acme"])


def test_hub_check_renders_the_spanish_templates(hub_dir):
    assert _check(hub_dir, languages=["en", "es"]) == []
    # A business's own Spanish wording is checked like the English ones, segments counted in
    # UCS-2 ("ó" is not in the GSM alphabet).
    long = "Gracias por su llamada, le contestaremos muy pronto. " * 3 + "Código"
    issues = _check(hub_dir, languages=["en", "es"], templates={"es/nudge": long})
    assert [issue.where for issue in issues] == ["businesses.acme.templates.es/nudge"]
    assert "UCS-2" in issues[0].message and issues[0].warning
    broken = _check(hub_dir, languages=["en", "es"], templates={"es/help": "{{ nope }}"})
    assert [(issue.where, issue.warning) for issue in broken] == [
        ("businesses.acme.templates.es/help", False)
    ]


def test_an_english_business_checks_no_translation(hub_dir):
    issues = _check(hub_dir, templates={"es/help": "{{ nope }}"})
    assert issues == []


def _labelled(intent, category):
    rows = []
    for line in (DATA / "replies_speak.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["expected"]["intent"] == intent and row["category"] == category:
            rows.append(row["text"])
    return rows


async def test_every_labelled_opt_out_stops_the_next_text_and_no_trap_does(hub_dir):
    opt_outs = _labelled("opt_out", "optout")
    replies = _labelled("reply", "optout_trap")
    assert len(opt_outs) >= 90 and len(replies) >= 25
    hub = start(hub_dir, languages=["en", "es"], text_back={"cooldown": 0})
    async with hub as running:
        callers = {}
        for index, text in enumerate([*opt_outs, *replies]):
            caller = f"+1512555{index:04d}"
            callers[caller] = text
            await running.post_call(id=f"o-{index}-a", caller=caller)
            await running.text_in(text, caller=caller)
        await running.run_due_jobs()
        for index, (caller, text) in enumerate(callers.items()):
            response = await running.post_call(id=f"o-{index}-b", caller=caller)
            skipped = response.json().get("skipped")
            assert (skipped == "opted_out") is (text in opt_outs), text
        await running.run_due_jobs()
        opted_out = set(await OptOut.filter(active=True).values_list("phone", flat=True))
        assert opted_out == {caller for caller, text in callers.items() if text in opt_outs}
