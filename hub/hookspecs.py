"""Hook specifications: the whole contract between the hub and its plugins.

A plugin is a module (or object) with functions marked ``@hub.hookimpl`` whose names match the
specs below, exposed through the ``hub`` entry-point group::

    [project.entry-points.hub]
    telnyx = "hub_telnyx"

There are four kinds of provider a plugin can add, each through its own ``register`` hook. A plugin
registers *classes*; ``hub.yaml`` selects them by name per business and the hub builds one instance
per selection with its validated config. Their runtime methods are ``async`` methods on those
classes (see ``hub.providers``), so pluggy itself never awaits anything.

Rules every hook follows:

- Hooks never use ``firstresult``: every implementation is called. The core's defaults register
  first, through these same hooks, then each installed plugin in name order.
- Registration hooks return nothing; they call ``register`` once per class. Registering a
  ``(kind, name)`` that another plugin already registered is an error naming both plugins, and
  so is registering a class that leaves its kind's runtime method (``send``, ``parse``,
  ``deliver``) unimplemented: that error names the plugin and the missing method.
- Lifecycle hooks may return an awaitable; the hub awaits each in turn.
- New parameters may be added to a hook in a later release; pluggy passes an implementation only
  the parameters it names, so existing plugins keep working.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from hub.context import HubContext
    from hub.jobs import JobKind
    from hub.providers import CallSource, ReplyParser, Sink, SmsSender

PROJECT = "hub"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- Registration ---------------------------------------------------------------------------------


@hookspec
def hub_register_call_sources(register: Callable[[type[CallSource]], None]) -> None:
    """Register call sources: classes that turn a provider's voice webhooks into ``CallEvent``\\ s.

    Call ``register(SourceClass)`` once per class. ``SourceClass.name`` is what ``hub.yaml`` writes
    in ``call_source: {use: NAME}``; its routes are mounted under ``/hooks/{business}/NAME/``.
    """


@hookspec
def hub_register_sms_senders(register: Callable[[type[SmsSender]], None]) -> None:
    """Register SMS senders: classes that send texts and own their inbound-SMS and delivery-status
    webhooks.

    Call ``register(SenderClass)`` once per class; ``hub.yaml`` selects it with
    ``sms_sender: {use: NAME}`` (or as one of that selection's ``fallbacks``).
    """


@hookspec
def hub_register_reply_parsers(register: Callable[[type[ReplyParser]], None]) -> None:
    """Register reply parsers: classes that pull lead fields out of a customer's text.

    A business lists parsers in ``reply_parsers``; they run in that order and each fills only
    what the earlier ones left empty.
    """


@hookspec
def hub_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    """Register notification sinks: classes that tell the owner, or push a lead somewhere.

    Every sink a business lists gets every notification, each as its own durable job, so one
    failing sink neither blocks nor repeats the others.
    """


@hookspec
def hub_register_job_kinds(register: Callable[[JobKind], None]) -> None:
    """Register kinds of durable background job (see ``hub.JobKind``).

    A plugin that must do work later or with retries (a CRM sync, say) registers a kind and
    enqueues jobs of it (``context.enqueue``); they run in every hub worker with the kind's retry
    policy. The handler is called as ``await handler(context, job)`` with a ``hub.JobContext``
    (clock, log, enqueue, the plugin's state per business, the business's providers) and the
    ``hub.ClaimedJob``; it raises ``hub.Retry`` or ``hub.Discard`` to say how it ended otherwise.
    """


@hookspec
def hub_register_commands(register: Callable[[click.Command], None]) -> None:
    """Register commands of the ``hub`` CLI: ``hub jobber connect`` is a plugin's ``jobber``
    group.

    Call ``register(command)`` once per ``click`` command or group; its name is the word after
    ``hub``, and a name the hub's own commands use is refused. Plugins are loaded (and this
    hook called) only when ``hub NAME`` names no command of the hub's own, so ``hub --help``
    stays quick and does not list plugin commands; ``hub plugins`` does. A command reaches its
    configured providers with ``hub.configured_providers(business, ProviderClass)``.

    New in this release.
    """


# -- Lifecycle ------------------------------------------------------------------------------------


@hookspec
def hub_startup(context: HubContext) -> Awaitable[None] | None:
    """Called once the database is ready and the providers have started, before the hub serves.

    ``context`` is a ``hub.HubContext``: the businesses (read-only views), the clock, a logger.

    May return an awaitable, which is awaited. An exception here stops the hub from starting.
    """


@hookspec
def hub_shutdown(context: HubContext) -> Awaitable[None] | None:
    """Called when the hub stops, before the providers close and the database disconnects.

    ``context`` is the same ``hub.HubContext`` as ``hub_startup``'s.

    May return an awaitable, which is awaited. Exceptions are logged and do not stop the
    remaining shutdown.
    """


__all__: list[Any] = [
    "hookimpl",
    "hookspec",
    "hub_register_call_sources",
    "hub_register_commands",
    "hub_register_job_kinds",
    "hub_register_reply_parsers",
    "hub_register_sinks",
    "hub_register_sms_senders",
    "hub_shutdown",
    "hub_startup",
]
