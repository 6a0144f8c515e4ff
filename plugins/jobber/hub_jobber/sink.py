"""``JobberSink``: each lead a Jobber client (found or created) and a request, its replies and
changes notes on that request, and Jobber's visits and jobs moving the lead back in the hub."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

import hub
from hub_jobber import notes, queries
from hub_jobber.api import JobberApi
from hub_jobber.config import JobberConfig
from hub_jobber.errors import JobberError, NotConnected, Unauthorized
from hub_jobber.oauth import Connector
from hub_jobber.records import Records
from hub_jobber.tokens import Connection
from hub_jobber.vault import Vault
from hub_jobber.webhooks import Webhooks

EVENTS = frozenset(
    {
        hub.EventKind.LEAD_CREATED,
        hub.EventKind.LEAD_UPDATED,
        hub.EventKind.LEAD_STATUS_CHANGED,
        hub.EventKind.MESSAGE_RECEIVED,
    }
)
#: The hub's statuses in the order a lead moves: Jobber only ever moves a lead forward.
ORDER = ("new", "contacted", "booked", "closed")


class JobberSink(hub.Sink[JobberConfig]):
    name = "jobber"  # hub.yaml: sinks: [{use: jobber, client_id: ..., ...}]
    description = "Each lead a Jobber client and request; replies as notes; visits book it"
    events = EVENTS

    def __init__(self, config: JobberConfig, context: hub.ProviderContext) -> None:
        super().__init__(config, context)
        self.api = JobberApi(config, lambda: context.now().timestamp())
        self.connection = Connection(context, config, self.api, Vault(config.encryption_key))
        self.connector = Connector(context, config, self.api, self.connection)
        self.records = Records(context, self._query)
        self.webhooks = Webhooks(self)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def close(self) -> None:
        await self.api.aclose()

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/connect", self.connector.connect, methods=["GET"]),
            Route("/callback", self.connector.callback, methods=["GET"]),
            Route("/webhooks", self.webhooks.receive, methods=["POST"]),
        ]

    # -- deliveries -------------------------------------------------------------------------------

    async def deliver(self, event: hub.Event) -> hub.DeliveryResult:
        lock = self._locks.setdefault(event.lead.id, asyncio.Lock())
        async with lock:  # one delivery per lead at a time in this process
            try:
                return await self._deliver(event)
            except JobberError as error:
                return error.result
            except NotConnected as problem:
                return await self._not_connected(event, str(problem))

    async def _deliver(self, event: hub.Event) -> hub.DeliveryResult:
        state = self.context.state
        done = await state.get(f"event:{event.id}")
        if isinstance(done, str):  # a retry of an event already in Jobber
            return hub.DeliveryResult.delivered(done)
        await state.set(f"lead:{event.lead.id}:status", event.lead.status)
        if event.kind == hub.EventKind.LEAD_STATUS_CHANGED and event.actor == self.name:
            reference = "moved by Jobber"  # our own webhook's move: Jobber knows
        else:
            client_id = await self.records.client(event)
            request_id, url, made = await self.records.request(event, client_id)
            if made:
                await self.context.note_on_lead(
                    event.lead.id, f"Jobber request {request_id} (client {client_id})", url=url
                )
            reference = await self._note(event, request_id)
        await state.set(f"event:{event.id}", reference)
        return hub.DeliveryResult.delivered(reference)

    async def _note(self, event: hub.Event, request_id: str) -> str:
        kind = event.kind
        if kind == hub.EventKind.LEAD_CREATED:
            text = notes.details(event.lead, self.context.business.timezone)
            await self.records.note(request_id, f"{event.lead.id}:details", text)
            return request_id
        if kind == hub.EventKind.MESSAGE_RECEIVED:
            text = notes.message(event)
        elif kind == hub.EventKind.LEAD_STATUS_CHANGED:
            text = notes.status(event)  # Jobber has no settable request status: a note
        else:
            text = notes.update(event)
        return await self.records.note(request_id, event.id, text)

    async def _not_connected(self, event: hub.Event, problem: str) -> hub.DeliveryResult:
        record = await self.connection.record()
        connection = str(record.get("id")) if record else "never"
        text = f"Jobber: {problem}. Until then new leads do not reach Jobber."
        await self.context.tell_owner(f"reconnect:{connection}", text, lead_id=event.lead.id)
        return hub.DeliveryResult.failed(text)

    async def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        access, account = await self.connection.access()
        try:
            return await self.api.graphql(access, account, query, variables)
        except Unauthorized:
            access, account = await self.connection.renew_after_401(access)
        try:
            return await self.api.graphql(access, account, query, variables)
        except Unauthorized:  # refused even fresh: the app was disconnected
            await self.connection.disconnect()
            raise NotConnected(
                f"Jobber refuses the hub's access: {self.connection.reconnect_advice}"
            ) from None

    # -- Jobber's webhooks, from the plugin's job -------------------------------------------------

    async def apply_webhook(self, topic: str, item_id: str) -> str:
        """Move the hub's lead by what Jobber says changed; what was done, in words."""
        if topic == "APP_DISCONNECT":
            await self.connection.disconnect()
            return "disconnected"
        if topic.startswith("VISIT_"):
            data = await self._query(queries.VISIT, {"id": item_id})
            visit = data.get("visit") or {}
            job = visit.get("job") or {}
            booked = bool(visit.get("startAt")) and not visit.get("isComplete")
            return await self._move(job, "booked" if booked else None)
        if topic.startswith("JOB_"):
            data = await self._query(queries.JOB, {"id": item_id})
            job = data.get("job") or {}
            closed = topic == "JOB_CLOSED" or job.get("jobStatus") in CLOSED_JOB_STATUSES
            return await self._move(job, "closed" if closed else None)
        if topic.startswith("REQUEST_"):
            data = await self._query(queries.REQUEST, {"id": item_id})
            request = data.get("request") or {}
            assessment = request.get("assessment") or {}
            status = None
            if request.get("requestStatus") == "archived":
                status = "closed"
            elif assessment.get("startAt") and not assessment.get("isComplete"):
                status = "booked"
            return await self._move({"request": {"id": request.get("id")}, **request}, status)
        return f"topic {topic} ignored"

    async def _move(self, item: dict[str, Any], status: str | None) -> str:
        if status is None:
            return "nothing to move"
        lead_id = await self._lead_of(item)
        if lead_id is None:
            return "no hub lead for it"
        known = await self.context.state.get(f"lead:{lead_id}:status")
        if isinstance(known, str) and known in ORDER and ORDER.index(known) >= ORDER.index(status):
            return f"lead {lead_id} is already {known}"
        try:
            moved = await self.context.set_lead_status(lead_id, status)
        except ValueError as refused:  # a reopening the hub refuses
            return f"lead {lead_id} not moved: {refused}"
        if moved:
            await self.context.state.set(f"lead:{lead_id}:status", status)
        return f"lead {lead_id} → {status}" if moved else f"lead {lead_id} unchanged"

    async def _lead_of(self, item: dict[str, Any]) -> int | None:
        request = item.get("request") or {}
        client = item.get("client") or {}
        for key in (
            f"request:{request.get('id')}:lead" if request.get("id") else None,
            f"client:{client.get('id')}:lead" if client.get("id") else None,
        ):
            if key is None:
                continue
            lead = await self.context.state.get(key)
            if isinstance(lead, int):
                return lead
        return None


#: Jobber's job statuses that mean the work is over.
CLOSED_JOB_STATUSES = frozenset({"archived", "requires_invoicing"})
