"""``/api/v1/leads``: list, read, change and reply to leads, each within the calling token's
businesses. A lead of another business is answered exactly as one that does not exist."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.api.auth import Authenticator, Caller
from hub.api.errors import ApiError, not_found
from hub.api.schemas import Lead, LeadPage, LeadPatch, LeadWithHistory, Reply, ReplyQueued
from hub.keys import reminder_keys
from hub.leads import LeadError, LeadStatus
from hub.request_body import BodyTooLarge, read_limited
from hub.store import leads as lead_rows
from hub.store.reads import LeadFilter
from hub.views import LeadView

if TYPE_CHECKING:
    from hub.runtime import Hub

#: Query parameters of the list: the inbox's filters, and the page.
LIST_PARAMETERS = (
    "business", "status", "urgency", "since", "until", "q", "source", "limit", "cursor",
)  # fmt: skip
MAX_BODY = 64 * 1024
T = TypeVar("T", LeadPatch, Reply)
MAX_LIMIT = 200


class LeadsApi:
    def __init__(self, hub: Hub, auth: Authenticator) -> None:
        self.hub = hub
        self.auth = auth

    async def list(self, request: Request) -> Response:
        caller = await self.auth.caller(request)
        params = request.query_params
        unknown = sorted(set(params) - set(LIST_PARAMETERS))
        if unknown:
            raise _invalid(f"unknown query parameter {unknown[0]!r}")
        business = params.get("business") or None
        if business is not None and business not in caller.businesses:
            raise not_found(f"business {business!r}")
        status = params.get("status") or None
        if status is not None and status not in set(LeadStatus):
            raise _invalid("status is one of new, contacted, booked, closed")
        where = LeadFilter(
            business=business,
            status=status,
            since=_moment(params.get("since"), "since"),
            until=_moment(params.get("until"), "until"),
            text=_short(params.get("q"), "q", 100),
            urgency=_short(params.get("urgency"), "urgency", 16),
            source=_short(params.get("source"), "source", 64),
            businesses=caller.businesses,
        )
        limit = _limit(params.get("limit"))
        try:
            page = await self.hub.reads.leads(where, limit=limit, cursor=params.get("cursor"))
        except ValueError:
            raise _invalid("cursor is not one this API gave") from None
        body = LeadPage(leads=[Lead.of(lead) for lead in page.leads], next_cursor=page.cursor)
        return _json(body.model_dump(mode="json"))

    async def get(self, request: Request) -> Response:
        caller = await self.auth.caller(request)
        lead = await self._lead(request, caller)
        detail = await self.hub.reads.lead_detail(lead.id)
        if detail is None:
            raise not_found(f"lead {lead.id}")
        return _json(LeadWithHistory.of_detail(detail).model_dump(mode="json"))

    async def patch(self, request: Request) -> Response:
        caller = await self.auth.caller(request)
        view = await self._lead(request, caller)
        patch = await _body(request, LeadPatch)
        given = patch.model_fields_set
        if "status" in given and patch.status is None:
            raise _invalid("status cannot be null")
        fields = {name: getattr(patch, name) for name in given if name != "status"}
        start, end = fields.get("callback_start"), fields.get("callback_end")
        if start and end and end < start:
            raise _invalid("callback_end is before callback_start")
        try:
            async with self.hub.db.transaction() as uow:
                lead = await lead_rows.get(view.id, using=uow.connection)
                if lead is None:
                    raise not_found(f"lead {view.id}")
                status = LeadStatus(patch.status) if patch.status else None
                if status is not None and status != lead.status:
                    # As `hub leads set-status`: any change of status stops the reminders.
                    now_ms = self.hub.clock.now_ms()
                    await uow.run(self.hub.jobs.cancel(reminder_keys(lead.id), now_ms=now_ms))
                await self.hub.leads.change(
                    uow, lead, actor=caller.actor, fields=fields, status=status
                )
        except LeadError as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        changed = await self.hub.reads.lead(view.id)
        assert changed is not None
        return _json(Lead.of(changed).model_dump(mode="json"))

    async def reply(self, request: Request) -> Response:
        caller = await self.auth.caller(request)
        lead = await self._lead(request, caller)
        reply = await _body(request, Reply)
        if not reply.text.strip():
            raise _invalid("text is empty")
        business = self.hub.config.business(lead.business)
        # The same checks the send makes, said now: the caller learns why, not a skipped text.
        outlook = await self.hub.texting.outlook(business, lead.caller)
        if outlook.refused is not None:
            raise ApiError(409, "refused", f"not sent: {outlook.refused}")
        await self.hub.outbound.queue_text(
            business,
            lead.id,
            "staff_reply",
            source_key=f"staff_reply:{uuid.uuid4().hex[:12]}",
            context={"text": reply.text},
        )
        body = ReplyQueued(held_until=outlook.held_until)
        return _json(body.model_dump(mode="json"), status=202)

    async def _lead(self, request: Request, caller: Caller) -> LeadView:
        lead_id = request.path_params["lead_id"]
        lead = await self.hub.reads.lead(lead_id) if 0 < lead_id < 2**31 else None
        if lead is None or lead.business not in caller.businesses:
            raise not_found(f"lead {lead_id}")
        return lead


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid", message)


def _short(value: str | None, name: str, limit: int) -> str | None:
    if not value:
        return None
    if len(value) > limit:
        raise _invalid(f"{name} is longer than {limit} characters")
    return value


def _limit(value: str | None) -> int:
    if value is None:
        return 50
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise _invalid(f"limit is a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def _moment(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or time; one without a zone is UTC."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(f"{name} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _body(request: Request, model: type[T]) -> T:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ApiError(415, "unsupported_media_type", "send JSON (Content-Type: application/json)")
    try:
        raw = await read_limited(request, MAX_BODY)
    except BodyTooLarge as exc:
        raise ApiError(413, "too_large", str(exc)) from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _invalid("the body is not JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise _invalid(f"{where}: {first['msg']}") from None
