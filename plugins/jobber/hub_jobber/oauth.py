"""Connecting a business to Jobber (OAuth 2, authorization code), through the hub's routes:

1. ``hub jobber connect --business B`` prints ``/hooks/B/jobber/connect?ticket=...``: the
   ticket (an HMAC with the encryption key, valid a day) keeps strangers from connecting their
   own Jobber account to the business;
2. ``GET .../connect`` makes a ``state`` (random, single-use, bound to the business, valid ten
   minutes, kept in the plugin state) and redirects to Jobber's authorize URL;
3. Jobber sends the admin back to ``GET .../callback?code=...&state=...``: the state is taken
   (deleted: a second use finds nothing), the code exchanged for tokens, the account asked for
   its id, and the tokens sealed into the plugin state.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

import hub
from hub_jobber.api import JobberApi
from hub_jobber.config import JobberConfig
from hub_jobber.errors import JobberError, NotConnected
from hub_jobber.tokens import Connection

#: How long a printed connect link works.
TICKET_LIFETIME = 86400
#: How long the admin has on Jobber's authorize page.
STATE_LIFETIME = 600
ACCOUNT_QUERY = "query Account { account { id name } }"


class Connector:
    def __init__(
        self,
        context: hub.ProviderContext,
        config: JobberConfig,
        api: JobberApi,
        connection: Connection,
    ) -> None:
        self.context = context
        self.config = config
        self.api = api
        self.connection = connection

    @property
    def redirect_uri(self) -> str:
        return self.context.webhook_url("callback")

    # -- the link ---------------------------------------------------------------------------------

    def connect_url(self) -> str:
        """The link an owner opens to connect the business (what the CLI prints)."""
        expires = int(self.context.now().timestamp()) + TICKET_LIFETIME
        ticket = f"{expires}.{self._sign(expires)}"
        return f"{self.context.webhook_url('connect')}?{urlencode({'ticket': ticket})}"

    def _sign(self, expires: int) -> str:
        key = hashlib.sha256(
            b"hub-jobber connect\0" + self.config.encryption_key.get_secret_value().encode()
        ).digest()
        message = f"{self.context.business.slug}\0{expires}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def _ticket_ok(self, ticket: str) -> bool:
        expires_text, _, signature = ticket.partition(".")
        if not expires_text.isdigit() or len(expires_text) > 12:
            return False
        expires = int(expires_text)
        if expires < self.context.now().timestamp():
            return False
        return hmac.compare_digest(signature, self._sign(expires))

    # -- the routes -------------------------------------------------------------------------------

    async def connect(self, request: Request) -> Response:
        if not self._ticket_ok(request.query_params.get("ticket", "")[:100]):
            raise hub.Refused(
                403, "this connect link is wrong or expired: run `hub jobber connect` again"
            )
        state = secrets.token_urlsafe(24)
        expires_at = self.context.now().timestamp() + STATE_LIFETIME
        await self.context.state.set(f"oauth_state:{state}", {"expires_at": expires_at})
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": self.redirect_uri,
                "state": state,
            }
        )
        return RedirectResponse(self.config.url(f"/api/oauth/authorize?{query}"), 302)

    async def callback(self, request: Request) -> Response:
        state = request.query_params.get("state", "")
        code = request.query_params.get("code", "")
        if not state or len(state) > 100 or not state.replace("-", "").replace("_", "").isalnum():
            raise hub.Refused(400, "no valid state: start again with `hub jobber connect`")
        key = f"oauth_state:{state}"
        saved = await self.context.state.get(key)
        if not isinstance(saved, dict) or not await self.context.state.delete(key):
            raise hub.Refused(400, "this link was used already or is unknown: connect again")
        expires_at = saved.get("expires_at")
        if not isinstance(expires_at, int | float) or expires_at < self.context.now().timestamp():
            raise hub.Refused(400, "this connect attempt expired: start again")
        if not code or len(code) > 2000:
            raise hub.Refused(400, "Jobber did not grant access (no code): connect again")
        try:
            tokens = await self.api.exchange(code, self.redirect_uri)
            data = await self.api.graphql(tokens.access_token, "connect", ACCOUNT_QUERY, {})
        except NotConnected:
            raise hub.Refused(400, "Jobber refused the authorization code: connect again") from None
        except JobberError as error:
            raise hub.Refused(502, f"Jobber could not be reached: {error}") from None
        account = data.get("account") or {}
        account_id = account.get("id") if isinstance(account, dict) else None
        if not isinstance(account_id, str) or not account_id:
            raise hub.Refused(502, "Jobber did not say which account this is")
        await self.connection.store(tokens, account_id)
        name = account.get("name") if isinstance(account.get("name"), str) else account_id
        self.context.log.info("connected to Jobber account %s", account_id)
        return HTMLResponse(
            f"<!doctype html><title>Jobber connected</title><p>Jobber account "
            f"<b>{html.escape(str(name))}</b> is connected to "
            f"{html.escape(self.context.business.name)}. New leads go to Jobber as requests. "
            f"You can close this page.</p>"
        )
