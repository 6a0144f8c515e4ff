"""A person's data out, or erased (``hub contacts export|forget``).

Everything is keyed by ``(business, phone)``: the contact row, the leads of that phone, and what
hangs off those leads (calls, texts, timeline, deliveries, the jobs that name them). Erasing keeps
the ``hub_opt_out`` row: the record that they asked not to be texted is what keeps them from
being texted again, and consent law requires it be kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from hub.models import (
    Call,
    Contact,
    Delivery,
    InboxEvent,
    Job,
    Lead,
    LeadEvent,
    Message,
    OptOut,
    PluginStateEntry,
)
from hub.store.db import Database

#: A delivery's state, never what went to the sink (that lives in its job's payload) nor the
#: sink's error text (a service's response, not the person's data).
_DELIVERY_FIELDS = (
    "id", "lead_id", "sink", "kind", "status", "attempts", "reference", "created_at",
    "delivered_at",
)  # fmt: skip


async def businesses_of(phone: str) -> list[str]:
    """Every business that holds anything about ``phone``, sorted."""
    found: set[Any] = set()
    found.update(await Contact.filter(phone=phone).values_list("business", flat=True))
    found.update(await Lead.filter(phone=phone).distinct().values_list("business", flat=True))
    found.update(await Message.filter(phone=phone).distinct().values_list("business", flat=True))
    found.update(await OptOut.filter(phone=phone).values_list("business", flat=True))
    found.update(await Call.filter(caller=phone).distinct().values_list("business", flat=True))
    return sorted(str(business) for business in found)


async def _lead_ids(business: str, phone: str, using: BaseDBAsyncClient | None = None) -> list[int]:
    """The leads of ``phone`` at ``business``: by their phone, and by the contact's id."""
    contact = Q(contact__business=business, contact__phone=phone)
    rows: list[Any] = await (
        Lead.filter(Q(business=business, phone=phone) | contact)
        .using_db(using)
        .values_list("id", flat=True)
    )
    return sorted({int(row) for row in rows})


async def export(business: str, phone: str) -> dict[str, Any]:
    """What ``business`` holds about ``phone``: plain values (datetimes left for the caller)."""
    lead_ids = await _lead_ids(business, phone)
    contact = await Contact.filter(business=business, phone=phone).values()
    opt_out = await OptOut.filter(business=business, phone=phone).values(
        "active", "source", "detail", "opted_out_at", "opted_in_at"
    )
    return {
        "business": business,
        "contact": contact[0] if contact else None,
        "opt_out": opt_out[0] if opt_out else None,
        "leads": await Lead.filter(id__in=lead_ids).order_by("id").values(),
        "calls": await Call.filter(_calls(business, phone, lead_ids)).order_by("at", "id").values(),
        "messages": await Message.filter(_messages(business, phone, lead_ids))
        .order_by("id")
        .values(),
        "timeline": await LeadEvent.filter(lead_id__in=lead_ids).order_by("id").values(),
        "deliveries": await Delivery.filter(lead_id__in=lead_ids)
        .order_by("id")
        .values(*_DELIVERY_FIELDS),
    }


def _calls(business: str, phone: str, lead_ids: Sequence[int]) -> Q:
    return Q(business=business) & (Q(caller=phone) | Q(lead_id__in=list(lead_ids)))


def _messages(business: str, phone: str, lead_ids: Sequence[int]) -> Q:
    # By lead too: the owner's alerts about this caller are texts to the owner's phone.
    return Q(business=business) & (Q(phone=phone) | Q(lead_id__in=list(lead_ids)))


def _names(payload: Any, lead_ids: set[int], delivery_ids: set[int], phone: str) -> bool:
    if not isinstance(payload, dict):
        return False
    return (
        payload.get("lead_id") in lead_ids
        or payload.get("delivery_id") in delivery_ids
        or phone in (value for value in payload.values() if isinstance(value, str))
    )


async def forget(db: Database, business: str, phone: str) -> dict[str, int]:
    """Erase what ``business`` holds about ``phone`` but its opt-out record, in one
    transaction; how many rows of each kind went."""
    removed: dict[str, int] = {}
    async with db.transaction() as uow:
        tx = uow.connection
        lead_ids = await _lead_ids(business, phone, tx)
        deliveries: list[Any] = await (
            Delivery.filter(lead_id__in=lead_ids).using_db(tx).values_list("id", flat=True)
        )
        delivery_ids = {int(row) for row in deliveries}
        jobs: list[int] = []
        first = await Lead.filter(id__in=lead_ids).using_db(tx).order_by("created_at").first()
        if first is not None:
            # A job naming a lead was queued after the lead was made: only those need reading.
            since_ms = int(first.created_at.timestamp() * 1000) - 60_000
            rows = await (
                Job.filter(business=business, created_at_ms__gte=since_ms)
                .using_db(tx)
                .values("id", "payload")
            )
            wanted = set(lead_ids)
            jobs = [
                row["id"] for row in rows if _names(row["payload"], wanted, delivery_ids, phone)
            ]
        removed["jobs"] = await Job.filter(id__in=jobs).using_db(tx).delete()
        removed["deliveries"] = await Delivery.filter(lead_id__in=lead_ids).using_db(tx).delete()
        removed["timeline"] = await LeadEvent.filter(lead_id__in=lead_ids).using_db(tx).delete()
        removed["messages"] = await (
            Message.filter(_messages(business, phone, lead_ids)).using_db(tx).delete()
        )
        removed["calls"] = await (
            Call.filter(_calls(business, phone, lead_ids)).using_db(tx).delete()
        )
        removed["leads"] = await Lead.filter(id__in=lead_ids).using_db(tx).delete()
        removed["contacts"] = await (
            Contact.filter(business=business, phone=phone).using_db(tx).delete()
        )
        # What plugins keep under a key naming the number (``sent:EVENT:PHONE``...), and their
        # once-only marks that name it. Provider event ids stay: they keep retried webhooks
        # from bringing the data back.
        removed["plugin_state"] = await (
            PluginStateEntry.filter(business=business, key__contains=phone).using_db(tx).delete()
        )
        removed["plugin_marks"] = await (
            InboxEvent.filter(event_key__startswith=f"{business}:mark:", event_key__contains=phone)
            .using_db(tx)
            .delete()
        )
    return removed
