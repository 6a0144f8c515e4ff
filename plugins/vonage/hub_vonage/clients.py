"""Vonage SDK clients, built around the SDK's traps (protocols.md §0, G).

- **Header leak** (Vonage/vonage-python-sdk#323): an ``HttpClient`` keeps one mutable header
  dict for all requests, so after a JSON call (Messages, Voice) its later form-encoded SMS API
  calls go out labelled ``Content-Type: application/json``. Each API family here gets clients of
  its own, never shared.
- **Threads**: the same dict makes one client unsafe to use from two threads at once. Sends run
  in worker threads (``asyncio.to_thread``), so each family has a small pool: a thread borrows
  a client, uses it alone, and gives it back. The pool grows to the number of concurrent sends.
- **Always https**: the SDK builds ``https://{host}{path}``. A host configured as
  ``http://host:port`` (a local stand-in, a test fake) gets a transport adapter that downgrades
  that one origin. The SDK offers no public way to do that: ``HttpClient.__init__`` makes its
  own ``requests.Session`` and mounts its own adapter on ``https://``, ``HttpClientOptions`` has
  only hosts, timeout, pool sizes and retries (no scheme, session or adapter), and
  ``make_request`` hard-codes ``https://``. So the adapter is mounted on the client's private
  ``_session``, reached in one place only (``_session_of``), which is why
  ``vonage-http-client`` is pinned; ``tests/test_clients.py`` covers it.

- **Signed requests** (``sign_requests``): the SDK signs fields it never sends and has no
  "MD5 hash"; ``_SigningAuth`` signs what goes out, with every method.
- **Retries**: ``pool_maxsize=1`` also turns off the SDK's own loop that silently re-sends a
  request up to ``pool_maxsize`` times after ``RemoteDisconnected``; a dropped connection
  becomes a visible "retry" for the hub's job queue, which backs off and keeps count.

The SDK logs request headers and parameters at DEBUG, Basic credentials included; a filter on
the ``vonage`` logger masks them.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

from requests import PreparedRequest, Response, Session
from requests.adapters import HTTPAdapter
from urllib3 import Retry
from vonage import Auth, HttpClientOptions, Vonage

from hub_vonage.config import VonageSenderConfig, split_origin
from hub_vonage.signatures import SignatureMethod, sms_signature

Family = Literal["sms", "messages"]


class _PlainHttpAdapter(HTTPAdapter):
    """Sends ``https://host/...`` requests for one configured origin as ``http://``."""

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        if request.url and request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://") :]
        return super().send(request, *args, **kwargs)


class _SigningAuth(Auth):
    """``Auth`` that signs SMS API requests correctly, with every dashboard method.

    The SDK's own ``sign_params`` signs the request model's ``None`` fields as the text
    ``"None"`` (``&callback=None&ttl=None...``) while ``requests`` leaves them out of the form,
    so Vonage computes a different signature; and it has no "MD5 hash". This drops the ``None``
    fields from the very dict that is then sent, and signs exactly the text that goes out.
    """

    def __init__(
        self, *, api_key: str | None, signature_secret: str, method: SignatureMethod
    ) -> None:
        super().__init__(api_key=api_key, signature_secret=signature_secret)
        self._secret_text = signature_secret
        self._method = method

    def sign_params(self, params: dict[str, Any]) -> str:
        for key in [key for key, value in params.items() if value is None]:
            del params[key]
        if not params.get("timestamp"):
            params["timestamp"] = int(time.time())
        sent = {key: str(value) for key, value in params.items()}  # as requests encodes them
        return sms_signature(sent, self._secret_text, self._method)


def build_client(config: VonageSenderConfig, family: Family) -> Vonage:
    """A ``Vonage`` client for one API family, pointed at the configured hosts."""
    api_host, api_plain = split_origin(config.api_host)
    rest_host, rest_plain = split_origin(config.rest_host)
    auth = _auth(config, family)
    options = HttpClientOptions(
        api_host=api_host,
        rest_host=rest_host,
        timeout=config.timeout,
        # One request at a time per client (see the pool). Connection errors are retried once
        # by urllib3; anything else is the hub's job queue's to retry.
        pool_connections=1,
        pool_maxsize=1,
        max_retries=1,
    )
    client = Vonage(auth, options)
    session = _session_of(client)
    for host, plain in ((api_host, api_plain), (rest_host, rest_plain)):
        if plain:
            adapter = _PlainHttpAdapter(
                pool_connections=1, pool_maxsize=1, max_retries=Retry(total=1, backoff_factor=0.1)
            )
            session.mount(f"https://{host}", adapter)
    return client


def _session_of(client: Vonage) -> Session:
    """The ``requests`` session under ``client``: the SDK's private attribute (see above)."""
    session = client.http_client._session
    assert isinstance(session, Session)
    return session


def _auth(config: VonageSenderConfig, family: Family) -> Auth:
    secret = config.api_secret.get_secret_value() if config.api_secret else None
    if family == "messages":
        if config.application_id and config.private_key:
            return Auth(
                application_id=config.application_id,
                private_key=config.private_key.get_secret_value(),
            )
        return Auth(api_key=config.api_key, api_secret=secret)
    if config.sign_requests and config.signature_secret is not None:
        return _SigningAuth(
            api_key=config.api_key,
            signature_secret=config.signature_secret.get_secret_value(),
            method=config.signature_method,
        )
    return Auth(api_key=config.api_key, api_secret=secret)


class ClientPool:
    """Clients of one API family, each used by one thread at a time."""

    def __init__(self, factory: Callable[[], Vonage]) -> None:
        self._factory = factory
        self._idle: list[Vonage] = []
        self._all: list[Vonage] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def client(self) -> Iterator[Vonage]:
        with self._lock:
            client = self._idle.pop() if self._idle else None
        if client is None:
            client = self._factory()
            with self._lock:
                self._all.append(client)
        try:
            yield client
        finally:
            with self._lock:
                self._idle.append(client)

    @property
    def size(self) -> int:
        return len(self._all)

    def close(self) -> None:
        with self._lock:
            clients, self._all, self._idle = self._all, [], []
        for client in clients:
            _session_of(client).close()


class Clients:
    """One pool per API family for one sender's settings."""

    def __init__(self, config: VonageSenderConfig) -> None:
        self.sms = ClientPool(lambda: build_client(config, "sms"))
        self.messages = ClientPool(lambda: build_client(config, "messages"))

    def close(self) -> None:
        self.sms.close()
        self.messages.close()


# -- keeping credentials out of the SDK's debug log -----------------------------------------------

_SECRET_PATTERNS = [
    re.compile(r"('Authorization': )(b?'[^']*'|b?\"[^\"]*\")"),
    re.compile(r"('(?:api_secret|sig|private_key)': )('[^']*')"),
]


class _RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for pattern in _SECRET_PATTERNS:
            redacted = pattern.sub(r"\1'***'", redacted)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_sdk_logs() -> None:
    logger = logging.getLogger("vonage")
    if not any(isinstance(f, _RedactFilter) for f in logger.filters):
        logger.addFilter(_RedactFilter())
