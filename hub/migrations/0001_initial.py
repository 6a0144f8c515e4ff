import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from hub.models import Direction, LeadStatus


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Contact",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("business", fields.CharField(max_length=64)),
                ("phone", fields.CharField(max_length=32)),
                ("name", fields.CharField(null=True, max_length=128)),
                (
                    "can_receive_sms",
                    fields.BooleanField(
                        null=True,
                        description="``False`` once a provider said this number cannot receive texts (landline, unreachable).",
                    ),
                ),
                (
                    "line_type",
                    fields.CharField(
                        null=True,
                        description="What a line-type lookup said (``mobile``, ``landline``...), cached: lookups cost money.",
                        max_length=32,
                    ),
                ),
                (
                    "line_type_checked_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "hub_contact",
                "app": "hub",
                "unique_together": (("business", "phone"),),
                "pk_attr": "id",
                "table_description": "A caller as one business knows them.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="InboxEvent",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("provider", fields.CharField(max_length=64)),
                ("event_key", fields.CharField(max_length=255)),
                ("received_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "hub_inbox",
                "app": "hub",
                "unique_together": (("provider", "event_key"),),
                "pk_attr": "id",
                "table_description": "Every provider event id the hub has acted on. Never pruned, so retried webhooks stay",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Job",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("kind", fields.CharField(max_length=64)),
                (
                    "payload",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("state", fields.CharField(max_length=16)),
                ("business", fields.CharField(null=True, max_length=64)),
                (
                    "dedupe_key",
                    fields.CharField(
                        null=True,
                        unique=True,
                        description="Unique among live jobs, cleared when the job finishes so the key can be used again.",
                        max_length=255,
                    ),
                ),
                (
                    "key",
                    fields.CharField(
                        null=True,
                        db_index=True,
                        description="The key as enqueued, kept for operators.",
                        max_length=255,
                    ),
                ),
                ("priority", fields.SmallIntField(default=0)),
                ("attempt", fields.IntField(default=0)),
                ("max_attempts", fields.IntField()),
                ("run_at_ms", fields.BigIntField()),
                ("locked_by", fields.CharField(null=True, max_length=64)),
                ("locked_until_ms", fields.BigIntField(null=True)),
                ("last_error", fields.TextField(null=True, unique=False)),
                ("created_at_ms", fields.BigIntField()),
                ("finished_at_ms", fields.BigIntField(null=True)),
            ],
            options={
                "table": "hub_job",
                "app": "hub",
                "indexes": [
                    Index(fields=["state", "run_at_ms"]),
                    Index(fields=["state", "locked_until_ms"]),
                ],
                "pk_attr": "id",
                "table_description": "A durable job (see ``hub.jobs``). Times are epoch milliseconds, so the claim, rescue and",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Lead",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("business", fields.CharField(db_index=True, max_length=64)),
                (
                    "contact",
                    fields.ForeignKeyField(
                        "hub.Contact",
                        source_field="contact_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="leads",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("phone", fields.CharField(max_length=32)),
                (
                    "status",
                    fields.CharEnumField(
                        default=LeadStatus.NEW,
                        description="NEW: new\nCONTACTED: contacted\nBOOKED: booked\nCLOSED: closed",
                        enum_type=LeadStatus,
                        max_length=16,
                    ),
                ),
                (
                    "open_key",
                    fields.CharField(
                        null=True,
                        unique=True,
                        description='``"business:phone"`` while open, ``NULL`` when closed, so at most one open lead per caller.',
                        max_length=128,
                    ),
                ),
                ("name", fields.CharField(null=True, max_length=128)),
                ("service", fields.CharField(null=True, max_length=128)),
                ("zip", fields.CharField(null=True, max_length=16)),
                ("urgency", fields.CharField(null=True, max_length=16)),
                (
                    "callback_start",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "callback_end",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("call_count", fields.IntField(default=0)),
                (
                    "first_call_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "last_call_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("closed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "hub_lead",
                "app": "hub",
                "indexes": [Index(fields=["business", "status"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Call",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("business", fields.CharField(max_length=64)),
                ("provider", fields.CharField(max_length=64)),
                ("provider_call_id", fields.CharField(max_length=128)),
                (
                    "lead",
                    fields.ForeignKeyField(
                        "hub.Lead",
                        source_field="lead_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="calls",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("caller", fields.CharField(null=True, max_length=64)),
                ("called", fields.CharField(max_length=32)),
                ("outcome", fields.CharField(max_length=16)),
                ("after_hours", fields.BooleanField(default=False)),
                (
                    "skipped_reason",
                    fields.CharField(
                        null=True,
                        description="Why no text-back was scheduled (``answered``, ``anonymous``, ``opted_out``...), else NULL.",
                        max_length=32,
                    ),
                ),
                ("forwarded_from", fields.CharField(null=True, max_length=32)),
                ("recording_url", fields.CharField(null=True, max_length=512)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "provider_data",
                    fields.JSONField(
                        default=dict,
                        description="The provider's webhook fields, for the record.",
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "hub_call",
                "app": "hub",
                "unique_together": (("business", "provider", "provider_call_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Delivery",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("business", fields.CharField(max_length=64)),
                (
                    "lead",
                    fields.ForeignKeyField(
                        "hub.Lead",
                        source_field="lead_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="deliveries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("sink", fields.CharField(max_length=64)),
                ("sink_index", fields.SmallIntField()),
                ("kind", fields.CharField(max_length=32)),
                ("status", fields.CharField(default="pending", max_length=16)),
                ("attempts", fields.IntField(default=0)),
                ("reference", fields.CharField(null=True, max_length=255)),
                ("error", fields.TextField(null=True, unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "delivered_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "hub_delivery",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "One notification to one sink.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="LeadEvent",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "lead",
                    fields.ForeignKeyField(
                        "hub.Lead",
                        source_field="lead_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="events",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "actor",
                    fields.CharField(
                        description="``system``, ``customer``, ``owner``, ``plugin:NAME``, ``cli``...",
                        max_length=64,
                    ),
                ),
                ("kind", fields.CharField(max_length=32)),
                (
                    "detail",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
            ],
            options={
                "table": "hub_lead_event",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "The lead's timeline: who or what changed it, and how.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Message",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("business", fields.CharField(max_length=64)),
                (
                    "lead",
                    fields.ForeignKeyField(
                        "hub.Lead",
                        source_field="lead_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("phone", fields.CharField(max_length=32)),
                (
                    "business_number",
                    fields.CharField(
                        null=True,
                        description="The business's number this conversation uses (the number called or texted).",
                        max_length=32,
                    ),
                ),
                (
                    "direction",
                    fields.CharEnumField(
                        description="INBOUND: in\nOUTBOUND: out", enum_type=Direction, max_length=3
                    ),
                ),
                (
                    "purpose",
                    fields.CharField(
                        description="What the text is for: ``text_back``, ``reply`` (from the customer), ``follow_up``...",
                        max_length=32,
                    ),
                ),
                ("body", fields.TextField(unique=False)),
                ("provider", fields.CharField(null=True, max_length=64)),
                ("provider_message_id", fields.CharField(null=True, max_length=128)),
                ("status", fields.CharField(max_length=16)),
                ("status_rank", fields.SmallIntField(default=0)),
                ("error_code", fields.CharField(null=True, max_length=32)),
                ("error", fields.TextField(null=True, unique=False)),
                (
                    "source_key",
                    fields.CharField(
                        null=True,
                        unique=True,
                        description="What this outbound text answers (``text_back:CALL_ID``...): one text per cause, however",
                        max_length=128,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "hub_message",
                "app": "hub",
                "unique_together": (("provider", "provider_message_id"),),
                "indexes": [Index(fields=["business", "phone"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OptOut",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("business", fields.CharField(max_length=64)),
                ("phone", fields.CharField(max_length=32)),
                ("active", fields.BooleanField(default=True)),
                (
                    "source",
                    fields.CharField(
                        description="``keyword``, ``natural_language``, ``provider``, ``provider_error``, ``dashboard``.",
                        max_length=32,
                    ),
                ),
                ("detail", fields.TextField(null=True, unique=False)),
                ("opted_out_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "opted_in_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "hub_opt_out",
                "app": "hub",
                "unique_together": (("business", "phone"),),
                "pk_attr": "id",
                "table_description": "A caller who asked a business not to text them. Kept when they opt back in, for the",
            },
            bases=["Model"],
        ),
    ]
