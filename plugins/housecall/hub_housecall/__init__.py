"""hub-housecall: each missed-call lead a lead in Housecall Pro.

A sink (``use: housecall``) that finds or creates the caller's customer (never twice), creates
a Housecall Pro lead for each hub lead, and notes the customer's later replies, what the hub
learns and status changes on the customer. See README.md; ``hub_housecall.testing`` is a fake
Housecall Pro to test against.
"""

from __future__ import annotations

from collections.abc import Callable

import hub
from hub_housecall.config import HousecallConfig
from hub_housecall.sink import HousecallSink

__all__ = ["HousecallConfig", "HousecallSink", "hub_register_sinks"]


@hub.hookimpl
def hub_register_sinks(register: Callable[[type[hub.Sink]], None]) -> None:
    register(HousecallSink)
