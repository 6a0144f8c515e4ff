"""The ``hub`` command. Every subcommand takes ``--config PATH`` (default ``$HUB_CONFIG`` or
``./hub.yaml``). Errors are one clear line each, never a traceback.

The group and what its commands share are in ``hub.cli.base``; each module beside it adds the
commands of one subject to the group when it is imported, here.
"""

from __future__ import annotations

from hub.cli import (
    backup,
    configuration,
    contacts,
    jobs,
    leads,
    replies,
    serving,
    simulate,
    tokens,
    users,
)
from hub.cli.base import configured_providers, main
from hub.cli.serving import listen_mismatch

__all__ = ["configured_providers", "listen_mismatch", "main"]

# Imported for the commands they add to `main`.
del backup, configuration, contacts, jobs, leads, replies, serving, simulate, tokens, users
