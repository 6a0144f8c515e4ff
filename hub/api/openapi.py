"""The OpenAPI 3.1 document of ``/api/v1``: paths written here, schemas generated from the
pydantic models the handlers use (``hub.api.schemas``). A test checks that every route of the
API is in it."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from hub.api.schemas import SCHEMAS

_REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {
        401: "No token, or an unknown or revoked one",
        404: "No such lead or business, or not one of the token's",
        409: "Refused: the reason is in the message",
        413: "The body is larger than 64 KiB",
        415: "The body is not JSON",
        422: "A parameter or field is not valid",
        429: "Too many requests for this token (see Retry-After)",
    }
    return {str(status): _json("Error", words[status]) for status in (401, 429, *statuses)}


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


_LEAD_ID = {"name": "lead_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_STATUSES = ["new", "contacted", "booked", "closed"]

PATHS: dict[str, dict[str, Any]] = {
    "/leads": {
        "get": {
            "operationId": "listLeads",
            "summary": "Leads of the token's businesses, most recently active first",
            "parameters": [
                _query("business", "Only this business's leads (its slug)"),
                _query("status", "Only leads in this status", type="string", enum=_STATUSES),
                _query("urgency", "Only leads of this urgency (emergency, soon)"),
                _query("since", "Active at or after (ISO 8601 date or time; UTC if no zone)"),
                _query("until", "Active before (ISO 8601 date or time; UTC if no zone)"),
                _query("q", "Words in the caller's number, name, service or ZIP"),
                _query("source", "Only leads from this source (a number's label, `web form`)"),
                _query("limit", "Leads per page", type="integer", minimum=1, maximum=200),
                _query("cursor", "`next_cursor` of the previous page"),
            ],
            "responses": {"200": _json("LeadPage", "A page of leads"), **_errors(404, 422)},
        }
    },
    "/leads/{lead_id}": {
        "parameters": [_LEAD_ID],
        "get": {
            "operationId": "getLead",
            "summary": "A lead with its calls, texts and timeline",
            "responses": {"200": _json("LeadWithHistory", "The lead"), **_errors(404)},
        },
        "patch": {
            "operationId": "updateLead",
            "summary": "Change a lead's status and fields (sinks hear lead.status_changed and "
            "lead.updated, with actor api:TOKEN_NAME)",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("LeadPatch")}},
            },
            "responses": {
                "200": _json("Lead", "The lead as it now is"),
                **_errors(404, 409, 413, 415, 422),
            },
        },
    },
    "/leads/{lead_id}/messages": {
        "parameters": [_LEAD_ID],
        "post": {
            "operationId": "replyToLead",
            "summary": "Text the lead's customer, through the business's sender (opt-outs and "
            "quiet hours apply)",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("Reply")}},
            },
            "responses": {
                "202": _json("ReplyQueued", "Queued; the hub's worker sends it"),
                **_errors(404, 409, 413, 415, 422),
            },
        },
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document"}},
        }
    },
}


def document(public_url: str) -> dict[str, Any]:
    _, schemas = models_json_schema([(model, "validation") for model in SCHEMAS], ref_template=_REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hub API",
            "version": "1",
            "description": "Leads of the businesses a token may see. Send the token (from "
            "`hub tokens create`) as `Authorization: Bearer TOKEN`. Errors are "
            '`{"error": {"status", "code", "message"}}`.',
        },
        "servers": [{"url": f"{public_url}/api/v1"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
