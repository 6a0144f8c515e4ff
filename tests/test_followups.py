"""Repeat callers, caps, delays, quiet hours, follow-up questions, summaries, alerts and
reminders — through the webhooks, over hours and days of a controllable clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from hub import ParsedReply, ReplyParser, hookimpl
from hub.models import Call, Delivery, Job, Lead, LeadEvent, Message
from hub.testing import ManualClock, business, in_process_hub, write_config

MONDAY_9AM_CHICAGO = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
CALLER = "+15125550123"  # a Texas number: texts may reach it 09:00-21:00 (Sundays from 12:00)


class TinyParser(ReplyParser):
    """A stand-in parser, so these tests do not depend on the default one's rules."""

    name = "tiny"

    async def parse(self, text, context):
        zip_code = re.search(r"\b\d{5}\b", text)
        return ParsedReply(
            zip=zip_code.group() if zip_code else None,
            service="leak repair" if "leak" in text.lower() else None,
            urgency="emergency" if "flood" in text.lower() else None,
        )


class tiny_plugin:
    @staticmethod
    @hookimpl
    def hub_register_reply_parsers(register):
        register(TinyParser)


def start_hub(hub_dir, clock, **settings):
    settings.setdefault("reply_parsers", [{"use": "tiny"}])
    settings.setdefault("quiet_hours", {})  # on: these tests move the clock through the night
    settings.setdefault("hours", {"mon-fri": "08:00-17:00"})
    settings.setdefault(
        "owner", {"name": "Pat", "email": "pat@example.com", "phone": "+15125550198"}
    )
    config = write_config(hub_dir, {"acme": business(**settings)})
    return in_process_hub(config, extra_plugins=[tiny_plugin], clock=clock)


@pytest.fixture
def clock():
    return ManualClock(MONDAY_9AM_CHICAGO)


async def test_three_calls_in_ten_minutes_get_one_text_and_all_count(hub_dir, clock):
    async with start_hub(hub_dir, clock) as running:
        for minute in range(3):
            await running.post_call(id=f"rep-{minute}")
            await running.advance(timedelta(minutes=5))
        assert running.outbox.notifications[0]
        await running.run_due_jobs()
        assert len(running.outbox.texts) == 1
        lead = await Lead.get()
        assert lead.call_count == 3
        reasons = await Call.all().order_by("id").values_list("skipped_reason", flat=True)
        assert reasons == [None, "cooldown", "cooldown"]
        clock.advance(timedelta(days=1))  # past the cooldown: a text again
        await running.post_call(id="next-day")
        await running.run_due_jobs()
        assert running.outbox.texts[1]


async def test_daily_cap_stops_text_backs_but_not_the_owner(hub_dir, clock):
    async with start_hub(hub_dir, clock, text_back={"daily_cap": 1}) as running:
        await running.post_call(id="cap-1", caller="+15125550101")
        await running.run_due_jobs()
        assert running.outbox.texts[0]
        await running.post_call(id="cap-2", caller="+15125550102")
        await running.run_due_jobs()
        second = running.outbox.notifications[1]
        assert "daily cap of 1" in second.text
        assert len(running.outbox.texts) == 1


async def test_a_delayed_text_back_is_cancelled_when_the_business_calls_back(hub_dir, clock):
    async with start_hub(hub_dir, clock, text_back={"delay": 120}) as running:
        await running.post_call(id="late-1")
        response = await running.post_call(
            id="back-1", direction="outbound", caller="+15125550100", to=CALLER
        )
        assert response.json()["skipped"] == "outbound"
        await running.advance(timedelta(minutes=5))
        assert running.outbox.texts == []
        assert await Job.get(kind="text_back").values_list("state", flat=True) == "cancelled"
        assert (await Lead.get()).status == "contacted"


async def test_quiet_hours_hold_the_text_until_the_window_opens(hub_dir, clock):
    clock.set(datetime(2026, 12, 1, 4, 30, tzinfo=UTC))  # Monday 22:30 in Texas
    async with start_hub(hub_dir, clock) as running:
        response = await running.post_call(id="night-1")
        assert response.json()["after_hours"] is True
        await running.run_due_jobs()
        assert running.outbox.texts == []
        job = await Job.get(kind="text_back")
        assert (job.state, job.attempt) == ("available", 0)  # waiting costs no attempt
        # 08:59: still quiet in Texas
        await running.set_time(datetime(2026, 12, 1, 14, 59, tzinfo=UTC))
        assert running.outbox.texts == []
        await running.set_time(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))  # 09:00
        text = running.outbox.texts[0]
        assert "closed right now" in text.body  # chosen by business hours, not quiet hours


