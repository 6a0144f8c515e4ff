"""Jobber's webhooks: ``POST /hooks/{business}/jobber/webhooks``.

Jobber signs each with ``X-Jobber-Hmac-SHA256``: base64 of HMAC-SHA256 over the raw body with
the app's client secret. The body names a topic and an item (``{"data": {"webHookEvent":
{"topic", "appId", "accountId", "itemId", "occurredAt"}}}``), not what changed: the item is
read from the API in a job (``jobber.webhook``), since Jobber wants an answer within a second
and may send a webhook twice (the job's dedupe key makes the second one nothing).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import hub
from hub_jobber.errors import JobberError, NotConnected

if TYPE_CHECKING:
    from hub_jobber.sink import JobberSink

MAX_BODY = 64 * 1024
JOB_KIND = "jobber.webhook"
TOPICS = ("VISIT_", "JOB_", "REQUEST_", "APP_DISCONNECT")


class Webhooks:
    def __init__(self, sink: JobberSink) -> None:
        self.sink = sink

    async def receive(self, request: Request) -> Response:
        body = await _bounded_body(request)
        given = request.headers.get("x-jobber-hmac-sha256", "")
        if not given:
            raise hub.Refused(401, "unsigned")
        secret = self.sink.config.client_secret.get_secret_value().encode()
        expected = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(given.strip().encode(), expected.encode()):
            raise hub.Refused(403, "bad signature")
        event = _event(body)
        topic, item, account = event["topic"], event["itemId"], event["accountId"]
        record = await self.sink.connection.record()
        if record is None or record.get("account") != account:
            return JSONResponse({"ignored": "not this business's Jobber account"})
        if not topic.startswith(TOPICS):
            return JSONResponse({"ignored": f"topic {topic}"})
        occurred = str(event.get("occurredAt") or event.get("occuredAt") or "")[:40]
        await self.sink.context.enqueue(
            JOB_KIND,
            {"topic": topic, "item_id": item},
            dedupe_key=f"jobber:{self.sink.context.business.slug}:{topic}:{item}:{occurred}",
        )
        return JSONResponse({"queued": topic})


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise hub.Refused(413, "too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise hub.Refused(413, "too large")
    return bytes(body)


def _event(body: bytes) -> dict[str, str]:
    try:
        payload = json.loads(body)
        event = payload["data"]["webHookEvent"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise hub.Refused(400, "not a Jobber webhook") from None
    if not isinstance(event, dict):
        raise hub.Refused(400, "not a Jobber webhook")
    for name in ("topic", "itemId", "accountId"):
        value = event.get(name)
        if not isinstance(value, str) or not value or len(value) > 200:
            raise hub.Refused(400, f"a Jobber webhook needs {name}")
    return event


async def handle(context: hub.JobContext, job: hub.ClaimedJob) -> None:
    """The ``jobber.webhook`` job: read the item from Jobber, move the lead."""
    from hub_jobber.sink import JobberSink

    if job.business is None:
        raise hub.Discard("a Jobber webhook job names no business")
    sinks = context.providers(job.business, JobberSink)
    if not sinks:
        raise hub.Discard(f"business {job.business!r} no longer uses Jobber")
    topic, item = str(job.payload.get("topic")), str(job.payload.get("item_id"))
    try:
        done = await sinks[0].apply_webhook(topic, item)
    except JobberError as error:
        if error.result.status == hub.DeliveryStatus.RETRY:
            raise hub.Retry(
                error.result.error or "Jobber", after=error.result.retry_after
            ) from None
        raise hub.Discard(error.result.error or "Jobber refused") from None
    except NotConnected as problem:
        raise hub.Discard(str(problem)) from None
    context.log.info("Jobber %s %s: %s", topic, item, done)


JOB = hub.JobKind(JOB_KIND, handle, max_attempts=8)
