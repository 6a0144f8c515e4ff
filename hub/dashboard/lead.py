"""A lead (``/leads/{id}``): its fields, calls, conversation, timeline and deliveries, and
what a user does to it — edit fields, set the status, add a note, reply. Every change goes
through ``Leads`` (so sinks hear it) and every reply through the one send path."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.dashboard.auth import signed_in
from hub.models import LeadStatus
from hub.store import contacts
from hub.store import leads as lead_rows
from hub.store.leads import LeadError
from hub.store.reads import LeadDetail
from hub.store.users import UserView
from hub.types import RecipientIssue

if TYPE_CHECKING:
    from hub.dashboard.site import Dashboard

#: What a person may type into each field, at most (the columns' sizes).
FIELD_LIMITS = {"name": 128, "service": 128, "zip": 16, "urgency": 16}
MAX_NOTE = 2000
#: Four segments of plain text: a staff reply is a text, not a letter.
MAX_REPLY = 640


def actor(user: UserView) -> str:
    return f"user:{user.email}"[:64]


def safe_link(url: str | None) -> str | None:
    """A recording link only if it is http(s): never ``javascript:`` from a webhook."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def routes(dash: Dashboard) -> list[Route]:
    hub = dash.hub

    async def visible_lead(lead_id: int, user: UserView) -> LeadDetail:
        """The lead, if the user may see it; 404 alike for a lead that does not exist and one
        of a business they may not see."""
        detail = await hub.reads.lead_detail(lead_id)
        if (
            detail is None
            or detail.lead.business not in hub.config.businesses
            or not user.may_see(detail.lead.business)
        ):
            raise HTTPException(404)
        return detail

    def lead_id_of(request: Request) -> int:
        try:
            return int(request.path_params["lead_id"])
        except ValueError:
            raise HTTPException(404) from None

    def back(lead_id: int, flash: str | None = None, request: Request | None = None) -> Response:
        if flash and request is not None:
            request.session["flash"] = flash
        return RedirectResponse(f"/leads/{lead_id}", 303)

    async def show(request: Request, user: UserView) -> Response:
        detail = await visible_lead(lead_id_of(request), user)
        business = hub.config.businesses[detail.lead.business]
        refused = next(
            (
                e.detail.get("reason")
                for e in reversed(detail.timeline)
                if e.kind.endswith("_skipped") or e.kind == "text_failed"
            ),
            None,
        )
        return dash.page(
            request, "lead.html", detail=detail, lead=detail.lead, business=business,
            statuses=list(LeadStatus), voicemail=safe_link(detail.lead.voicemail_url),
            safe_link=safe_link, refused=refused, limits=FIELD_LIMITS,
        )  # fmt: skip

    async def set_status(request: Request, user: UserView) -> Response:
        detail = await visible_lead(lead_id_of(request), user)
        form = await request.form()
        try:
            status = LeadStatus(str(form.get("status") or ""))
        except ValueError:
            raise HTTPException(400, "status is one of new, contacted, booked, closed") from None
        try:
            changed = await hub.leads.set_status(detail.lead.id, status, actor=actor(user))
        except LeadError as exc:
            return back(detail.lead.id, str(exc), request)
        return back(detail.lead.id, f"Status: {status}" if changed else None, request)

    async def edit(request: Request, user: UserView) -> Response:
        detail = await visible_lead(lead_id_of(request), user)
        form = await request.form()
        fields: dict[str, str | None] = {}
        for name, limit in FIELD_LIMITS.items():
            if name in form:
                value = str(form.get(name) or "").strip()
                if len(value) > limit:
                    raise HTTPException(400, f"{name} is at most {limit} characters")
                fields[name] = value or None
        async with hub.db.transaction() as uow:
            row = await lead_rows.get(detail.lead.id, using=uow.connection)
            if row is None:
                raise HTTPException(404)
            change = await hub.leads.change(uow, row, actor=actor(user), fields=fields)
        return back(detail.lead.id, "Saved" if change else None, request)

    async def note(request: Request, user: UserView) -> Response:
        detail = await visible_lead(lead_id_of(request), user)
        form = await request.form()
        text = str(form.get("text") or "").strip()
        if not text:
            return back(detail.lead.id)
        if len(text) > MAX_NOTE:
            raise HTTPException(400, f"a note is at most {MAX_NOTE} characters")
        await hub.db.run(
            lead_rows.record(
                hub.db.dialect, detail.lead.id, "note", at=hub.clock.now(), actor=actor(user),
                text=text,
            )
        )  # fmt: skip
        return back(detail.lead.id, "Note added", request)

    async def reply(request: Request, user: UserView) -> Response:
        detail = await visible_lead(lead_id_of(request), user)
        lead = detail.lead
        form = await request.form()
        text = str(form.get("text") or "").strip()
        if not text:
            return back(lead.id, "Nothing to send", request)
        if len(text) > MAX_REPLY:
            raise HTTPException(400, f"a reply is at most {MAX_REPLY} characters")
        business = hub.config.businesses[lead.business]
        # Said at once where we already know; the send path checks again when it sends.
        issue = await contacts.reachability(business.slug, lead.caller)
        if issue is not None:
            why = (
                "they opted out of texts"
                if issue == RecipientIssue.OPTED_OUT
                else "their number cannot receive texts"
            )
            return back(lead.id, f"Not sent: {why}.", request)
        note = "Reply queued"
        if business.quiet_hours.enabled:
            now = hub.clock.now()
            allowed = business.quiet.next_allowed(now, lead.caller, business.timezone)
            if allowed != now:
                if business.quiet_hours.outside != "hold" or allowed is None:
                    return back(lead.id, "Not sent: it is quiet hours where they are.", request)
                when = business.local_time(allowed).strftime("%a %-I:%M %p")
                note = f"Quiet hours where they are: the reply goes out {when}"
        await hub.outbound.queue_text(
            business, lead.id, "staff_reply",
            source_key=f"staff_reply:{uuid.uuid4().hex[:12]}", context={"text": text},
        )  # fmt: skip
        await hub.db.run(
            lead_rows.record(hub.db.dialect, lead.id, "reply_queued", at=hub.clock.now(),
                             actor=actor(user))
        )  # fmt: skip
        return back(lead.id, note, request)

    return [
        Route("/leads/{lead_id}", signed_in(show)),
        Route("/leads/{lead_id}/status", signed_in(set_status), methods=["POST"]),
        Route("/leads/{lead_id}/fields", signed_in(edit), methods=["POST"]),
        Route("/leads/{lead_id}/notes", signed_in(note), methods=["POST"]),
        Route("/leads/{lead_id}/reply", signed_in(reply), methods=["POST"]),
    ]
