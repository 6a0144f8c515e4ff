"""What the hub stores. Schema changes go through ``hub/migrations`` (``hub migrate``).

Uniqueness does the deduplication, so concurrent webhooks need no read-then-write:

- a call is stored once per ``(business, provider, provider_call_id)``;
- a business has at most one open lead per caller: ``Lead.open_key`` is ``"business:phone"``
  while the lead is open and ``NULL`` once closed (NULLs never collide, on SQLite or PostgreSQL);
- a provider event (an inbound text, a status callback) is processed once per
  ``(provider, event_key)`` in the permanent ``InboxEvent`` table.
"""

from __future__ import annotations

import enum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class LeadStatus(enum.StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    BOOKED = "booked"
    CLOSED = "closed"


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class Contact(Model):
    """A caller as one business knows them."""

    id = fields.IntField(primary_key=True)
    business = fields.CharField(max_length=64)
    phone = fields.CharField(max_length=32)
    name = fields.CharField(max_length=128, null=True)
    #: ``False`` once a provider said this number cannot receive texts (landline, unreachable).
    can_receive_sms = fields.BooleanField(null=True)
    #: What a line-type lookup said (``mobile``, ``landline``...), cached: lookups cost money.
    line_type = fields.CharField(max_length=32, null=True)
    line_type_checked_at = fields.DatetimeField(null=True)
    #: When this caller was last sent a text-back: the repeat-caller cooldown counts from here.
    last_text_back_at = fields.DatetimeField(null=True)
    #: The language this caller last wrote in (``en``, ``es``), among the business's; ``NULL``
    #: until they write: texts to them are then in the business's first language.
    language = fields.CharField(max_length=8, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "hub_contact"
        unique_together = (("business", "phone"),)


class Lead(Model):
    id = fields.IntField(primary_key=True)
    business = fields.CharField(max_length=64, db_index=True)
    contact: fields.ForeignKeyRelation[Contact] = fields.ForeignKeyField(
        "hub.Contact", related_name="leads", on_delete=fields.RESTRICT
    )
    contact_id: int  # set by Tortoise; declared for type checkers
    phone = fields.CharField(max_length=32)
    status = fields.CharEnumField(LeadStatus, max_length=16, default=LeadStatus.NEW)
    #: ``"business:phone"`` while open, ``NULL`` when closed, so at most one open lead per caller.
    open_key = fields.CharField(max_length=128, null=True, unique=True)
    name = fields.CharField(max_length=128, null=True)
    service = fields.CharField(max_length=128, null=True)
    zip = fields.CharField(max_length=16, null=True)
    urgency = fields.CharField(max_length=16, null=True)
    callback_start = fields.DatetimeField(null=True)
    callback_end = fields.DatetimeField(null=True)
    call_count = fields.IntField(default=0)
    first_call_at = fields.DatetimeField(null=True)
    last_call_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    closed_at = fields.DatetimeField(null=True)
    #: Bumped by every change (``hub.store.leads.change_lead``), so readers can order updates.
    version = fields.IntField(default=0, db_default=0)
    #: Where the customer came from: the called number's label, or ``web form``.
    source = fields.CharField(max_length=64, null=True)
    email = fields.CharField(max_length=254, null=True)

    class Meta:
        table = "hub_lead"
        indexes = (("business", "status"),)


class Call(Model):
    id = fields.IntField(primary_key=True)
    business = fields.CharField(max_length=64)
    provider = fields.CharField(max_length=64)
    provider_call_id = fields.CharField(max_length=128)
    lead: fields.ForeignKeyNullableRelation[Lead] = fields.ForeignKeyField(
        "hub.Lead", related_name="calls", null=True, on_delete=fields.SET_NULL
    )
    lead_id: int | None
    caller = fields.CharField(max_length=64, null=True)
    called = fields.CharField(max_length=32)
    outcome = fields.CharField(max_length=16)
    after_hours = fields.BooleanField(default=False)
    #: Why no text-back was scheduled (``answered``, ``anonymous``, ``opted_out``...), else NULL.
    skipped_reason = fields.CharField(max_length=32, null=True)
    forwarded_from = fields.CharField(max_length=32, null=True)
    recording_url = fields.CharField(max_length=512, null=True)
    at = fields.DatetimeField()
    #: The provider's webhook fields, for the record.
    provider_data = fields.JSONField[dict[str, Any]](default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "hub_call"
        unique_together = (("business", "provider", "provider_call_id"),)
        #: A lead's calls: its view reads the last one and the last voicemail.
        indexes = (("lead_id", "at"),)


class Message(Model):
    id = fields.IntField(primary_key=True)
    business = fields.CharField(max_length=64)
    lead: fields.ForeignKeyNullableRelation[Lead] = fields.ForeignKeyField(
        "hub.Lead", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    lead_id: int | None
    phone = fields.CharField(max_length=32)
    #: The business's number this conversation uses (the number called or texted).
    business_number = fields.CharField(max_length=32, null=True)
    direction = fields.CharEnumField(Direction, max_length=3)
    #: What the text is for: ``text_back``, ``reply`` (from the customer), ``follow_up``...
    purpose = fields.CharField(max_length=32)
    body = fields.TextField()
    provider = fields.CharField(max_length=64, null=True)
    provider_message_id = fields.CharField(max_length=128, null=True)
    status = fields.CharField(max_length=16)
    status_rank = fields.SmallIntField(default=0)
    error_code = fields.CharField(max_length=32, null=True)
    error: str | None = fields.TextField(null=True)
    #: What this outbound text answers (``text_back:CALL_ID``...): one text per cause, however
    #: often its job runs.
    source_key = fields.CharField(max_length=128, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "hub_message"
        unique_together = (("business", "provider", "provider_message_id"),)
        indexes = (("business", "phone"), ("business", "purpose", "created_at"))


class OptOut(Model):
    """A caller who asked a business not to text them. Kept when they opt back in, for the
    record (``opted_in_at`` set), as consent records must be."""

    id = fields.IntField(primary_key=True)
    business = fields.CharField(max_length=64)
    phone = fields.CharField(max_length=32)
    active = fields.BooleanField(default=True)
    #: ``keyword``, ``natural_language``, ``provider``, ``provider_error``, ``dashboard``.
    source = fields.CharField(max_length=32)
    detail: str | None = fields.TextField(null=True)
    opted_out_at = fields.DatetimeField()
    opted_in_at = fields.DatetimeField(null=True)

    class Meta:
        table = "hub_opt_out"
        unique_together = (("business", "phone"),)


class InboxEvent(Model):
    """Every provider event id the hub has acted on. Never pruned, so retried webhooks stay
    no-ops however late they come."""

    id = fields.BigIntField(primary_key=True)
    provider = fields.CharField(max_length=64)
    event_key = fields.CharField(max_length=255)
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "hub_inbox"
        unique_together = (("provider", "event_key"),)


class LeadEvent(Model):
    """The lead's timeline: who or what changed it, and how."""

    id = fields.BigIntField(primary_key=True)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "hub.Lead", related_name="events", on_delete=fields.CASCADE
    )
    lead_id: int
    at = fields.DatetimeField()
    #: ``system``, ``customer``, ``owner``, ``plugin:NAME``, ``cli``...
    actor = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=32)
    detail = fields.JSONField[dict[str, Any]](default=dict)

    class Meta:
        table = "hub_lead_event"


class Delivery(Model):
    """One event to one sink."""

    id = fields.IntField(primary_key=True)
    business = fields.CharField(max_length=64)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "hub.Lead", related_name="deliveries", on_delete=fields.CASCADE
    )
    lead_id: int
    sink = fields.CharField(max_length=64)
    sink_index = fields.SmallIntField()
    #: The event's kind (``notify.summary``, ``lead.created``...).
    kind = fields.CharField(max_length=32)
    #: Shared by the event's deliveries to every sink; with ``sink_index`` the idempotency id.
    event_id = fields.CharField(max_length=32, null=True)
    #: The lead's version the event produced.
    lead_version = fields.IntField(default=0, db_default=0)
    status = fields.CharField(max_length=16, default="pending")
    attempts = fields.IntField(default=0)
    reference = fields.CharField(max_length=255, null=True)
    error: str | None = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "hub_delivery"


class Job(Model):
    """A durable job (see ``hub.jobs``). Times are epoch milliseconds, so the claim, rescue and
    retry statements compare plain integers on every backend."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=64)
    payload = fields.JSONField[dict[str, Any]](default=dict)
    state = fields.CharField(max_length=16)
    business = fields.CharField(max_length=64, null=True)
    #: Unique among live jobs, cleared when the job finishes so the key can be used again.
    dedupe_key = fields.CharField(max_length=255, null=True, unique=True)
    #: The key as enqueued, kept for operators.
    key = fields.CharField(max_length=255, null=True, db_index=True)
    priority = fields.SmallIntField(default=0)
    attempt = fields.IntField(default=0)
    max_attempts = fields.IntField()
    run_at_ms = fields.BigIntField()
    locked_by = fields.CharField(max_length=64, null=True)
    locked_until_ms = fields.BigIntField(null=True)
    last_error: str | None = fields.TextField(null=True)
    created_at_ms = fields.BigIntField()
    finished_at_ms = fields.BigIntField(null=True)

    class Meta:
        table = "hub_job"
        indexes = (("state", "run_at_ms"), ("state", "locked_until_ms"))


class PluginStateEntry(Model):
    """One key of a plugin's durable key-value state for one business (``context.state``).

    Plugins keep what they must remember here (a CRM's contact id, a sheet's row, the parts of
    a multipart text) instead of creating tables of their own. ``version`` grows by one on
    every write, so a compare-and-set is one fenced ``UPDATE``.
    """

    id = fields.BigIntField(primary_key=True)
    plugin = fields.CharField(max_length=64)
    business = fields.CharField(max_length=64)
    key = fields.CharField(max_length=255)
    value: Any = fields.JSONField()
    version = fields.IntField(default=1)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "hub_plugin_state"
        unique_together = (("plugin", "business", "key"),)


class ApiToken(Model):
    """A token for the JSON API (``hub tokens create``): only its SHA-256 is kept, so a copy
    of the database gives no access; it sees only its ``businesses``."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    #: Hex SHA-256 of the token (a high-entropy random string: no salt or slow hash needed).
    token_hash = fields.CharField(max_length=64, unique=True)
    businesses = fields.JSONField[list[str]](default=list)
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "hub_api_token"


class User(Model):
    """A person who signs in to the dashboard (``hub users``). ``admin`` sees every business;
    ``owner`` and ``staff`` only those in ``businesses``, and staff cannot manage users."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    #: An argon2id hash (``pwdlib``), never the password.
    password_hash = fields.CharField(max_length=255)
    role = fields.CharField(max_length=16)
    businesses = fields.JSONField[list[str]](default=list)
    #: Failed sign-ins in a row; at the limit the account is locked until ``locked_until``.
    failed_logins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    #: Bumped when the password changes: sessions signed for an older one stop working.
    session_epoch = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "hub_user"
