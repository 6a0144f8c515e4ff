"""Kill -9 the hub between acknowledging a call and sending its text: after a restart the text
goes out exactly once."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

import httpx

from hub.testing import business, write_config

from .dists import make_distribution
from .processes import HubProcess

# A sender that hangs on its first send (so the hub can be killed mid-send) and records each
# send that completes in a file.
STALLING_SENDER = """
import asyncio, os
from pathlib import Path
from hub import hookimpl, SmsSender, SendResult

class StallingSender(SmsSender):
    name = "stalling"

    async def send(self, sms):
        marker = Path(os.environ["STALL_MARKER"])
        if not marker.exists():
            marker.write_text("stalled once")
            await asyncio.sleep(3600)
        with open(os.environ["SENT_LOG"], "a") as log:
            log.write(f"{sms.reference} {sms.to}\\n")
        return SendResult.sent(f"stall-{sms.reference}")

@hookimpl
def hub_register_sms_senders(register):
    register(StallingSender)
"""


def rows(database: Path, query: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


def wait_until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_killed_before_the_job_ran(hub_dir):
    config = write_config(
        hub_dir,
        {
            "acme": business(
                sms_sender={"use": "console"}, sinks=[{"use": "log"}], text_back={"delay": 2}
            )
        },
    )
    database = hub_dir / "hub.sqlite3"
    hub = HubProcess(config, dict(os.environ))
    hub.start()
    assert hub.post_call("crash-1").json()["status"] == "scheduled"
    hub.kill()  # acknowledged, text not yet sent (it waits 2 s)

    assert rows(database, "SELECT state FROM hub_job WHERE kind = 'text_back'") == [("available",)]
    assert rows(database, "SELECT COUNT(*) FROM hub_message") == [(0,)]

    hub.start()
    try:
        wait_until(
            lambda: (
                rows(database, "SELECT state FROM hub_job WHERE kind = 'text_back'")
                == [("completed",)]
            )
        )
        assert rows(database, "SELECT status FROM hub_message WHERE direction = 'out'") == [
            ("sent",)
        ]
    finally:
        # A graceful stop lets every job still running finish before the process exits, so a
        # second send, if there were one, is in the output by the time it is read.
        output = hub.stop()
    assert output.count("SMS +15125550100 -> +15125550123") == 1


def test_killed_while_sending(hub_dir, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "hub-stalling", "hub_stalling", STALLING_SENDER)
    sent_log, marker = tmp_path / "sent.log", tmp_path / "stalled"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "STALL_MARKER": str(marker),
        "SENT_LOG": str(sent_log),
    }
    config = write_config(
        hub_dir,
        {"acme": business(sms_sender={"use": "stalling"}, sinks=[{"use": "log"}])},
        worker={"lease": 2, "poll_interval": 0.1},
    )
    database = hub_dir / "hub.sqlite3"
    hub = HubProcess(config, env)
    hub.start()
    assert hub.post_call("crash-2").json()["status"] == "scheduled"
    wait_until(marker.exists)  # the job was claimed and the send is in flight
    hub.kill()

    assert rows(database, "SELECT state FROM hub_job WHERE kind = 'text_back'") == [("running",)]
    assert not sent_log.exists()

    hub.start()
    try:
        # The dead worker's lease runs out, the job is rescued and sent once.
        wait_until(
            lambda: (
                rows(database, "SELECT state FROM hub_job WHERE kind = 'text_back'")
                == [("completed",)]
            )
        )
    finally:
        hub.stop()  # waits for running jobs: nothing can be sent after this
    [sent] = sent_log.read_text().splitlines()  # exactly one text went out
    reference, to = sent.split()
    assert to == "+15125550123"
    assert rows(database, "SELECT status, provider_message_id FROM hub_message") == [
        ("sent", f"stall-{reference}")
    ]
    assert rows(database, "SELECT attempt FROM hub_job WHERE kind = 'text_back'") == [(2,)]


# A sender whose process dies right after the provider took the text, before the hub could
# record it (the window from the provider's answer to the commit); it can tell afterwards
# whether a text went out, as Twilio (by listing) or any provider keeping our reference can.
KILLED_AFTER_SENDING = """
import os, signal
from pathlib import Path
from hub import hookimpl, SmsSender, SendResult

def sent_references():
    log = Path(os.environ["SENT_LOG"])
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []

class KilledAfterSending(SmsSender):
    name = "killed"

    async def send(self, sms):
        with open(os.environ["SENT_LOG"], "a") as log:
            log.write(f"{sms.reference} {sms.to}\\n")
        marker = Path(os.environ["KILL_MARKER"])
        if not marker.exists():
            marker.write_text("killed once")
            os.kill(os.getpid(), signal.SIGKILL)
        return SendResult.sent(f"kill-{sms.reference}")

    async def find_sent(self, sms, since):
        if sms.reference in sent_references():
            return SendResult.sent(f"kill-{sms.reference}")
        return None

@hookimpl
def hub_register_sms_senders(register):
    register(KilledAfterSending)
"""


def test_killed_between_the_providers_answer_and_the_commit(hub_dir, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    make_distribution(site, "hub-killed", "hub_killed", KILLED_AFTER_SENDING)
    sent_log, marker = tmp_path / "sent.log", tmp_path / "killed"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "KILL_MARKER": str(marker),
        "SENT_LOG": str(sent_log),
    }
    config = write_config(
        hub_dir,
        {"acme": business(sms_sender={"use": "killed"}, sinks=[{"use": "log"}])},
        worker={"lease": 2, "poll_interval": 0.1},
    )
    database = hub_dir / "hub.sqlite3"
    hub = HubProcess(config, env)
    hub.start()
    with contextlib.suppress(httpx.HTTPError):  # it may die before it answers: stored anyway
        hub.post_call("crash-3")
    hub.process.wait(timeout=20)  # the sender killed it once the text had gone
    assert marker.exists() and len(sent_log.read_text().splitlines()) == 1
    # The attempt is on disk, without an outcome.
    assert rows(database, "SELECT status, sent_at FROM hub_message") == [("sending", None)]

    hub.start()
    try:
        wait_until(
            lambda: (
                rows(database, "SELECT state FROM hub_job WHERE kind = 'text_back'")
                == [("completed",)]
            )
        )
    finally:
        hub.stop()
    [sent] = sent_log.read_text().splitlines()  # the provider was asked, and nothing resent
    reference, _ = sent.split()
    assert rows(database, "SELECT status, provider_message_id FROM hub_message") == [
        ("sent", f"kill-{reference}")
    ]
