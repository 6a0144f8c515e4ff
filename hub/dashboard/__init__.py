"""The dashboard: sign-in, the inbox, a lead, numbers, and the setup page.

A Starlette app of its own, mounted by ``hub.web.create_app`` after the webhook routes, so
its session, CSRF and header middleware never run on ``/hooks/...``. Pages are rendered on
the server (Jinja2, autoescaped); a small vendored script only refreshes them live.
"""

from __future__ import annotations

from hub.dashboard.app import create_dashboard

__all__ = ["create_dashboard"]
