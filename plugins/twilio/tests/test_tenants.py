"""Two businesses on Twilio: a webhook signed by one of them never reaches the other's texts,
calls or marks, whatever ids it carries."""

from __future__ import annotations

from hub_twilio.testing import WEEKDAY_NOON, TwilioWebhooks, twilio_business

from hub.testing import ManualClock, in_process_hub, write_config

BETA_NUMBER = "+15125550200"
BETA_OWNER = "+15125550299"


def two_tenants(hub_dir, fake):
    beta = twilio_business(
        fake, numbers=[BETA_NUMBER], forward_to=BETA_OWNER, sender_options={"from": BETA_NUMBER}
    )
    config = write_config(hub_dir, {"acme": twilio_business(fake), "beta": beta})
    return in_process_hub(config, clock=ManualClock(WEEKDAY_NOON))


async def test_a_delivery_report_naming_another_businesss_text_changes_nothing(
    hub_dir, fake_twilio
):
    async with two_tenants(hub_dir, fake_twilio) as running:
        acme = TwilioWebhooks(running.url, "acme", clock=running.clock)
        beta = TwilioWebhooks(
            running.url, "beta", number=BETA_NUMBER, owner=BETA_OWNER, clock=running.clock
        )
        call = beta.call()
        await beta.post(running.client, "voice", call.voice())
        await beta.post(running.client, "dial", call.dial("no-answer"))
        await running.run_due_jobs()
        [text_back] = await running.recorded.messages(business="beta", direction="out")
        notified = len(running.outbox.notifications)

        # Signed with acme's own credentials, on acme's URL, naming beta's text: "opted out".
        forged = acme.sms_status(
            text_back.provider_message_id, "undelivered", to=call.caller, error_code="21610"
        )
        response = await acme.post(running.client, "sms-status", forged)
        assert response.status_code < 500
        await running.run_due_jobs()

        assert (await running.recorded.message(text_back.id)).status == text_back.status
        assert await running.recorded.opt_outs() == []
        assert len(running.outbox.notifications) == notified  # nobody told beta's caller's number

        # Beta's own report of the same id still counts: acme's did not use up its dedupe key.
        genuine = beta.sms_status(
            text_back.provider_message_id, "undelivered", to=call.caller, error_code="21610"
        )
        assert (await beta.post(running.client, "sms-status", genuine)).status_code < 300
        assert (await running.recorded.message(text_back.id)).status == "undelivered"
        assert (await running.recorded.opt_out(call.caller, business="beta")).active


async def test_another_businesss_owner_leg_cannot_mark_a_call_answered(hub_dir, fake_twilio):
    async with two_tenants(hub_dir, fake_twilio) as running:
        acme = TwilioWebhooks(running.url, "acme", clock=running.clock)
        beta = TwilioWebhooks(
            running.url, "beta", number=BETA_NUMBER, owner=BETA_OWNER, clock=running.clock
        )
        victim = beta.call()
        await beta.post(running.client, "voice", victim.voice())

        # Acme's status callback names beta's live call as the parent of an answered leg.
        forged = acme.call(call_sid=victim.sid)
        leg = await acme.post(running.client, "call-status", forged.owner_status("in-progress"))
        assert leg.status_code == 204

        # Beta's caller gives up while its owner's phone rings: a missed call, texted back.
        await beta.post(running.client, "call-status", victim.status("completed", duration=8))
        await running.run_due_jobs()
        assert [t["To"] for t in fake_twilio.texts] == [victim.caller]
        assert (await running.recorded.call(victim.sid)).outcome == "missed"
