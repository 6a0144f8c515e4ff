"""The Jobber objects of a lead, each made once: the client (one per phone number, ever), the
request (one per lead), and notes (one per event).

What it remembers (``context.state``, per business):

- ``phone:<E.164>:client``: the caller's Jobber client id, so a repeat caller finds the same
  client without a search (Jobber's search lags behind its writes); or, while a delivery
  creates it, ``{"creating": <event id>, "at": <unix time>}``;
- ``lead:<id>:request``: ``{"id", "url"}`` of the lead's request, or its ``creating`` mark;
- ``note:<event id>``: ``"sending"`` before a note's mutation, ``"done"`` after;
- ``request:<id>:lead`` and ``client:<id>:lead``: back from Jobber's objects to the hub's lead
  (the newest lead, for a client), for Jobber's webhooks.

A mutation Jobber may have carried out though its answer was lost (a 5xx, a timeout) leaves its
mark; the retry (the same event) first looks for the object (the client by phone, once the
search has had ``SEARCH_LAG`` seconds to catch up; the request by its title among the client's
requests; the note by its text) and makes it only if it is not there.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import hub
from hub_jobber import queries
from hub_jobber.api import user_errors
from hub_jobber.errors import JobberError

#: Seconds Jobber's client search may take to show a client just created.
SEARCH_LAG = 120.0
#: A mark older than this was left by a delivery that gave up or died.
ABANDONED_AFTER = 600.0
#: How soon a delivery that finds another creating the object comes back.
PENDING_RETRY = 30.0
#: Longest note sent (Jobber's notes are long; the customer's words are bounded here).
MAX_NOTE = 4000

Query = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class Records:
    def __init__(self, context: hub.ProviderContext, query: Query) -> None:
        self.context = context
        self.query = query
        self.state = context.state

    # -- the client -------------------------------------------------------------------------------

    async def client(self, event: hub.Event) -> str:
        """The caller's Jobber client id: remembered, found by phone, or created."""
        phone = event.lead.caller
        key = f"phone:{phone}:client"
        mine: dict[str, hub.JSON] = {"creating": event.id, "at": self._now()}
        while True:
            known = await self.state.get(key)
            if isinstance(known, str):
                return known
            if isinstance(known, dict):
                self._wait_if_others(known, event, f"the client for {phone}")
                # An earlier try may have created it: give the search time to show it.
                found = await self._search(phone)
                if found is None:
                    age = self._now() - _number(known.get("at"))
                    if known.get("uncertain") and age < SEARCH_LAG:
                        raise JobberError.retry(
                            "waiting for Jobber's search to show a client that may have been "
                            "created", retry_after=round(SEARCH_LAG - age + 1),
                        )  # fmt: skip
                    if not await self.state.compare_and_set(key, known, mine):
                        continue
                    return await self._create_client(event, key, mine)
                if await self.state.compare_and_set(key, known, found):
                    return found
                continue
            found = await self._search(phone)
            if found is not None:
                if await self.state.compare_and_set(key, None, found):
                    return found
                continue
            if await self.state.compare_and_set(key, None, mine):
                return await self._create_client(event, key, mine)

    async def _search(self, phone: str) -> str | None:
        data = await self.query(queries.CLIENTS_BY_PHONE, {"term": phone})
        nodes = ((data.get("clients") or {}).get("nodes")) or []
        for node in nodes:
            numbers = [p.get("number", "") for p in node.get("phones") or [] if isinstance(p, dict)]
            if any(_same_phone(phone, str(number)) for number in numbers):
                return str(node["id"])
        return None

    async def _create_client(self, event: hub.Event, key: str, mark: dict[str, hub.JSON]) -> str:
        first, last = _names(event.lead)
        payload = {
            "firstName": first,
            "lastName": last,
            "phones": [{"number": event.lead.caller, "primary": True}],
        }
        try:
            data = await self.query(queries.CLIENT_CREATE, {"input": payload})
            created = data.get("clientCreate")
            user_errors(created, "the new client")
            assert isinstance(created, dict)
            client_id = str(created["client"]["id"])
        except JobberError as error:
            await self._after_failure(key, mark, error)
            raise
        await self.state.set(key, client_id)
        return client_id

    # -- the request ------------------------------------------------------------------------------

    async def request(self, event: hub.Event, client_id: str) -> tuple[str, str | None, bool]:
        """The lead's request ``(id, url, made_now)``: remembered, found, or created."""
        key = f"lead:{event.lead.id}:request"
        mine: dict[str, hub.JSON] = {"creating": event.id, "at": self._now()}
        while True:
            known = await self.state.get(key)
            if isinstance(known, dict) and isinstance(known.get("id"), str):
                url = known.get("url")
                return str(known["id"]), url if isinstance(url, str) else None, False
            if isinstance(known, dict):
                self._wait_if_others(known, event, f"lead {event.lead.id}'s request")
                found = await self._find_request(client_id, event.lead.id)
                if found is not None:
                    if await self.state.compare_and_set(key, known, found):
                        return str(found["id"]), _str(found.get("url")), False
                    continue
                if not await self.state.compare_and_set(key, known, mine):
                    continue
            elif not await self.state.compare_and_set(key, None, mine):
                continue
            request_id, url = await self._create_request(event, client_id, key, mine)
            return request_id, url, True

    async def _find_request(self, client_id: str, lead_id: int) -> dict[str, hub.JSON] | None:
        data = await self.query(queries.CLIENT_REQUESTS, {"id": client_id})
        nodes = (((data.get("client") or {}).get("requests")) or {}).get("nodes") or []
        for node in nodes:
            if str(node.get("title", "")).endswith(_tag(lead_id)):
                return {"id": str(node["id"]), "url": _str(node.get("jobberWebUri"))}
        return None

    async def _create_request(
        self, event: hub.Event, client_id: str, key: str, mark: dict[str, hub.JSON]
    ) -> tuple[str, str | None]:
        lead = event.lead
        what = lead.service or ("after-hours call" if lead.after_hours else "missed call")
        title = f"{what[:80]} {_tag(lead.id)}"
        try:
            data = await self.query(
                queries.REQUEST_CREATE, {"input": {"clientId": client_id, "title": title}}
            )
            created = data.get("requestCreate")
            user_errors(created, "the new request")
            assert isinstance(created, dict)
            request_id = str(created["request"]["id"])
            url = _str(created["request"].get("jobberWebUri"))
        except JobberError as error:
            await self._after_failure(key, mark, error)
            raise
        await self.state.set(key, {"id": request_id, "url": url})
        await self.state.set(f"request:{request_id}:lead", lead.id)
        await self.state.set(f"client:{client_id}:lead", lead.id)
        return request_id, url

    # -- notes ------------------------------------------------------------------------------------

    async def note(self, request_id: str, name: str, text: str) -> str:
        """Put ``text`` on the request once for ``name`` (an event id, or ``<id>:details``)."""
        text = text[:MAX_NOTE]
        key = f"note:{name}"
        known = await self.state.get(key)
        if known == "done":
            return "note already made"
        if known == "sending" and await self._note_exists(request_id, text):
            await self.state.set(key, "done")
            return "note found"
        await self.state.set(key, "sending")
        try:
            data = await self.query(
                queries.REQUEST_CREATE_NOTE,
                {"requestId": request_id, "input": {"message": text}},
            )
            created = data.get("requestCreateNote")
            user_errors(created, "the note")
        except JobberError as error:
            if not error.uncertain:
                await self.state.delete(key)
            raise
        await self.state.set(key, "done")
        assert isinstance(created, dict)
        return str((created.get("requestNote") or {}).get("id", "note"))

    async def _note_exists(self, request_id: str, text: str) -> bool:
        data = await self.query(queries.REQUEST_NOTES, {"id": request_id})
        nodes = (((data.get("request") or {}).get("notes")) or {}).get("nodes") or []
        return any(isinstance(n, dict) and n.get("message") == text for n in nodes)

    # -- marks ------------------------------------------------------------------------------------

    def _wait_if_others(self, mark: dict[str, Any], event: hub.Event, what: str) -> None:
        if mark.get("creating") != event.id and self._now() - _number(mark.get("at")) < (
            ABANDONED_AFTER
        ):
            raise JobberError.retry(
                f"{what} is being created by another delivery", retry_after=PENDING_RETRY
            )

    async def _after_failure(self, key: str, mark: dict[str, hub.JSON], error: JobberError) -> None:
        if error.uncertain:  # it may exist: the retry looks for it first
            await self.state.compare_and_set(key, mark, {**mark, "uncertain": True})
        else:  # it certainly does not: nothing is under way
            await self.state.compare_and_set(key, mark, None)

    def _now(self) -> float:
        return self.context.now().timestamp()


def _tag(lead_id: int) -> str:
    """What ends a request's title: how a retry recognises the request it made."""
    return f"(hub lead #{lead_id})"


def _names(lead: hub.LeadView) -> tuple[str, str]:
    if lead.name and lead.name.strip():
        first, _, last = lead.name.strip()[:100].partition(" ")
        return first, last or "-"
    return "Caller", lead.caller


def _same_phone(ours: str, theirs: str) -> bool:
    """Jobber keeps numbers as typed (``(512) 555-0123``): compare the national digits."""
    a, b = re.sub(r"\D", "", ours), re.sub(r"\D", "", theirs)
    return len(b) >= 7 and (a == b or a[-10:] == b[-10:])


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
