"""Replies, keywords, delivery reports and sender failures, through the public webhook paths."""

from __future__ import annotations

from datetime import date

import pytest

from hub import ParsedReply, ReplyParser, SendResult, hookimpl
from hub.models import Contact, Job, Lead, LeadEvent, Message, OptOut
from hub.testing import business, in_process_hub, write_config
from hub.types import RecipientIssue


class EchoZipParser(ReplyParser):
    """Finds a 5-digit ZIP and the word 'drain' (a stand-in for a real parser plugin)."""

    name = "echo-zip"

    async def parse(self, text, context):
        import re

        zip_match = re.search(r"\b\d{5}\b", text)
        return ParsedReply(
            zip=zip_match.group() if zip_match else None,
            service="drain cleaning" if "drain" in text else None,
        )


class parser_plugin:
    @staticmethod
    @hookimpl
    def hub_register_reply_parsers(register):
        register(EchoZipParser)


def start(hub_dir, **settings):
    return in_process_hub(
        write_config(hub_dir, {"acme": business(**settings)}), extra_plugins=[parser_plugin]
    )


async def test_a_reply_fills_the_lead_and_tells_the_owner(hub_dir):
    hub = start(hub_dir, reply_parsers=[{"use": "echo-zip"}])
    async with hub as running:
        await running.post_call(id="r1")
        await running.run_due_jobs()
        assert running.outbox.notifications[0]
        assert (await running.text_in("My drain is clogged, 78704")).status_code == 204
        await running.run_due_jobs()
        notification = running.outbox.notifications[1]
        assert notification.kind == "summary"  # it had both service and ZIP: no question
        assert notification.lead.zip == "78704" and notification.lead.service == "drain cleaning"
        assert notification.lead.customer_words == ("My drain is clogged, 78704",)
        lead = await Lead.get()
        assert (lead.zip, lead.service) == ("78704", "drain cleaning")
        changes = await LeadEvent.filter(lead_id=lead.id, kind="field").values_list(
            "actor", flat=True
        )
        assert set(changes) == {"plugin:echo-zip"}


async def test_a_retried_inbound_webhook_is_stored_once(hub_dir):
    hub = start(hub_dir)
    async with hub as running:
        for _ in range(3):
            await running.text_in("hello", message_id="SMdup")
        assert await Message.filter(direction="in").count() == 1


async def test_stop_opts_out_confirms_once_and_later_calls_get_no_text(hub_dir):
    hub = start(hub_dir)
    async with hub as running:
        await running.post_call(id="s1")
        await running.run_due_jobs()
        assert running.outbox.notifications[0]
        await running.text_in("Stop.")
        await running.run_due_jobs()
        confirmation = running.outbox.texts[1]
        assert "Acme Plumbing" in confirmation.body and "unsubscribed" in confirmation.body
        await running.text_in("STOP")  # already out: no second confirmation
        opt_out = await OptOut.get(phone="+15125550123")
        assert opt_out.active and opt_out.source == "keyword"

        response = await running.post_call(id="s2")
        assert response.json() == {**response.json(), "status": "recorded", "skipped": "opted_out"}
        await running.run_due_jobs()
        notification = running.outbox.notifications[1]
        assert "opted out" in notification.text
        assert len(running.outbox.texts) == 2

        await running.text_in("START")
        await running.run_due_jobs()
        resubscribed = running.outbox.texts[2]
        assert "subscribed again" in resubscribed.body
        assert not (await OptOut.get(phone="+15125550123")).active


async def test_a_customer_who_texts_first_gets_no_text_back(hub_dir):
    hub = start(hub_dir, text_back={"delay": 0.3})
    async with hub as running:
        await running.post_call(id="p1")
        await running.text_in("STOP", keyword="stop")  # the provider already answered STOP
        await running.advance(1)  # past the text-back's delay: nothing is left waiting
        notification = running.outbox.notifications[0]
        assert "opted out" in notification.text
        assert running.outbox.texts == []  # no text-back, and no confirmation from us
        assert await Job.filter(kind="text_back", state="cancelled").count() == 1


async def test_an_opt_out_is_rechecked_right_before_sending(hub_dir):
    from hub.clock import Clock

    hub = start(hub_dir, text_back={"delay": 0.3})
    async with hub as running:
        await running.post_call(id="p2")
        # Recorded elsewhere (staff on the dashboard) while the text-back waits.
        await OptOut.create(
            business="acme", phone="+15125550123", source="dashboard", opted_out_at=Clock().now()
        )
        await running.advance(1)  # the text-back's time comes
        notification = running.outbox.notifications[0]
        assert "opted out" in notification.text
        assert running.outbox.texts == []
        assert await Job.filter(kind="text_back", state="completed").count() == 1


async def test_help_names_the_business_and_how_to_reach_it(hub_dir):
    hub = start(hub_dir)
    async with hub as running:
        await running.text_in("help")
        await running.run_due_jobs()
        reply = running.outbox.texts[0]
        assert (
            "Acme Plumbing" in reply.body and "+15125550100" in reply.body and "STOP" in reply.body
        )


async def test_delivery_reports_only_move_forward(hub_dir):
    hub = start(hub_dir)
    async with hub as running:
        await running.post_call(id="d1")
        await running.run_due_jobs()
        assert running.outbox.notifications[0]
        message = await Message.get(direction="out")
        await running.status_in(message.provider_message_id, "delivered")
        await running.status_in(message.provider_message_id, "sent")
        await running.status_in(message.provider_message_id, "delivered")
        assert (await Message.get(id=message.id)).status == "delivered"


