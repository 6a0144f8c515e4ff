"""``HousecallSink``: each lead a Housecall Pro lead on the caller's customer.

What it remembers (``self.context.state``, durable, per business):

- ``phone:<E.164>``: the caller's customer (``{"id": ...}``), so a repeat caller gets the same
  customer however far Housecall Pro's search lags behind its writes;
- ``lead:<id>``: the hub lead's Housecall Pro lead; ``lead:<id>:customer``: its customer;
- ``event:<id>``: the events it handled, so a retry after a lost answer does nothing again.

Finding or creating the customer and the lead goes through ``hub.find_or_create``, which
never creates one twice (see there). Housecall Pro's API has no way to change a lead's status,
so a status change is a note on the customer, as the customer's later texts and what the hub
learns from them are.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import hub
from hub_housecall import details
from hub_housecall.api import HousecallApi, national
from hub_housecall.config import HousecallConfig


class HousecallSink(hub.Sink[HousecallConfig]):
    name = "housecall"  # hub.yaml: sinks: [{use: housecall, api_key: {$env: ...}}]
    description = "Each lead a Housecall Pro lead on the caller's customer; replies as notes"
    events = hub.LEAD_CHANGES | {hub.EventKind.MESSAGE_RECEIVED}
    accepts = hub.LEAD_CHANGES | {hub.EventKind.MESSAGE_RECEIVED}

    async def start(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self.api = HousecallApi(self.config, now=self._now)

    async def close(self) -> None:
        await self.api.aclose()

    async def deliver(self, event: hub.Event) -> hub.DeliveryResult:
        lock = self._locks.setdefault(event.lead.id, asyncio.Lock())
        async with lock:
            try:
                return await self._deliver(event)
            except hub.DeliveryError as error:
                if error.auth:
                    await self.context.tell_owner(
                        f"auth:{self.config.account_key}",
                        f"The hub cannot write leads to Housecall Pro. {error.result.error}.",
                        lead_id=event.lead.id,
                    )
                return error.result

    async def _deliver(self, event: hub.Event) -> hub.DeliveryResult:
        state = self.context.state
        done = await state.get(f"event:{event.id}")
        if done is not None:  # a retry of an event we handled: the hub lost our answer
            return hub.DeliveryResult.delivered(str(done))
        lead, customer = await self._lead(event)
        reference = f"lead {lead}"
        note = self._note(event)
        if note is not None:
            note_id = await self.api.add_note(customer, note)
            reference = f"note {note_id} on customer {customer}" if note_id else reference
        await state.set(f"event:{event.id}", reference)
        return hub.DeliveryResult.delivered(reference)

    def _note(self, event: hub.Event) -> str | None:
        timezone = self.context.business.timezone
        if event.kind == hub.EventKind.MESSAGE_RECEIVED:
            return details.message_note(event)
        if event.kind == hub.EventKind.LEAD_UPDATED:
            return details.change_note(event, timezone)
        if event.kind == hub.EventKind.LEAD_STATUS_CHANGED:
            return details.status_note(event)
        return None

    # -- the customer and the lead ----------------------------------------------------------------

    async def _customer(self, event: hub.Event) -> str:
        lead = event.lead
        first, _, last = (lead.name or "").strip().partition(" ")
        body: dict[str, Any] = {
            "first_name": first[:100] or "Caller",
            "last_name": last[:100] or lead.caller,
            "mobile_number": national(lead.caller),
            "lead_source": self.config.lead_source,
            # The hub texts the caller; Housecall Pro must not text them too.
            "notifications_enabled": False,
        }
        customer, _ = await hub.find_or_create(
            self.context.state,
            f"phone:{lead.caller}",
            service="Housecall Pro",
            attempt=event.id,
            now=self._now,
            find=lambda: self.api.find_customer(lead.caller),
            create=lambda: self.api.create_customer(body),
            search_first=True,
        )
        return customer

    async def _lead(self, event: hub.Event) -> tuple[str, str]:
        """The hub lead's Housecall Pro lead and its customer, made (once) if it has none."""
        state, lead = self.context.state, event.lead
        known = await state.get(f"lead:{lead.id}")
        customer = await state.get(f"lead:{lead.id}:customer")
        if (
            isinstance(known, dict)
            and isinstance(known.get("id"), str)
            and isinstance(customer, str)
        ):
            return str(known["id"]), customer
        customer = await self._customer(event)
        await state.set(f"lead:{lead.id}:customer", customer)
        body = {
            "customer_id": customer,
            "lead_source": self.config.lead_source,
            "note": details.summary(lead, self.context.business.timezone),
        }
        found, created = await hub.find_or_create(
            state,
            f"lead:{lead.id}",
            service="Housecall Pro",
            attempt=event.id,
            now=self._now,
            find=lambda: self.api.find_lead(customer, details.marker(lead)),
            create=lambda: self.api.create_lead(body),
            search_first=False,
        )
        if created:
            await self.context.note_on_lead(
                lead.id,
                f"Housecall Pro lead {found} created for customer {customer}",
                url=f"{self.config.app_url}/app/customers/{customer}",
            )
        return found, customer

    def _now(self) -> float:
        return self.context.now().timestamp()