async def test_quiet_hours_skip_tells_the_owner(hub_dir, clock):
    clock.set(datetime(2026, 12, 1, 4, 30, tzinfo=UTC))
    async with start_hub(hub_dir, clock, quiet_hours={"outside": "skip"}) as running:
        await running.post_call(id="night-2")
        await running.run_due_jobs()
        notification = running.outbox.notifications[0]
        assert "quiet hours" in notification.text
        assert running.outbox.texts == []


async def test_a_florida_number_gets_the_florida_window(hub_dir, clock):
    clock.set(
        datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    )  # 20:30 in Miami: allowed federally, not in FL
    async with start_hub(hub_dir, clock) as running:
        await running.post_call(id="fl-1", caller="+13055550123")
        await running.run_due_jobs()
        assert running.outbox.texts == []
        await running.set_time(datetime(2026, 12, 1, 13, 0, tzinfo=UTC))  # 08:00 in Miami
        assert running.outbox.texts[0]


async def test_one_question_for_what_is_missing_then_one_summary(hub_dir, clock):
    async with start_hub(hub_dir, clock) as running:
        await running.post_call(id="q-1")
        await running.run_due_jobs()
        assert running.outbox.notifications[0]
        await running.text_in("Hi, my kitchen sink is leaking")
        await running.run_due_jobs()
        question = running.outbox.texts[1]
        assert "ZIP" in question.body and "what do you need" not in question.body.lower()
        assert "STOP" not in question.body  # the opt-out line went with the first text only
        await running.text_in("78704")
        await running.run_due_jobs()
        summary = running.outbox.notifications[1]
        assert summary.kind == "summary"
        assert summary.lead.service == "leak repair" and summary.lead.zip == "78704"
        assert "78704" in summary.text and "leak repair" in summary.text
        await running.text_in("thanks!")
        await running.run_due_jobs()
        later = running.outbox.notifications[2]
        assert later.kind == "reply"
        await running.run_due_jobs()
        assert len(running.outbox.texts) == 2  # one question, never a second


async def test_an_unanswered_question_still_gets_the_owner_a_summary(hub_dir, clock):
    async with start_hub(hub_dir, clock) as running:
        await running.post_call(id="q-2")
        await running.run_due_jobs()
        assert running.outbox.notifications[0]
        await running.text_in("pipe is leaking")
        await running.run_due_jobs()
        assert running.outbox.texts[1]
        await running.run_due_jobs()
        assert len(running.outbox.notifications) == 1
        await running.advance(timedelta(minutes=31))
        summary = running.outbox.notifications[1]
        assert summary.kind == "summary" and summary.lead.zip is None


async def test_an_emergency_alerts_every_sink_and_the_owners_phone(hub_dir, clock):
    sinks = [{"use": "memory"}, {"use": "log"}]
    async with start_hub(hub_dir, clock, sinks=sinks) as running:
        await running.post_call(id="e-1")
        await running.run_due_jobs()
        assert running.outbox.notifications[0]
        await running.text_in("basement is flooding!! 78704 leak")
        await running.run_due_jobs()
        urgent = next(n for n in running.outbox.notifications if n.kind == "urgent")
        assert urgent.urgent and urgent.subject.startswith("URGENT")
        await running.run_due_jobs()
        owner_text = next(t for t in running.outbox.texts if t.to == "+15125550198")
        assert "URGENT" in owner_text.body and CALLER in owner_text.body
        lead = await Lead.get()
        assert (
            await Delivery.filter(lead_id=lead.id, kind="notify.urgent").count() == 2
        )  # both sinks


async def test_a_quiet_customer_gets_one_nudge(hub_dir, clock):
    async with start_hub(hub_dir, clock) as running:
        await running.post_call(id="n-1")
        await running.run_due_jobs()  # queued with the text's outcome
        assert await Job.exists(kind="nudge")
        await running.advance(timedelta(hours=1, minutes=59))
        assert len(running.outbox.texts) == 1
        await running.advance(timedelta(minutes=2))
        nudge = running.outbox.texts[1]
        assert "Still need a hand" in nudge.body
        await running.advance(timedelta(hours=5))
        assert len(running.outbox.texts) == 2


