"""``ProviderContext.attach_transcript``: a call source hands in a voicemail's transcript for
a call it reported, scoped to its business; the hub reads it into the lead (``hub.voicemails``).
Provider-specific webhooks are tested with each plugin (hub_twilio, hub_vonage)."""

from __future__ import annotations

from hub.testing import business, in_process_hub, write_config

SERVICES = {"water heater": ["hot water"]}


def two_businesses(hub_dir):
    return write_config(
        hub_dir,
        {
            "acme": business(services=SERVICES),
            "beta": business("Beta Heating", ["+15125550200"], services=SERVICES),
        },
    )


async def test_a_transcript_is_taken_once_for_a_known_call_of_the_business(hub_dir):
    async with in_process_hub(two_businesses(hub_dir)) as kit:
        await kit.post_call(id="pbx-1", outcome="voicemail")
        await kit.post_call(id="pbx-anon", caller="anonymous", outcome="voicemail")
        acme = kit.hub.providers["acme"].call_source.context
        beta = kit.hub.providers["beta"].call_source.context
        spoken = "um the water heater is leaking zip seven eight seven oh four"

        assert not await beta.attach_transcript("pbx-1", spoken)  # another business's call
        assert not await acme.attach_transcript("pbx-2", spoken)  # no such call
        assert not await acme.attach_transcript("pbx-anon", spoken)  # no lead to read it into
        assert not await acme.attach_transcript("pbx-1", "  \n ")  # nothing said
        assert await acme.attach_transcript("pbx-1", spoken)
        assert not await acme.attach_transcript("pbx-1", "something else")  # once per call

        await kit.run_due_jobs()
        [lead] = await kit.recorded.leads(business="acme")
        assert (lead.service, lead.zip) == ("water heater", "78704")
        assert lead.customer_words == (spoken,)
        assert await kit.recorded.leads(business="beta") == []


async def test_a_transcript_never_opts_out_and_is_bounded(hub_dir):
    async with in_process_hub(two_businesses(hub_dir)) as kit:
        await kit.post_call(id="pbx-1", outcome="voicemail")
        await kit.run_due_jobs()
        acme = kit.hub.providers["acme"].call_source.context
        assert await acme.attach_transcript("pbx-1", "STOP " * 2000)
        await kit.run_due_jobs()
        assert await kit.recorded.opt_outs() == []
        [voicemail] = await kit.recorded.messages(purpose="voicemail")
        assert len(voicemail.body) == 4000
