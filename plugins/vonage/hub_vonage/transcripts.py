"""Voicemail transcripts from Vonage: where they may be fetched from, the fetch, the parse.

With ``transcribe``, the voicemail's NCCO ``record`` action carries ``transcription:
{eventUrl, language}``. Once Vonage has transcribed the recording it POSTs a JSON event there
(``conversation_uuid``, ``type: "transcription"``, ``recording_uuid``, ``status``,
``transcription_url``), signed with a JWT like every Voice API webhook. The transcript itself
is a file at ``transcription_url``, readable only with a JWT of the application that recorded
it::

    {"ver": "1.0.0", "request_id": "...",
     "channels": [{"transcript": [{"sentence": "...", "raw_sentence": "...", "duration": 2,
                                   "timestamp": 0, "words": [...]}], "duration": 9}]}

The webhook only queues a job (``TRANSCRIPT_JOB``): the fetch leaves the request path, and a
Vonage that is slow or down is retried with backoff (timeouts, connection errors, 429 and 5xx)
instead of holding Vonage's webhook open; a 4xx or a file that is not a transcript is dropped.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from hub import Discard, Retry

#: The job kind that fetches a transcript and hands it to the core.
TRANSCRIPT_JOB = "vonage_transcript"
#: Largest transcript file read: a few minutes of speech with per-word timings fit easily.
MAX_TRANSCRIPT_BYTES = 512 * 1024
#: Vonage's own API hosts (``api.nexmo.com``, ``api-us.nexmo.com``, ``api-eu-1.vonage.com``...).
_VONAGE_HOST = re.compile(r"^api(-[a-z0-9-]+)?\.(nexmo|vonage)\.com$")


def allowed_url(url: str, api_host: str) -> bool:
    """Whether ``url`` may be fetched with the application's JWT: an https URL on one of
    Vonage's API hosts, or on the configured ``api_host`` (a stand-in). Anything else would
    hand the application's credentials to whoever named the URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.username or parts.password or not parts.hostname:
        return False
    configured = api_host if "://" in api_host else f"https://{api_host}"
    if f"{parts.scheme}://{parts.netloc}".lower() == configured.lower():
        return True
    return (
        parts.scheme == "https"
        and port in (None, 443)
        and bool(_VONAGE_HOST.match(parts.hostname.lower()))
    )


def transcript_text(data: Any) -> str:
    """The words of a Vonage transcription file: every channel's sentences, in order."""
    if not isinstance(data, dict) or not isinstance(data.get("channels"), list):
        raise ValueError("not a Vonage transcription (no `channels`)")
    sentences: list[str] = []
    for channel in data["channels"]:
        items = channel.get("transcript") if isinstance(channel, dict) else None
        for item in items if isinstance(items, list) else []:
            sentence = item.get("sentence") if isinstance(item, dict) else None
            if isinstance(sentence, str) and sentence.strip():
                sentences.append(sentence.strip())
    return " ".join(sentences)


async def fetch_transcript(url: str, *, token: str, timeout: float) -> str:
    """GET the transcription file with the application's ``token`` and return its text.

    Raises ``Retry`` for what may pass (a timeout, a dropped connection, 429, 5xx) and
    ``Discard`` for what will not (any other 4xx, a file that is too large or not a
    transcript). Neither message holds the token."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 429 or response.status_code >= 500:
                raise Retry(f"Vonage answered {response.status_code} for the transcript")
            if response.status_code != 200:
                raise Discard(f"Vonage answered {response.status_code} for the transcript")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_TRANSCRIPT_BYTES:
                    raise Discard(f"the transcript is larger than {MAX_TRANSCRIPT_BYTES} bytes")
    except httpx.TimeoutException:
        raise Retry(f"Vonage did not send the transcript within {timeout:g}s") from None
    except httpx.TransportError as exc:
        raise Retry(f"cannot reach Vonage for the transcript ({type(exc).__name__})") from None
    try:
        return transcript_text(json.loads(bytes(body)))
    except ValueError as exc:
        raise Discard(f"the transcript file is unreadable: {exc}") from None
