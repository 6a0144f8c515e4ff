"""Deliveries: one row per notification per sink, and how it went."""

from __future__ import annotations

from datetime import datetime

from hub.models import Delivery
from hub.store.db import UnitOfWork
from hub.store.sql import Script, Sql

INSERT = Sql(
    "INSERT INTO hub_delivery (business, lead_id, sink, sink_index, kind, event_id,"
    " lead_version, status, attempts, created_at)"
    " VALUES ({}, {}, {}, {}, {}, {}, {}, 'pending', 0, {}) RETURNING id"
)


def insert(
    dialect: str,
    business: str,
    lead_id: int,
    sink: str,
    sink_index: int,
    kind: str,
    at: datetime,
    *,
    event_id: str,
    lead_version: int,
) -> Script[int]:
    [row] = yield INSERT.bind(
        dialect, business, lead_id, sink, sink_index, kind, event_id, lead_version, at
    )
    return int(row["id"])


async def get(delivery_id: int) -> Delivery | None:
    return await Delivery.get_or_none(id=delivery_id)


async def save(delivery: Delivery, uow: UnitOfWork | None = None) -> None:
    await delivery.save(using_db=uow.connection if uow else None)


async def exists(uow: UnitOfWork, lead_id: int, kind: str) -> bool:
    return await Delivery.filter(lead_id=lead_id, kind=kind).using_db(uow.connection).exists()


async def for_lead(lead_id: int) -> list[Delivery]:
    return await Delivery.filter(lead_id=lead_id).order_by("id")
