"""Contract tests, one class per plugin kind: what every provider of that kind must do.

A plugin author subclasses the class for their kind in their own tests and overrides its
factory fixture; pytest then runs every contract test against their plugin (as Django's and
tox's test mixins do)::

    from hub.testing.contracts import SmsSenderContract

    class TestPagerSender(SmsSenderContract):
        @pytest.fixture
        def make_sender(self, build_hub, fake_pager):
            async def make(outcome: str) -> SmsSender:
                fake_pager.answer_next(outcome)  # the fake API plays the outcome
                hub = await build_hub(sms_sender={"use": "pager", "url": fake_pager.url})
                return hub.senders("acme")[0]
            return make

An outcome a plugin cannot be made to meet (a sender with no network has no network error)
is skipped from the factory with ``pytest.skip("why")``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from hub.events import Change, Event, EventKind
from hub.providers import ReplyParser, Sink, SmsSender
from hub.runtime import Hub
from hub.testing.config import business, write_config
from hub.testing.fakes import WebhookRequest
from hub.testing.local import InProcessHub, in_process_hub, make_hub, prepare_database
from hub.types import (
    DeliveryResult,
    DeliveryStatus,
    Intent,
    Notification,
    OutboundSms,
    ParseContext,
    ParsedReply,
    SendResult,
    SendStatus,
)
from hub.views import LeadView

SenderFactory = Callable[[str], Awaitable[SmsSender]]
SinkFactory = Callable[[str], Awaitable[Sink]]


def hub_with(
    directory: Path, *, extra_plugins: Iterable[object] = (), **business_settings: Any
) -> Hub:
    """A hub (not started) with one business, ``acme`` (``business(**business_settings)``):
    the quickest way to a configured provider, e.g. ``hub_with(d, sinks=[...]).sinks("acme")``.
    ``extra_plugins`` are registered besides the installed ones (a plugin module not installed)."""
    config = write_config(directory, {"acme": business(**business_settings)})
    return make_hub(config, extra_plugins=extra_plugins)


HubBuilder = Callable[..., Awaitable[Hub]]


class ProviderContract:
    """What every contract class shares: ``build_hub``, a fixture giving
    ``async build(**business_settings) -> Hub``, a started hub (no worker) whose providers are
    ready to use; it is stopped after the test. Its plugins are the installed ones (entry
    points) and ``extra_plugins``: set it to register a plugin module that is not installed."""

    extra_plugins: ClassVar[tuple[object, ...]] = ()

    @pytest.fixture
    async def build_hub(self, hub_dir: Path) -> AsyncIterator[HubBuilder]:
        started: list[Hub] = []

        async def build(**business_settings: Any) -> Hub:
            if started:
                raise RuntimeError("build_hub makes one hub per test (they share the ORM)")
            hub = hub_with(hub_dir, extra_plugins=self.extra_plugins, **business_settings)
            await prepare_database(hub)
            await hub.start(worker=False)
            started.append(hub)
            return hub

        yield build
        for hub in started:
            await hub.stop()


# -- SMS senders ----------------------------------------------------------------------------------


class SmsSenderContract(ProviderContract):
    """Every SMS sender maps what its provider answers onto ``SendResult``, and never raises:
    a rate limit, a server error or a network error is ``RETRY`` (the job tries again later), a
    number that cannot be texted is ``FAILED`` (trying again cannot help), and a text that went
    comes back ``SENT`` with the provider's id for it (delivery reports refer to it).

    Override ``make_sender``: a fixture returning ``async make(outcome) -> SmsSender``, ready
    to send (take it from a hub made by the ``build_hub`` fixture), whose next ``send`` meets
    ``outcome``: ``"sent"``, ``"rate_limited"`` (HTTP 429 or the
    provider's throttling answer), ``"server_error"`` (5xx), ``"network_error"`` (nothing
    listening) or ``"bad_number"``.
    """

    #: The text every contract test sends.
    sms: ClassVar[OutboundSms] = OutboundSms(
        reference="contract-1", to="+15125550123", body="Hi from the contract", sender_number=None
    )

    @pytest.fixture
    def make_sender(self) -> SenderFactory:
        raise NotImplementedError(f"{type(self).__name__} must override the make_sender fixture")

    async def send(self, make_sender: SenderFactory, outcome: str) -> SendResult:
        sender = await make_sender(outcome)
        result = await sender.send(self.sms)
        assert isinstance(result, SendResult), f"send() returned {result!r}, not a SendResult"
        return result

    async def test_a_sent_text_has_the_providers_id(self, make_sender: SenderFactory) -> None:
        result = await self.send(make_sender, "sent")
        assert result.status == SendStatus.SENT, result
        assert isinstance(result.provider_id, str) and result.provider_id

    async def test_a_rate_limit_is_retried(self, make_sender: SenderFactory) -> None:
        result = await self.send(make_sender, "rate_limited")
        assert result.status == SendStatus.RETRY, result
        assert result.error

    async def test_a_server_error_is_retried(self, make_sender: SenderFactory) -> None:
        result = await self.send(make_sender, "server_error")
        assert result.status == SendStatus.RETRY, result
        assert result.error

    async def test_a_network_error_is_retried_not_raised(self, make_sender: SenderFactory) -> None:
        result = await self.send(make_sender, "network_error")
        assert result.status == SendStatus.RETRY, result
        assert result.error

    async def test_a_bad_number_fails_for_good(self, make_sender: SenderFactory) -> None:
        result = await self.send(make_sender, "bad_number")
        assert result.status == SendStatus.FAILED, result
        assert result.error


# -- notification sinks ---------------------------------------------------------------------------


def sample_lead() -> LeadView:
    """A made-up lead, with customer words a sink must escape."""
    moment = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    return LeadView(
        id=7,
        business="acme",
        business_name="Acme Plumbing",
        status="new",
        caller="+15125550123",
        call_count=1,
        first_call_at=moment,
        last_call_at=moment,
        outcome="missed",
        after_hours=False,
        customer_words=("<b>my sink</b> is leaking & 78704", '=HYPERLINK("http://x")'),
        version=1,
    )


def sample_notification(kind: str = "new_lead") -> Notification:
    """A notification about ``sample_lead()``."""
    lead = sample_lead()
    return Notification(kind, lead, "Missed call from +15125550123", "We texted them back.")


def sample_event(
    kind: EventKind = EventKind.NOTIFY_NEW_LEAD, *, id: str = "evt0001.0", version: int = 1
) -> Event:
    """An event about ``sample_lead()``: a notification's carries its words, a change its
    changes."""
    notification = None
    if kind.is_notification:
        notification = sample_notification(kind.value.split(".", 1)[1])
    changes = {}
    if kind == EventKind.LEAD_UPDATED:
        changes = {"zip": Change(None, "78704")}
    elif kind == EventKind.LEAD_STATUS_CHANGED:
        changes = {"status": Change("new", "contacted")}
    return Event(
        kind=kind,
        id=id,
        business="acme",
        at=datetime(2026, 12, 1, 18, 1, tzinfo=UTC),
        lead=sample_lead(),
        lead_version=version,
        actor="customer",
        changes=changes,
        notification=notification,
    )


class SinkContract(ProviderContract):
    """Every sink answers each delivery with a ``DeliveryResult`` and never raises: a service
    that cannot be reached is ``RETRY`` (the hub tries again); every event its class hears by
    default is delivered; and the same event delivered again (the hub's retry after a lost
    answer: same ``Event.id``) leaves one effect, not two.

    Override ``make_sink``: a fixture returning ``async make(outcome) -> Sink``, ready to
    deliver (take it from a hub made by ``build_hub``), ``outcome`` being ``"delivered"`` (the
    service takes it) or ``"unreachable"`` (nothing listening, or the service down). Override
    ``count_effects`` (a fixture returning ``async count(event) -> int``: how many rows,
    records or messages the service now holds for ``event``) to have idempotency checked; a
    sink with nothing to count (a log line) leaves it ``None`` and that test is skipped.
    """

    @pytest.fixture
    def make_sink(self) -> SinkFactory:
        raise NotImplementedError(f"{type(self).__name__} must override the make_sink fixture")

    @pytest.fixture
    def count_effects(self) -> Callable[[Event], Awaitable[int]] | None:
        return None

    async def deliver(self, sink: Sink, event: Event) -> DeliveryResult:
        result = await sink.deliver(event)
        assert isinstance(result, DeliveryResult), f"deliver() returned {result!r}"
        return result

    async def test_an_event_is_delivered(self, make_sink: SinkFactory) -> None:
        sink = await make_sink("delivered")
        result = await self.deliver(sink, sample_event(min(type(sink).events)))
        assert result.status == DeliveryStatus.DELIVERED, result

    async def test_a_retried_event_leaves_one_effect(
        self,
        make_sink: SinkFactory,
        count_effects: Callable[[Event], Awaitable[int]] | None,
    ) -> None:
        if count_effects is None:
            pytest.skip("this sink leaves nothing to count (override count_effects)")
        sink = await make_sink("delivered")
        kind = min(type(sink).events)
        event, other = sample_event(kind), sample_event(kind, id="evt0002.0", version=2)
        first = await self.deliver(sink, event)
        again = await self.deliver(sink, event)
        assert first.status == again.status == DeliveryStatus.DELIVERED, (first, again)
        assert await count_effects(event) == 1
        assert (await self.deliver(sink, other)).status == DeliveryStatus.DELIVERED
        assert await count_effects(other) == 1  # a new event is not taken for a retry

    async def test_an_unreachable_service_is_retried_not_raised(
        self, make_sink: SinkFactory
    ) -> None:
        sink = await make_sink("unreachable")
        result = await self.deliver(sink, sample_event(min(type(sink).events)))
        assert result.status == DeliveryStatus.RETRY, result
        assert result.error

    async def test_every_event_it_hears_is_delivered(self, make_sink: SinkFactory) -> None:
        sink = await make_sink("delivered")
        for index, kind in enumerate(sorted(type(sink).events)):
            event = sample_event(kind, id=f"evt{index:04}.0")
            result = await self.deliver(sink, event)
            assert result.status == DeliveryStatus.DELIVERED, (kind, result)


# -- call sources ---------------------------------------------------------------------------------


class CallSourceContract:
    """Every call source refuses what its provider did not send, with a 4xx and never a 5xx
    (a 5xx makes providers retry a forgery for hours), and stores nothing from it; a malformed
    body, correctly signed, is a 4xx too. A genuine request is accepted, so the refusals are
    not vacuous.

    Override ``call_source_settings`` (a fixture: the business's ``call_source`` in hub.yaml)
    and ``request(kind)``, a ``WebhookRequest`` to the call source's main route: ``"signed"``
    (genuine), ``"unsigned"``, ``"forged"`` (signed with the wrong secret) or ``"malformed"``
    (signed, but a body the provider never sends). Override ``business_settings`` to change
    the rest of the business.
    """

    @pytest.fixture
    def call_source_settings(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"{type(self).__name__} must override the call_source_settings fixture"
        )

    @pytest.fixture
    def business_settings(self) -> dict[str, Any]:
        return {}

    def request(self, kind: str) -> WebhookRequest:
        raise NotImplementedError(f"{type(self).__name__} must override request(kind)")

    @pytest.fixture
    async def contract_hub(
        self,
        hub_dir: Path,
        call_source_settings: dict[str, Any],
        business_settings: dict[str, Any],
    ) -> AsyncIterator[InProcessHub]:
        settings = business(call_source=call_source_settings, **business_settings)
        async with in_process_hub(write_config(hub_dir, {"acme": settings})) as kit:
            yield kit

    async def refused(self, kit: InProcessHub, kind: str) -> None:
        from hub.models import Call, InboxEvent, Message

        response = await self.request(kind).send(kit.client)
        assert 400 <= response.status_code < 500, (kind, response.status_code, response.text)
        await kit.run_due_jobs()
        assert await Call.all().count() == 0
        assert await Message.all().count() == 0
        assert await InboxEvent.all().count() == 0
        assert kit.outbox.texts == [] and kit.outbox.notifications == []

    async def test_a_genuine_request_is_accepted(self, contract_hub: InProcessHub) -> None:
        response = await self.request("signed").send(contract_hub.client)
        assert response.status_code < 400, (response.status_code, response.text)

    async def test_an_unsigned_request_is_refused(self, contract_hub: InProcessHub) -> None:
        await self.refused(contract_hub, "unsigned")

    async def test_a_forged_request_is_refused(self, contract_hub: InProcessHub) -> None:
        await self.refused(contract_hub, "forged")

    async def test_a_malformed_body_is_refused(self, contract_hub: InProcessHub) -> None:
        await self.refused(contract_hub, "malformed")


# -- reply parsers --------------------------------------------------------------------------------


#: Texts no parser may stumble on.
HOSTILE_TEXTS = (
    "",
    " ",
    "\x00\x01\x02",
    "\u202egnirts desrever\u202c",
    "😀" * 400,
    "9" * 5000,
    "a" * 20_000,
    "{{ lead.name }} {% if %} ${jndi:ldap://x} '; DROP TABLE hub_lead; --",
    "\n\n\r\t",
    "Zip: 787O4 call me at 25:99 tomorrow or yesterday at -1 pm",
    "STOP START HELP stop? start!",
    "ＡＢＣ　７８７０４",  # noqa: RUF001 - fullwidth letters and digits, on purpose
)


class ReplyParserContract:
    """Every reply parser treats ``None`` as "not found here": an empty or unrelated text
    finds nothing (``intent`` aside, which may say it is a plain reply), and no text, however
    hostile, makes ``parse`` raise or return anything but a ``ParsedReply``.

    Override ``parser``: a fixture returning the ``ReplyParser`` under test (``hub_with(...)``
    builds one from hub.yaml settings). ``unrelated_texts`` may be narrowed or extended.
    """

    unrelated_texts: ClassVar[tuple[str, ...]] = ("ok", "lol", "👍", "k thx")

    @pytest.fixture
    def parser(self) -> ReplyParser:
        raise NotImplementedError(f"{type(self).__name__} must override the parser fixture")

    @pytest.fixture
    def parse_context(self) -> ParseContext:
        return ParseContext(
            business="acme",
            timezone="America/Chicago",
            received_at=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
            services={"drain cleaning": ("drain", "clog"), "water heater": ("hot water",)},
        )

    async def parse(self, parser: ReplyParser, text: str, context: ParseContext) -> ParsedReply:
        result = await parser.parse(text, context)
        assert isinstance(result, ParsedReply), f"parse({text[:40]!r}) returned {result!r}"
        return result

    def assert_nothing_found(self, text: str, found: ParsedReply) -> None:
        fields = {name: getattr(found, name) for name in ParsedReply.FIELDS if name != "intent"}
        assert all(value is None for value in fields.values()), (text, fields)
        assert found.intent in (None, Intent.REPLY), (text, found.intent)

    async def test_an_empty_text_finds_nothing(
        self, parser: ReplyParser, parse_context: ParseContext
    ) -> None:
        for text in ("", "   "):
            self.assert_nothing_found(text, await self.parse(parser, text, parse_context))

    async def test_an_unrelated_text_finds_nothing(
        self, parser: ReplyParser, parse_context: ParseContext
    ) -> None:
        for text in self.unrelated_texts:
            self.assert_nothing_found(text, await self.parse(parser, text, parse_context))

    async def test_hostile_texts_never_make_it_raise(
        self, parser: ReplyParser, parse_context: ParseContext
    ) -> None:
        for text in HOSTILE_TEXTS:
            await self.parse(parser, text, parse_context)
