"""No business texts a number the hub itself uses: another business's numbers, its forward_to,
its owner's phone."""

from __future__ import annotations

from hub.testing import business, in_process_hub, write_config


def two_businesses(hub_dir):
    return write_config(
        hub_dir,
        {
            "acme": business(),
            "bolt": business(
                "Bolt Electric",
                ["+15125550200"],
                forward_to="+15125550299",
                owner={"name": "Bo", "phone": "+15125550298", "email": "bo@example.com"},
            ),
        },
    )


async def test_a_call_from_another_business_on_the_hub_is_not_texted(hub_dir):
    async with in_process_hub(two_businesses(hub_dir)) as running:
        for caller in ("+15125550200", "+15125550299", "+15125550298"):
            response = await running.post_call("acme", caller=caller)
            assert response.status_code == 200
            assert response.json()["skipped"] == "own_number", caller
        stranger = await running.post_call("acme", caller="+15125550123")
        assert stranger.json()["status"] == "scheduled"
        await running.run_due_jobs()
        assert [text.to for text in running.outbox.texts] == ["+15125550123"]


async def test_a_text_from_another_business_on_the_hub_gets_no_answer(hub_dir):
    async with in_process_hub(two_businesses(hub_dir)) as running:
        await running.text_in("my drain is clogged", caller="+15125550200")
        await running.text_in("HELP", caller="+15125550298")
        await running.run_due_jobs()
        assert running.outbox.texts == []
