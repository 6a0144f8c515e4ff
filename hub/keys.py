"""The core's job kinds, and the dedupe keys that let waiting work be cancelled."""

from __future__ import annotations

TEXT_BACK = "text_back"
NOTIFY = "notify"
PROCESS_REPLY = "process_reply"
SEND_REPLY = "send_reply"
NUDGE = "nudge"
REMIND_OWNER = "remind_owner"
SUMMARY = "summary"
OWNER_ALERT = "owner_alert"


def text_back_key(lead_id: int) -> str:
    return f"{TEXT_BACK}:lead:{lead_id}"


def reminder_keys(lead_id: int) -> list[str]:
    """The nudge and the owner reminder: what any reply or status change stops."""
    return [f"{NUDGE}:lead:{lead_id}", f"{REMIND_OWNER}:lead:{lead_id}"]


def keys_for(lead_id: int) -> list[str]:
    """Everything still waiting to reach a customer or nag the owner about this lead."""
    return [text_back_key(lead_id), *reminder_keys(lead_id)]
