"""``HubSpotSink``: each lead a deal in a HubSpot pipeline, on the caller's contact.

What it remembers (``self.context.state``, durable, per business):

- ``phone:<E.164>``: the caller's contact (``{"id": ...}``), so a repeat caller gets the same
  contact however far HubSpot's search lags behind its writes;
- ``lead:<id>``: the lead's deal; ``lead:<id>:contact``: its contact;
  ``lead:<id>:stage``: ``{"version", "booked"}`` of the last stage set;
- ``event:<id>``: the events it handled, so a retry after a lost answer does nothing again;
- ``portal``: the HubSpot account id, for links.

Finding or creating the contact and the deal goes through ``hub.find_or_create``, which
never creates one twice (see there).
"""

from __future__ import annotations

import asyncio
import weakref

import hub
from hub_hubspot import details
from hub_hubspot.api import HubSpotApi
from hub_hubspot.config import HubSpotConfig

NOTES = {hub.EventKind.LEAD_UPDATED, hub.EventKind.MESSAGE_RECEIVED}


class HubSpotSink(hub.Sink[HubSpotConfig]):
    name = "hubspot"  # hub.yaml: sinks: [{use: hubspot, token: {$env: HUBSPOT_TOKEN}}]
    description = "Each lead a HubSpot deal on the caller's contact; replies and status follow"
    events = hub.LEAD_CHANGES | {hub.EventKind.MESSAGE_RECEIVED}
    accepts = hub.LEAD_CHANGES | {hub.EventKind.MESSAGE_RECEIVED}

    async def start(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self.api = HubSpotApi(self.config, now=lambda: self.context.now().timestamp())

    async def close(self) -> None:
        await self.api.aclose()

    async def deliver(self, event: hub.Event) -> hub.DeliveryResult:
        # One delivery at a time per lead in this process; across processes the state's
        # compare_and_set keeps them apart.
        lock = self._locks.setdefault(event.lead.id, asyncio.Lock())
        async with lock:
            try:
                return await self._deliver(event)
            except hub.DeliveryError as error:
                if error.auth:
                    await self._tell_owner(event, error)
                return error.result

    async def _deliver(self, event: hub.Event) -> hub.DeliveryResult:
        state = self.context.state
        done = await state.get(f"event:{event.id}")
        if done is not None:  # a retry of an event we handled: the hub lost our answer
            return hub.DeliveryResult.delivered(str(done))
        deal, contact = await self._deal(event)
        reference = f"deal {deal}"
        if event.kind in NOTES:
            note = self._note(event)
            if note is not None:
                note_id = await self.api.create_note(
                    note, self._ms(event), deal_id=deal, contact_id=contact
                )
                reference = f"note {note_id} on deal {deal}"
        elif event.kind == hub.EventKind.LEAD_STATUS_CHANGED:
            reference = await self._move(event, deal)
        await state.set(f"event:{event.id}", reference)
        return hub.DeliveryResult.delivered(reference)

    # -- the contact and the deal -----------------------------------------------------------------

    async def _contact(self, event: hub.Event) -> str:
        lead = event.lead
        properties = {"phone": lead.caller}
        if lead.name:
            first, _, last = lead.name.strip().partition(" ")
            properties["firstname"] = first[:100]
            if last:
                properties["lastname"] = last[:100]
        contact, _ = await hub.find_or_create(
            self.context.state,
            f"phone:{lead.caller}",
            service="HubSpot",
            attempt=event.id,
            now=self._now,
            find=lambda: self.api.find_contact(lead.caller),
            create=lambda: self.api.create_contact(properties),
            search_first=True,
        )
        return contact

    async def _deal(self, event: hub.Event) -> tuple[str, str]:
        """The lead's deal and its contact, made (once) if the lead has none yet."""
        state, lead = self.context.state, event.lead
        known = await state.get(f"lead:{lead.id}")
        contact = await state.get(f"lead:{lead.id}:contact")
        if (
            isinstance(known, dict)
            and isinstance(known.get("id"), str)
            and isinstance(contact, str)
        ):
            return str(known["id"]), contact
        contact = await self._contact(event)
        await state.set(f"lead:{lead.id}:contact", contact)
        # Stable for the lead: a create whose answer was lost is looked for by this name.
        name = f"Missed call from {lead.caller} (lead #{lead.id})"
        stage = self._stage(lead.status) or self._stage("new")
        properties = {
            "dealname": name,
            "pipeline": self.config.pipeline,
            "description": details.summary(lead, self.context.business.timezone),
        }
        if stage:
            properties["dealstage"] = stage
        if self.config.owner_id:
            properties["hubspot_owner_id"] = self.config.owner_id
        deal, created = await hub.find_or_create(
            state,
            f"lead:{lead.id}",
            service="HubSpot",
            attempt=event.id,
            now=self._now,
            find=lambda: self.api.find_deal(name),
            create=lambda: self.api.create_deal(properties, contact),
            search_first=False,
        )
        if created:
            await self._applied_stage(lead.id, lead.status, max(event.lead_version, lead.version))
            await self._note_on_lead(lead.id, deal, contact)
        return deal, contact

    async def _note_on_lead(self, lead_id: int, deal: str, contact: str) -> None:
        portal = await self._portal()
        url = f"https://app.hubspot.com/contacts/{portal}/record/0-3/{deal}" if portal else None
        await self.context.note_on_lead(
            lead_id, f"HubSpot deal {deal} created on contact {contact}", url=url
        )

    async def _portal(self) -> str | None:
        """The account id for links: configured, remembered, or asked of HubSpot once."""
        if self.config.portal_id:
            return self.config.portal_id
        known = await self.context.state.get("portal")
        if isinstance(known, str):
            return known
        try:
            portal = await self.api.portal_id()
        except hub.DeliveryError:
            return None  # a link is a nicety: the deal is made either way
        await self.context.state.set("portal", portal)
        return portal

    # -- notes and stages -------------------------------------------------------------------------

    def _note(self, event: hub.Event) -> str | None:
        if event.kind == hub.EventKind.MESSAGE_RECEIVED:
            return details.message_note(event)
        return details.change_note(event, self.context.business.timezone)

    def _stage(self, status: str) -> str | None:
        return self.config.stages.get(status)

    async def _move(self, event: hub.Event, deal: str) -> str:
        """Set the deal's stage from the lead's status as it is now (the newest), unless a
        newer version was applied already. A lead closed after it was booked keeps its won
        stage: the job was done, not lost."""
        lead = event.lead
        version = max(event.lead_version, lead.version)
        applied = await self.context.state.get(f"lead:{lead.id}:stage")
        last = applied if isinstance(applied, dict) else {}
        if isinstance(last.get("version"), int) and version <= int(last["version"]):  # type: ignore[arg-type]
            return "stale"
        stage = self._stage(lead.status)
        if lead.status == "closed" and last.get("booked"):
            stage = None
        if stage is not None:
            await self.api.update_deal(deal, {"dealstage": stage})
        await self._applied_stage(lead.id, lead.status, version, booked=bool(last.get("booked")))
        return f"deal {deal} stage {stage}" if stage else f"deal {deal} stage kept"

    async def _applied_stage(
        self, lead_id: int, status: str, version: int, *, booked: bool = False
    ) -> None:
        value: hub.JSON = {"version": version, "booked": booked or status == "booked"}
        await self.context.state.set(f"lead:{lead_id}:stage", value)

    # -- the owner --------------------------------------------------------------------------------

    async def _tell_owner(self, event: hub.Event, error: hub.DeliveryError) -> None:
        """Once per token: the owner must fix it; every delivery meanwhile fails at once."""
        await self.context.tell_owner(
            f"auth:{self.config.account_key}",
            f"The hub cannot write leads to HubSpot. {error.result.error}.",
            lead_id=event.lead.id,
        )

    def _now(self) -> float:
        return self.context.now().timestamp()

    @staticmethod
    def _ms(event: hub.Event) -> int:
        return int(event.at.timestamp() * 1000)
