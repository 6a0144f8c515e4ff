"""``email`` notification sink: SMTP through aiosmtplib, with text and HTML bodies.

``security`` is ``none`` (plain, e.g. a local relay), ``starttls`` (usually port 587) or
``tls`` (implicit TLS, usually port 465). Recipients default to the business owner's email.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Literal

import aiosmtplib
from pydantic import Field, SecretStr

from hub.events import Event
from hub.hookspecs import hookimpl
from hub.providers import ProviderConfig, Sink
from hub.types import DeliveryResult, Notification


class EmailConfig(ProviderConfig):
    host: str = Field("localhost", description="SMTP server")
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = Field("none", description="Connection security")
    username: str | None = Field(None, description="SMTP login, if the server needs one")
    password: SecretStr | None = None
    sender: str = Field("hub@localhost", alias="from", description="From address of notifications")
    to: list[str] = Field(
        default_factory=list, description="Recipients; default: the business owner's email"
    )
    timeout: float = Field(15.0, gt=0, le=120)
    verify_tls: bool = Field(True, description="Check the server's certificate")


class EmailSink(Sink[EmailConfig]):
    name = "email"
    description = "Emails the owner (SMTP: plain, STARTTLS or TLS)"

    def recipients(self) -> list[str]:
        owner = self.context.business.owner_email
        return list(self.config.to) or ([owner] if owner else [])

    def problems(self) -> list[str]:
        if not self.recipients():
            return ["no recipients: set `to`, or the business owner's email"]
        return []

    def compose(self, notification: Notification) -> EmailMessage:
        html = self.context.render(
            "email/lead.html", lead=notification.lead, notification=notification
        )
        message = EmailMessage()
        message["Subject"] = notification.subject
        message["From"] = self.config.sender
        message["To"] = ", ".join(self.recipients())
        message["Message-ID"] = make_msgid(domain="hub.local")
        if notification.urgent:
            message["X-Priority"] = "1"
            message["Importance"] = "high"
        message.set_content(notification.text)
        message.add_alternative(html, subtype="html")
        return message

    async def deliver(self, event: Event) -> DeliveryResult:
        notification = event.notification
        if notification is None:
            return DeliveryResult.failed(f"email sends owner notifications, not {event.kind}")
        if not self.recipients():
            return DeliveryResult.failed("no recipients configured")
        message = self.compose(notification)
        context = ssl.create_default_context()
        if not self.config.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        password = self.config.password.get_secret_value() if self.config.password else None
        try:
            # aiosmtplib's timeout bounds each step (connect, each command), not the whole
            # exchange: a server answering each step just in time would hold the delivery for
            # ever. The whole send gets a few steps' worth.
            async with asyncio.timeout(self.config.timeout * 3):
                await aiosmtplib.send(
                    message,
                    hostname=self.config.host,
                    port=self.config.port,
                    username=self.config.username,
                    password=password,
                    use_tls=self.config.security == "tls",
                    start_tls=self.config.security == "starttls",
                    tls_context=context,
                    timeout=self.config.timeout,
                )
        except aiosmtplib.SMTPResponseException as exc:
            error = f"SMTP {exc.code}: {exc.message}"
            return (
                DeliveryResult.failed(error)
                if 500 <= exc.code < 600
                else DeliveryResult.retry(error)
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refusal.code for refusal in exc.recipients]
            error = f"recipients refused: {', '.join(str(r.recipient) for r in exc.recipients)}"
            return (
                DeliveryResult.failed(error)
                if all(c >= 500 for c in codes)
                else DeliveryResult.retry(error)
            )
        except (aiosmtplib.SMTPException, OSError) as exc:  # TimeoutError is an OSError
            return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        return DeliveryResult.delivered(str(message["Message-ID"]))


@hookimpl
def hub_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(EmailSink)
