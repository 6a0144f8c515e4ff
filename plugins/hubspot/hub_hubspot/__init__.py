"""hub-hubspot: each missed-call lead a deal in HubSpot.

A sink (``use: hubspot``) that finds or creates the caller's contact (never twice), opens a
deal for each lead in the configured pipeline, notes the customer's later replies on it and
moves its stage with the lead's status. See README.md; ``hub_hubspot.testing`` is a fake
HubSpot to test against.
"""

from __future__ import annotations

from collections.abc import Callable

import hub
from hub_hubspot.config import HubSpotConfig
from hub_hubspot.sink import HubSpotSink

__all__ = ["HubSpotConfig", "HubSpotSink", "hub_register_sinks"]


@hub.hookimpl
def hub_register_sinks(register: Callable[[type[hub.Sink]], None]) -> None:
    register(HubSpotSink)
