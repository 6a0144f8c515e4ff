"""The business's Jobber connection: its tokens, sealed in the plugin state, renewed before they
expire, with refresh-token rotation.

State key ``connection`` holds ``{"sealed", "expires_at", "account", "id"}`` (``sealed``: the
access and refresh tokens, encrypted; ``account``: the Jobber account's id, which is no secret;
``id``: this connection, new at each connect), plus ``"refreshing": <unix time>`` while one
delivery renews it and ``"broken": true`` once Jobber refused the refresh token.

With rotation, a refresh token works once: two deliveries (in two processes) that both renew
with it would leave one of them holding a refused token, and if it stored that, the connection
would be lost. So a renewal first takes a lease on the record (``compare_and_set``), stores the
new pair in the same way, and a delivery that finds a lease meanwhile uses the access token it
has, which is still good (renewal starts ``refresh_before`` seconds before expiry).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import hub
from hub_jobber.api import JobberApi, Tokens
from hub_jobber.config import JobberConfig
from hub_jobber.errors import JobberError, NotConnected
from hub_jobber.vault import Vault

KEY = "connection"
#: A lease older than this was left by a renewal that died: another may take over.
LEASE = 30.0


class Connection:
    def __init__(
        self, context: hub.ProviderContext, config: JobberConfig, api: JobberApi, vault: Vault
    ) -> None:
        self.context = context
        self.config = config
        self.api = api
        self.vault = vault
        self._lock = asyncio.Lock()

    @property
    def reconnect_advice(self) -> str:
        slug = self.context.business.slug
        return (
            f"connect Jobber again: run `hub jobber connect --business {slug}` and open the "
            "link it prints as a Jobber admin"
        )

    async def store(self, tokens: Tokens, account: str) -> None:
        """Keep the tokens of a new connection (replacing any earlier one)."""
        await self.context.state.set(
            KEY,
            {
                "sealed": self.vault.seal(
                    {"access": tokens.access_token, "refresh": tokens.refresh_token}
                ),
                "expires_at": self._now() + tokens.lifetime,
                "account": account,
                "id": secrets.token_hex(8),
            },
        )

    async def record(self) -> dict[str, Any] | None:
        value = await self.context.state.get(KEY)
        return value if isinstance(value, dict) else None

    async def access(self) -> tuple[str, str]:
        """A usable access token and the account id; renews the token when it is due.
        ``NotConnected`` when the owner must connect (again)."""
        while True:
            record = await self._usable()
            access = self._open(record)["access"]
            remaining = float(record["expires_at"]) - self._now()
            if remaining > self.config.refresh_before:
                return access, str(record["account"])
            leased = record.get("refreshing")
            if isinstance(leased, int | float) and self._now() - leased < LEASE:
                if remaining > 0:  # another delivery is renewing it; this one is still good
                    return access, str(record["account"])
                raise JobberError.retry("the Jobber token is being renewed", retry_after=5)
            renewed = await self._renew(record)
            if renewed is not None:
                return renewed

    async def renew_after_401(self, used: str) -> tuple[str, str]:
        """Jobber refused ``used`` early (revoked, or its clock ahead of ours): renew it,
        unless another delivery already did."""
        while True:
            record = await self._usable()
            if self._open(record)["access"] != used:
                return self._open(record)["access"], str(record["account"])
            leased = record.get("refreshing")
            if isinstance(leased, int | float) and self._now() - leased < LEASE:
                raise JobberError.retry("the Jobber token is being renewed", retry_after=5)
            renewed = await self._renew(record)
            if renewed is not None:
                return renewed

    async def _renew(self, record: dict[str, Any]) -> tuple[str, str] | None:
        """Renew under a lease; ``None`` if the record changed meanwhile (read it again)."""
        async with self._lock:
            state = self.context.state
            lease = {**record, "refreshing": self._now()}
            if not await state.compare_and_set(KEY, record, lease):
                return None
            try:
                tokens = await self.api.refresh(self._open(record)["refresh"])
            except NotConnected:
                await state.compare_and_set(KEY, lease, {**record, "broken": True})
                raise NotConnected(
                    f"Jobber refused to renew its access: {self.reconnect_advice}"
                ) from None
            except BaseException:
                await state.compare_and_set(KEY, lease, record)  # give the lease back
                raise
            renewed = {
                **record,
                "sealed": self.vault.seal(
                    {"access": tokens.access_token, "refresh": tokens.refresh_token}
                ),
                "expires_at": self._now() + tokens.lifetime,
            }
            renewed.pop("refreshing", None)
            if not await state.compare_and_set(KEY, lease, renewed):
                # Only a reconnect replaces a leased record: that one wins.
                return None
            return tokens.access_token, str(record["account"])

    async def _usable(self) -> dict[str, Any]:
        record = await self.record()
        if record is None or not isinstance(record.get("sealed"), str):
            raise NotConnected(f"Jobber is not connected yet: {self.reconnect_advice}")
        if record.get("broken"):
            raise NotConnected(f"Jobber is disconnected: {self.reconnect_advice}")
        if self.vault.open(record["sealed"]) is None:
            raise NotConnected(
                f"the Jobber tokens were sealed with another encryption_key: "
                f"{self.reconnect_advice}"
            )
        return record

    def _open(self, record: dict[str, Any]) -> dict[str, str]:
        opened = self.vault.open(str(record["sealed"]))
        if opened is None:
            raise NotConnected(f"the Jobber tokens cannot be read: {self.reconnect_advice}")
        return {"access": str(opened["access"]), "refresh": str(opened["refresh"])}

    async def disconnect(self) -> None:
        """Jobber said the app was disconnected (``APP_DISCONNECT``)."""
        while True:
            record = await self.record()
            if record is None or record.get("broken"):
                return
            if await self.context.state.compare_and_set(KEY, record, {**record, "broken": True}):
                return

    def _now(self) -> float:
        return self.context.now().timestamp()

    def __repr__(self) -> str:
        return f"<Connection for {self.context.business.slug!r}>"