async def test_undeliverable_text_marks_the_number_and_tells_the_owner(hub_dir):
    hub = start(hub_dir, text_back={"cooldown": 0})
    async with hub as running:
        await running.post_call(id="u1")
        await running.run_due_jobs()
        assert running.outbox.notifications[0]
        message = await Message.get(direction="out")
        await running.status_in(
            message.provider_message_id, "undelivered", error_code="30006", issue="cannot_receive"
        )
        await running.run_due_jobs()
        notification = running.outbox.notifications[1]
        assert notification.kind == "cannot_text" and "call" in notification.subject.lower()
        assert (await Contact.get()).can_receive_sms is False

        await running.post_call(id="u2")  # their next call: no text, the owner is told to call
        await running.run_due_jobs()
        follow_up = running.outbox.notifications[2]
        assert "cannot receive texts" in follow_up.text
        assert len(running.outbox.texts) == 1


async def test_sender_down_for_a_while_then_exactly_one_text(hub_dir):
    hub = start(hub_dir)
    hub.outbox.send_results.extend(
        [SendResult.retry("503 from provider"), SendResult.retry("timeout")]
    )
    kinds = hub.hub.job_kinds
    kinds["text_back"] = kinds["text_back"].__class__(
        "text_back",
        kinds["text_back"].handler,
        max_attempts=8,
        backoff_base=0.01,
        backoff_cap=0.02,
    )
    async with hub as running:
        await running.post_call(id="f1")
        await running.run_due_jobs()
        assert running.outbox.texts == []  # the first attempt failed and waits for its backoff
        for _ in range(2):
            await running.advance(1)
        notification = running.outbox.notifications[0]
        assert len(running.outbox.texts) == 1 and "texted them back" in notification.text
        assert (await Job.get(kind="text_back")).attempt == 3
        assert await Message.filter(direction="out").count() == 1


async def test_opted_out_at_the_provider_is_remembered(hub_dir):
    hub = start(hub_dir)
    hub.outbox.send_results.append(
        SendResult.failed(
            "21610 unsubscribed", error_code="21610", recipient_issue=RecipientIssue.OPTED_OUT
        )
    )
    async with hub as running:
        await running.post_call(id="o1")
        await running.run_due_jobs()
        notification = running.outbox.notifications[0]
        assert "opted out" in notification.text
        opt_out = await OptOut.get(phone="+15125550123")
        assert opt_out.source == "provider_error"


async def test_fallback_sender_sends_when_the_primary_cannot(hub_dir):
    hub = start(hub_dir, sms_sender={"use": "memory", "fallbacks": [{"use": "console"}]})
    hub.outbox.send_results.append(SendResult.failed("account suspended"))
    async with hub as running:
        await running.post_call(id="fb1")
        await running.run_due_jobs()
        assert running.outbox.notifications[0]
        message = await Message.get(direction="out")
        assert (message.provider, message.status) == ("console", "sent")


async def test_after_hours_and_holidays_pick_the_after_hours_text(hub_dir):
    today = date.today()
    hub = start(
        hub_dir, hours={"mon-sun": "00:00-24:00"}, holidays=[today.isoformat()], timezone="UTC"
    )
    async with hub as running:
        response = await running.post_call(id="h1")
        assert (
            response.json()["after_hours"] is True and response.json()["outcome"] == "after_hours"
        )
        await running.run_due_jobs()
        text = running.outbox.texts[0]
        assert "closed right now" in text.body


async def test_during_opening_hours_the_regular_text(hub_dir):
    hub = start(hub_dir, hours={"mon-sun": "00:00-24:00"})
    async with hub as running:
        response = await running.post_call(id="h2")
        assert response.json()["after_hours"] is False
        await running.run_due_jobs()
        text = running.outbox.texts[0]
        assert "Sorry we missed your call" in text.body


@pytest.mark.parametrize(
    ("words", "source"),
    [
        ("please stop texting me", "natural_language"),
        ("No más", "keyword"),
        ("no más mensajes por favor", "natural_language"),
        ("wrong number don't text me", "natural_language"),
        ("STOP ALL", "keyword"),
        ("opt-out!!", "keyword"),
    ],
)
async def test_opt_outs_in_the_customers_own_words(hub_dir, words, source):
    hub = start(hub_dir)
    async with hub as running:
        await running.text_in(words)
        await running.run_due_jobs()
        confirmation = running.outbox.texts[0]
        assert "Acme Plumbing" in confirmation.body
        opt_out = await OptOut.get(phone="+15125550123")
        assert opt_out.active and opt_out.source == source


async def test_words_that_merely_contain_stop_are_a_reply(hub_dir):
    hub = start(hub_dir)
    async with hub as running:
        await running.post_call(id="ns-1")
        await running.run_due_jobs()
        assert running.outbox.notifications[0]
        await running.text_in("my sink won't stop leaking, 78704")
        await running.run_due_jobs()
        question = running.outbox.texts[1]  # no catalog here: what service?
        assert "What do you need" in question.body
        assert not await OptOut.exists()


async def test_the_default_parser_reads_replies_with_the_business_catalog(hub_dir):
    services = {"water heater": ["hot water", "water heater"], "drain cleaning": ["drain", "clog"]}
    hub = in_process_hub(write_config(hub_dir, {"acme": business(services=services)}))
    async with hub as running:
        await running.post_call(id="rp-1")
        await running.run_due_jobs()
        assert running.outbox.notifications[0]
        await running.text_in("No hot water since this morning. 78745. This is Maria, call after 5")
        await running.run_due_jobs()
        summary = running.outbox.notifications[1]
        lead = summary.lead
        assert (lead.service, lead.zip, lead.name) == ("water heater", "78745", "Maria")
        assert lead.callback_start is not None
        assert business_hour(lead.callback_start) == 17
        assert summary.kind == "summary" and "water heater" in summary.text


def business_hour(moment):
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("America/Chicago")).hour
