"""The email sink against a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hub.models import Delivery, Lead
from hub.testing import business, free_port, in_process_hub, make_hub, write_config

PASSWORD = "smtp-pass-never-logged"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reject_with: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_with:
            return self.reject_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok)


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield mailbox, controller.port
    controller.stop()


def email_business(port: int, **sink: object) -> dict:
    settings = {
        "use": "email",
        "host": "127.0.0.1",
        "port": port,
        "from": "hub@acme.example",
        **sink,
    }
    return business(sinks=[settings], owner={"name": "Pat", "email": "pat@acme.example"})


async def test_owner_gets_a_text_and_html_email_about_the_lead(hub_dir, smtp):
    mailbox, port = smtp
    async with in_process_hub(
        write_config(hub_dir, {"acme": email_business(port, username="hub", password=PASSWORD)})
    ) as running:
        await running.post_call(id="m1", caller="+15125550123")
        await running.run_due_jobs()
        assert mailbox.messages
        message = mailbox.messages[0]
        assert mailbox.envelopes[0] == ("hub@acme.example", ["pat@acme.example"])
        assert "+15125550123" in message["Subject"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "Acme Plumbing" in text and "texted them back" in text
        assert 'href="tel:+15125550123"' in html

        async def delivered():
            delivery = await Delivery.get(lead_id=(await Lead.get()).id)
            assert delivery.status == "delivered"
            return delivery

        await running.run_due_jobs()
        assert (await delivered()).reference == message["Message-ID"]


async def test_customer_words_are_escaped_in_html(hub_dir, smtp):
    from hub import Event, EventKind, LeadView, Notification

    mailbox, port = smtp
    hub = make_hub(write_config(hub_dir, {"acme": email_business(port)}))
    await hub.start(worker=False)
    try:
        sink = hub.sinks("acme")[0]
        lead_summary = LeadView(
            id=7,
            business="acme",
            business_name="Acme Plumbing",
            status="new",
            caller="+15125550123",
            call_count=1,
            first_call_at=None,
            last_call_at=None,
            outcome="missed",
            after_hours=False,
            customer_words=("<script>alert(1)</script> my sink is clogged",),
        )
        notification = Notification("reply", lead_summary, "Reply", "body")
        event = Event(
            EventKind.NOTIFY_REPLY, "evt1.0", "acme", datetime.now(UTC), lead_summary, 1,
            notification=notification,
        )  # fmt: skip
        result = await sink.deliver(event)
        assert result.status == "delivered"
        html = mailbox.messages[0].get_body(("html",)).get_content()
        assert "<script>" not in html and "&lt;script&gt;" in html
    finally:
        await hub.stop()


async def test_wrong_password_is_retried_and_never_shown(hub_dir, smtp, caplog):
    mailbox, port = smtp
    async with in_process_hub(
        write_config(
            hub_dir,
            {
                "acme": email_business(
                    port, username="hub", password="wrong-password-123", timeout=0.5
                )
            },
        )
    ) as running:
        await running.post_call(id="m2")

        async def tried():
            delivery = await Delivery.get(lead_id=(await Lead.get()).id)
            assert delivery.attempts >= 1
            return delivery

        await running.run_due_jobs()
        delivery = await tried()
        # aiosmtpd stalls a failed login rather than answering 535: either way, not delivered,
        # tried again later.
        assert delivery.status == "pending" and delivery.error
        assert mailbox.messages == []
    assert "wrong-password-123" not in caplog.text


async def test_rejected_recipient_fails_without_retrying(hub_dir, smtp):
    mailbox, port = smtp
    mailbox.reject_with = "550 No such user"
    async with in_process_hub(write_config(hub_dir, {"acme": email_business(port)})) as running:
        await running.post_call(id="m3")

        async def failed():
            delivery = await Delivery.get(lead_id=(await Lead.get()).id)
            assert delivery.status == "failed"
            return delivery

        await running.run_due_jobs()
        delivery = await failed()
        assert "refused" in delivery.error and delivery.attempts == 1


@pytest.fixture
def certificate(tmp_path):
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_starttls_and_implicit_tls(hub_dir, certificate, security):
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()
    port = free_port()
    # aiosmtpd only counts STARTTLS as TLS when deciding to offer AUTH, hence auth_require_tls.
    options = {"tls_context": context, "require_starttls": True} if security == "starttls" else {}
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        ssl_context=context if security == "tls" else None,
        auth_require_tls=False,
        **options,
    )
    controller.start()
    try:
        async with in_process_hub(
            write_config(
                hub_dir,
                {
                    "acme": email_business(
                        port, security=security, verify_tls=False, username="hub", password=PASSWORD
                    )
                },
            )
        ) as running:
            await running.post_call(id=f"tls-{security}")
            await running.run_due_jobs()
            assert mailbox.messages[0]
    finally:
        controller.stop()


async def test_a_mail_server_that_hangs_is_given_up_on_at_the_timeout(hub_dir, smtp):
    mailbox, port = smtp
    release = asyncio.Event()

    async def hang(server, session, envelope):
        await release.wait()  # takes the message and never answers
        return "250 Message accepted"

    mailbox.handle_DATA = hang
    settings = email_business(port, timeout=0.3)
    async with in_process_hub(write_config(hub_dir, {"acme": settings})) as running:
        await running.post_call(id="m-hang")
        started = time.monotonic()
        await asyncio.wait_for(running.run_due_jobs(), 10)
        assert time.monotonic() - started < 5
        delivery = await Delivery.get(lead_id=(await Lead.get()).id)
        assert delivery.status != "delivered" and "Timeout" in (delivery.error or "")
