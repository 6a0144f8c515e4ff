"""Wording owner notifications: one template per kind, ``templates/notify/KIND.txt``.

The first line of a rendered notification is ``Subject: ...``; the rest is the body. Sinks get
both, plus the lead itself for bodies of their own (HTML email, CRM fields).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub import leads
from hub.config import Business
from hub.models import Lead
from hub.types import Notification

if TYPE_CHECKING:
    from hub.core import Hub


class Notifications:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def build(
        self, business: Business, lead: Lead, kind: str, context: dict[str, Any]
    ) -> Notification:
        summary = await leads.summary(lead, business)
        urgent = bool(context.get("urgent")) or summary.urgency == "emergency"
        rendered = self.hub.templates.render(
            f"notify/{kind}.txt",
            business,
            lead=summary,
            urgent=urgent,
            url=None,
            texted=context.get("texted", False),
            reason=context.get("reason"),
        )
        first, _, rest = rendered.partition("\n")
        if first.lower().startswith("subject:"):
            subject, text = first.split(":", 1)[1].strip(), rest.strip()
        else:
            subject, text = f"{business.name}: lead #{lead.id}", rendered
        return Notification(kind=kind, lead=summary, subject=subject, text=text, urgent=urgent)