async def test_no_nudge_once_the_customer_replied(hub_dir, clock):
    async with start_hub(hub_dir, clock) as running:
        await running.post_call(id="n-2")
        await running.run_due_jobs()
        assert await Job.exists(kind="nudge")
        await running.text_in("leak under sink 78704")
        await running.run_due_jobs()
        assert running.outbox.notifications[1]
        await running.advance(timedelta(hours=3))
        assert [t.body for t in running.outbox.texts[1:]] == []
        assert await Job.filter(kind="nudge", state="cancelled").count() == 1


async def test_owner_is_reminded_after_a_business_hour_unless_the_lead_moves(hub_dir, clock):
    clock.set(datetime(2026, 11, 30, 22, 45, tzinfo=UTC))  # Monday 16:45: 15 open minutes left
    async with start_hub(hub_dir, clock, follow_ups={"nudge_after_hours": 0}) as running:
        await running.post_call(id="rem-1", caller="+15125550111")
        await running.post_call(id="rem-2", caller="+15125550112")
        await running.wait_for(lambda: len(running.outbox.notifications) == 2)
        lead_two = await Lead.get(phone="+15125550112")
        from hub.models import LeadStatus

        await running.hub.leads.set_status(lead_two.id, LeadStatus.CONTACTED, actor="owner")
        await running.set_time(datetime(2026, 12, 1, 14, 44, tzinfo=UTC))  # Tuesday 08:44
        assert [n.kind for n in running.outbox.notifications].count("reminder") == 0
        # 08:45: one business hour later
        await running.set_time(datetime(2026, 12, 1, 14, 45, tzinfo=UTC))
        reminder = next(n for n in running.outbox.notifications if n.kind == "reminder")
        assert reminder.lead.caller == "+15125550111"
        await running.run_due_jobs()
        assert [n.kind for n in running.outbox.notifications].count("reminder") == 1


async def test_a_conversation_over_days_corrects_a_field(hub_dir, clock):
    async with start_hub(hub_dir, clock) as running:
        await running.post_call(id="d-1")
        await running.run_due_jobs()
        assert running.outbox.texts[0]
        await running.text_in("leak in the bathroom, zip 78704")
        await running.run_due_jobs()
        assert running.outbox.notifications[1]
        clock.advance(timedelta(days=2))
        await running.text_in("sorry, the job is actually at 78745")
        await running.run_due_jobs()
        assert running.outbox.notifications[2]
        lead = await Lead.get()
        assert lead.zip == "78745"
        changes = (
            await LeadEvent.filter(lead_id=lead.id, kind="field")
            .order_by("id")
            .values_list("detail", flat=True)
        )
        assert [(c["field"], c["before"], c["after"]) for c in changes if c["field"] == "zip"] == [
            ("zip", None, "78704"),
            ("zip", "78704", "78745"),
        ]
        assert await Message.filter(direction="in").count() == 2


async def test_staff_replies_respect_opt_outs_at_send_time(hub_dir, clock):
    async with start_hub(hub_dir, clock) as running:
        await running.post_call(id="st-1")
        await running.run_due_jobs()
        assert running.outbox.texts[0]
        lead = await Lead.get()
        hub = running.hub
        biz = hub.config.businesses["acme"]
        await hub.outbound.queue_text(
            biz,
            lead.id,
            "staff_reply",
            source_key="staff:1",
            context={"text": "We can come at 3"},
        )
        await running.run_due_jobs()
        assert running.outbox.texts[1]
        assert running.outbox.texts[1].body == "We can come at 3"
        await running.text_in("STOP")
        await running.run_due_jobs()  # the confirmation
        assert running.outbox.texts[2]
        await hub.outbound.queue_text(
            biz, lead.id, "staff_reply", source_key="staff:2", context={"text": "Still there?"}
        )
        await running.run_due_jobs()
        assert [t.body for t in running.outbox.texts].count("Still there?") == 0


async def test_quiet_hours_can_be_turned_off_for_a_demo(hub_dir, clock):
    clock.set(datetime(2026, 12, 1, 4, 30, tzinfo=UTC))  # 22:30 in Texas
    async with start_hub(hub_dir, clock, quiet_hours={"enabled": False}) as running:
        await running.post_call(id="demo-night")
        await running.run_due_jobs()
        assert running.outbox.texts[0]
