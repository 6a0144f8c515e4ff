"""Connecting a business to Jobber through the hub: the link, Jobber's authorize page, the
callback, the token exchange; renewals with rotation; and a refused renewal told once."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

from hub_jobber.testing import connect, jobber_sink
from hub_jobber.tokens import Connection

from hub.testing import business, in_process_hub, run_cli, write_config

from .test_flow import jobber_hub, the_sink


async def test_the_whole_connect_flow(hub_dir, fake_jobber):
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        sink = the_sink(kit)
        link = sink.connector.connect_url()
        path = urlsplit(link).path
        assert path == "/hooks/acme/jobber/connect"
        assert (await kit.client.get(path)).status_code == 403  # no ticket
        forged = link[:-4] + ("0000" if not link.endswith("0000") else "1111")
        assert (await kit.client.get(forged)).status_code == 403

        start = await kit.client.get(link)
        assert start.status_code == 302
        authorize = urlsplit(start.headers["location"])
        assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == (
            f"{fake_jobber.url}/api/oauth/authorize"
        )
        query = parse_qs(authorize.query)
        assert query["client_id"] == [fake_jobber.client_id]
        assert query["response_type"] == ["code"]
        assert query["redirect_uri"] == [sink.context.webhook_url("callback")]

        back = fake_jobber.authorize(start.headers["location"])
        done = await kit.client.get(back)
        assert done.status_code == 200 and "Acme Plumbing" in done.text
        again = await kit.client.get(back)  # the state is single-use
        assert again.status_code == 400
        [exchange] = fake_jobber.token_requests
        assert exchange.form["grant_type"] == "authorization_code"
        assert exchange.form["redirect_uri"] == sink.context.webhook_url("callback")
        record = await sink.context.state.get("connection")
        assert isinstance(record, dict) and record["account"] == fake_jobber.account_id

        # A state made for this business expires.
        start = await kit.client.get(link)
        await kit.advance(minutes=11)
        late = await kit.client.get(fake_jobber.authorize(start.headers["location"]))
        assert late.status_code == 400 and "expired" in late.text


async def test_tokens_are_renewed_before_expiry_with_rotation(hub_dir, fake_jobber):
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        assert await connect(kit.client, fake_jobber, the_sink(kit).connector.connect_url())
        sink = the_sink(kit)
        first_refresh = set(fake_jobber.refresh_tokens)
        await kit.advance(minutes=50)
        await sink.connection.access()
        assert len(fake_jobber.token_requests) == 1  # still good: no renewal
        await kit.advance(minutes=6)  # within refresh_before (5 min) of the hour
        await sink.connection.access()
        assert len(fake_jobber.token_requests) == 2
        assert first_refresh <= fake_jobber.rotated  # the first refresh token is spent
        await kit.advance(minutes=56)
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()  # renewed again with the rotated token, then used
        assert len(fake_jobber.token_requests) == 3
        assert len(fake_jobber.requests_made) == 1


async def test_two_renewals_at_once_keep_the_rotated_token(hub_dir, fake_jobber):
    """Two processes renewing together: one renews, the other uses the still-valid token;
    the stored refresh token is the newest, and works."""
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        await connect(kit.client, fake_jobber, the_sink(kit).connector.connect_url())
        sink = the_sink(kit)
        other = Connection(sink.context, sink.config, sink.api, sink.connection.vault)
        await kit.advance(minutes=56)
        await asyncio.gather(sink.connection.access(), other.access())
        refreshes = [
            r for r in fake_jobber.token_requests if r.form["grant_type"] != "authorization_code"
        ]
        assert len(refreshes) == 1
        await kit.advance(minutes=56)
        await other.access()  # the newest refresh token was kept: this renewal works
        assert len(fake_jobber.rotated) == 2


async def test_a_refused_renewal_tells_the_owner_once_and_deliveries_fail(hub_dir, fake_jobber):
    async with jobber_hub(hub_dir, fake_jobber) as kit:
        await connect(kit.client, fake_jobber, the_sink(kit).connector.connect_url())
        fake_jobber.disconnect()  # the admin pressed Disconnect in Jobber
        await kit.advance(minutes=56)
        await kit.post_call(id="call-1")
        await kit.run_due_jobs()
        await kit.post_call(id="call-2", caller="+15125550199")
        await kit.run_due_jobs()
        await kit.advance(hours=24)
        leads = [await kit.recorded.lead("+15125550123"), await kit.recorded.lead("+15125550199")]
        details = [await kit.recorded.lead_detail(lead.id) for lead in leads]
    problems = [e for e in kit.outbox.events if e.kind == "notify.problem"]
    assert len(problems) == 1
    text = problems[0].notification.text
    assert "hub jobber connect --business acme" in text
    jobber = [d for detail in details for d in detail.deliveries if d.sink == "jobber"]
    assert jobber and {d.status for d in jobber} == {"failed"}
    assert {d.attempts for d in jobber} == {1}  # not retried
    assert "connect Jobber again" in (jobber[0].error or "")
    assert fake_jobber.requests_made == {}


async def test_hub_jobber_connect_prints_the_link(hub_dir, fake_jobber):
    sinks = [jobber_sink(fake_jobber)]
    config = write_config(hub_dir, {"acme": business(sms_sender={"use": "console"}, sinks=sinks)})
    result = run_cli("jobber", "connect", "--business", "acme", "--config", str(config))
    assert result.returncode == 0, result.output
    link = result.stdout.strip()
    assert urlsplit(link).path == "/hooks/acme/jobber/connect" and "ticket=" in link
    assert fake_jobber.client_secret not in result.output
    async with in_process_hub(config) as kit:
        start = await kit.client.get(f"{urlsplit(link).path}?{urlsplit(link).query}")
        assert start.status_code == 302
    none = run_cli("jobber", "connect", "--business", "nope", "--config", str(config))
    assert none.returncode == 1 and "no business 'nope'" in none.stderr
