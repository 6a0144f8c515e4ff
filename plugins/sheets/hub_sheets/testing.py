"""A fake Google for testing the sheets sink, or anything else that writes a sheet as a service
account, on top of the core's kit (``hub.testing``).

- ``FakeGoogle``: Google's OAuth token endpoint and the Sheets v4 values API on 127.0.0.1 (real
  HTTP, its own thread; a ``hub.testing.FakeProviderServer``, so ``script(...)`` plays outages
  first and ``requests`` keeps every request). The token endpoint verifies the RS256 JWT
  assertion against the public key of each key it made (``grant_type``, ``iss``, ``scope``,
  ``aud``, ``exp``) and answers ``invalid_grant`` as Google does. The values endpoints (append,
  update, get) check the bearer token and that the sheet is shared with the account, and answer
  Google's errors (``{"error": {"code", "message", "status"}}``: 401 UNAUTHENTICATED, 403
  PERMISSION_DENIED, 404 NOT_FOUND, 400 "Unable to parse range", 429 RESOURCE_EXHAUSTED over
  ``write_quota`` writes a minute). ``RAW`` keeps strings as given; ``USER_ENTERED`` parses
  them as the Sheets UI would (``=...`` a ``Formula``, ``+1512...`` a number).
- ``make_service_account_key(token_uri)``: a service-account JSON key (a fresh RSA key) and
  its private key; ``fake.service_account_key()`` makes one the fake trusts.
- ``sheets_sink(fake, directory, ...)``: the hub.yaml selection of the sink, pointed at the fake,
  its key written to a file in ``directory``.
- the ``fake_google`` fixture (``pytest_plugins = ["hub.testing", "hub_sheets.testing"]``).

Example::

    async def test_a_row_per_lead(hub_dir, fake_google):
        sinks = [sheets_sink(fake_google, hub_dir)]
        async with in_process_hub(write_config(hub_dir, {"acme": business(sinks=sinks)})) as kit:
            await kit.post_call(id="call-1")
            await kit.run_due_jobs()
        assert len(fake_google.rows()) == 2  # the header and the lead
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.testing import FakeProviderServer, RecordedRequest

#: Google's own token URL: every assertion names it as its audience, wherever it is sent.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
DEFAULT_SPREADSHEET = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
#: Seconds of clock difference the token endpoint forgives, as Google does.
CLOCK_SKEW = 300

Value = str | int | float | bool


@dataclass(frozen=True)
class Formula:
    """A cell Google would compute: what ``USER_ENTERED`` makes of ``=...``."""

    text: str


Cell = Value | Formula


@dataclass
class FakeSpreadsheet:
    id: str
    #: Tab name → rows of cells (row 1 first); a missing cell is ``""``.
    tabs: dict[str, list[list[Cell]]]
    #: The service accounts (client_email) it is shared with.
    shared_with: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class IssuedToken:
    email: str
    scope: str
    expires_at: float


def make_service_account_key(
    token_uri: str,
    *,
    client_email: str | None = None,
    project_id: str = "hub-test",
) -> tuple[dict[str, str], rsa.RSAPrivateKey]:
    """A service-account JSON key in Google's layout, with a fresh 2048-bit RSA key, whose
    token requests go to ``token_uri``; and its private key."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    name = f"hub-sheets-{secrets.token_hex(4)}"
    email = client_email or f"{name}@{project_id}.iam.gserviceaccount.com"
    key = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**21)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
        "universe_domain": "googleapis.com",
    }
    return key, private_key


def google_error(code: int, message: str, status: str) -> JSONResponse:
    """An error in the shape every Google API answers with."""
    return JSONResponse(
        {"error": {"code": code, "message": message, "status": status}}, status_code=code
    )


def oauth_error(error: str, description: str, code: int = 400) -> JSONResponse:
    """An error in the shape Google's token endpoint answers with."""
    return JSONResponse({"error": error, "error_description": description}, status_code=code)


class FakeGoogle(FakeProviderServer):
    """Google's token endpoint and the Sheets values API on 127.0.0.1.

    ``write_quota``: writes a minute per account before 429 (``None``: no limit);
    ``expires_in``: the lifetime of the tokens it issues, in seconds.
    """

    def __init__(self, *, write_quota: int | None = None, expires_in: int = 3599) -> None:
        super().__init__()
        self.write_quota = write_quota
        self.expires_in = expires_in
        self.token_uri = f"{self.url}/token"
        self.spreadsheets: dict[str, FakeSpreadsheet] = {}
        #: client_email → the public key its assertions must verify against.
        self.accounts: dict[str, rsa.RSAPublicKey] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self._writes: dict[str, list[float]] = {}
        self._state = threading.Lock()

    # -- setting up -------------------------------------------------------------------------------

    def service_account_key(self, *, client_email: str | None = None) -> dict[str, str]:
        """A key the fake trusts (token requests to this fake)."""
        key, private_key = make_service_account_key(self.token_uri, client_email=client_email)
        self.accounts[key["client_email"]] = private_key.public_key()
        return key

    def issue_token(self, client_email: str, scope: str = SHEETS_SCOPE) -> str:
        """An access token for ``client_email``, as the token endpoint would issue it: for
        talking to the fake directly."""
        token = f"ya29.fake-{secrets.token_urlsafe(24)}"
        self.tokens[token] = IssuedToken(client_email, scope, time.time() + self.expires_in)
        return token

    def revoke(self, client_email: str) -> None:
        """Delete the account's key, as its owner would in Google Cloud: ``invalid_grant``."""
        self.accounts.pop(client_email, None)

    def add_spreadsheet(
        self,
        spreadsheet_id: str = DEFAULT_SPREADSHEET,
        *,
        tabs: tuple[str, ...] = ("Leads",),
        shared_with: tuple[str, ...] = (),
    ) -> FakeSpreadsheet:
        sheet = FakeSpreadsheet(spreadsheet_id, {tab: [] for tab in tabs}, set(shared_with))
        self.spreadsheets[spreadsheet_id] = sheet
        return sheet

    # -- reading what was written -----------------------------------------------------------------

    def rows(
        self, tab: str = "Leads", spreadsheet_id: str = DEFAULT_SPREADSHEET
    ) -> list[list[Cell]]:
        """The tab's rows, trailing empty ones left out, each as written (a ``Formula``
        where Google would compute one)."""
        rows = [list(row) for row in self.spreadsheets[spreadsheet_id].tabs[tab]]
        while rows and not any(cell != "" for cell in rows[-1]):
            rows.pop()
        return rows

    def rows_for_lead(self, lead_id: int, column: int, tab: str = "Leads") -> list[list[Cell]]:
        """The rows whose ``column`` (0-based) holds ``lead_id``."""
        return [
            row for row in self.rows(tab) if len(row) > column and str(row[column]) == str(lead_id)
        ]

    @property
    def token_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/token"]

    @property
    def writes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method in ("POST", "PUT") and r.path != "/token"]

    # -- the wire ---------------------------------------------------------------------------------

    async def handle(self, request: Request, recorded: RecordedRequest) -> Response:
        if recorded.path == "/token" and recorded.method == "POST":
            return self._token(recorded)
        match = re.fullmatch(r"/v4/spreadsheets/([^/]+)/values/(.+)", recorded.path)
        if match is None:
            return google_error(404, "Method not found.", "NOT_FOUND")
        with self._state:
            return self._values(recorded, match.group(1), match.group(2))

    def _token(self, recorded: RecordedRequest) -> Response:
        form = recorded.form
        if form.get("grant_type") != JWT_BEARER:
            return oauth_error(
                "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}"
            )
        try:
            header, claims, signed, signature = _decode_jwt(form.get("assertion", ""))
        except ValueError:
            return oauth_error("invalid_request", "Invalid JWT: malformed assertion")
        public_key = self.accounts.get(str(claims.get("iss", "")))
        if header.get("alg") != "RS256" or public_key is None:
            return oauth_error("invalid_grant", "Invalid grant: account not found")
        try:
            public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return oauth_error("invalid_grant", "Invalid JWT Signature.")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if (
            not isinstance(iat, int)
            or not isinstance(exp, int)
            or exp <= now - CLOCK_SKEW
            or iat > now + CLOCK_SKEW
            or exp - iat > 3600
        ):
            return oauth_error(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            return oauth_error("invalid_grant", "Invalid JWT: Failed audience check.")
        scope = str(claims.get("scope", ""))
        if not scope:
            return oauth_error(
                "invalid_scope", "Invalid OAuth scope or ID token audience provided."
            )
        token = self.issue_token(str(claims["iss"]), scope)
        return JSONResponse(
            {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}
        )

    def _values(self, recorded: RecordedRequest, spreadsheet_id: str, tail: str) -> Response:
        issued = self.tokens.get(recorded.headers.get("authorization", "").removeprefix("Bearer "))
        if issued is None or issued.expires_at <= time.time():
            return google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
                "UNAUTHENTICATED",
            )
        if SHEETS_SCOPE not in issued.scope.split():
            return google_error(
                403, "Request had insufficient authentication scopes.", "PERMISSION_DENIED"
            )
        spreadsheet = self.spreadsheets.get(spreadsheet_id)
        if spreadsheet is None:
            return google_error(404, "Requested entity was not found.", "NOT_FOUND")
        if issued.email not in spreadsheet.shared_with:
            return google_error(403, "The caller does not have permission", "PERMISSION_DENIED")
        appending = tail.endswith(":append")
        a1 = tail.removesuffix(":append")
        try:
            target = _parse_range(a1, spreadsheet)
        except ValueError:
            return google_error(400, f"Unable to parse range: {a1}", "INVALID_ARGUMENT")
        if recorded.method == "GET":
            return self._get(recorded, spreadsheet, a1, target)
        option = recorded.query.get("valueInputOption")
        if option not in ("RAW", "USER_ENTERED"):
            return google_error(
                400,
                "'valueInputOption' is required but not specified"
                if option is None
                else f"Invalid valueInputOption: {option}",
                "INVALID_ARGUMENT",
            )
        if self._over_quota(issued.email):
            return google_error(
                429,
                "Quota exceeded for quota metric 'Write requests' and limit 'Write requests "
                "per minute per user' of service 'sheets.googleapis.com'.",
                "RESOURCE_EXHAUSTED",
            )
        body = recorded.json
        values = [[_entered(cell, option) for cell in row] for row in body.get("values", [])]
        if appending and recorded.method == "POST":
            return self._append(spreadsheet, target, values)
        if recorded.method == "PUT" and not appending:
            return self._update(spreadsheet, target, values)
        return google_error(404, "Method not found.", "NOT_FOUND")

    def _over_quota(self, email: str) -> bool:
        now = time.monotonic()
        recent = [at for at in self._writes.get(email, []) if now - at < 60]
        self._writes[email] = recent
        if self.write_quota is not None and len(recent) >= self.write_quota:
            return True
        recent.append(now)
        return False

    def _append(
        self, spreadsheet: FakeSpreadsheet, target: _Range, values: list[list[Cell]]
    ) -> Response:
        rows = spreadsheet.tabs[target.tab]
        used = len(self._trimmed(rows))
        # INSERT_ROWS after the table: the rows go right below its last non-empty row.
        del rows[used:]
        start = used + 1
        width = max((len(row) for row in values), default=0)
        rows.extend(list(row) for row in values)
        answer: dict[str, Any] = {
            "spreadsheetId": spreadsheet.id,
            "updates": {
                "spreadsheetId": spreadsheet.id,
                "updatedRange": _a1(target.tab, start, start + len(values) - 1, width),
                "updatedRows": len(values),
                "updatedColumns": width,
                "updatedCells": sum(len(row) for row in values),
            },
        }
        if used:
            answer["tableRange"] = _a1(target.tab, 1, used, max(len(r) for r in rows[:used]))
        return JSONResponse(answer)

    def _update(
        self, spreadsheet: FakeSpreadsheet, target: _Range, values: list[list[Cell]]
    ) -> Response:
        rows = spreadsheet.tabs[target.tab]
        first_row, first_col = target.first_row or 1, target.first_col or 0
        for offset, row in enumerate(values):
            index = first_row - 1 + offset
            while len(rows) <= index:
                rows.append([])
            cells = rows[index]
            while len(cells) < first_col + len(row):
                cells.append("")
            cells[first_col : first_col + len(row)] = row
        width = max((len(row) for row in values), default=0)
        return JSONResponse(
            {
                "spreadsheetId": spreadsheet.id,
                "updatedRange": _a1(
                    target.tab, first_row, first_row + len(values) - 1, width, first_col
                ),
                "updatedRows": len(values),
                "updatedColumns": width,
                "updatedCells": sum(len(row) for row in values),
            }
        )

    def _get(
        self, recorded: RecordedRequest, spreadsheet: FakeSpreadsheet, a1: str, target: _Range
    ) -> Response:
        render = recorded.query.get("valueRenderOption", "FORMATTED_VALUE")
        rows = self._trimmed(spreadsheet.tabs[target.tab])
        top = (target.first_row or 1) - 1
        bottom = target.last_row if target.last_row is not None else len(rows)
        left = target.first_col or 0
        right = target.last_col + 1 if target.last_col is not None else None
        picked = [[_rendered(cell, render) for cell in row[left:right]] for row in rows[top:bottom]]
        while picked and not any(cell != "" for cell in picked[-1]):
            picked.pop()
        picked = [_trim_cells(row) for row in picked]
        answer: dict[str, Any] = {"range": a1, "majorDimension": "ROWS"}
        if picked:
            answer["values"] = picked
        return JSONResponse(answer)

    @staticmethod
    def _trimmed(rows: list[list[Cell]]) -> list[list[Cell]]:
        used = len(rows)
        while used and not any(cell != "" for cell in rows[used - 1]):
            used -= 1
        return rows[:used]


@dataclass(frozen=True)
class _Range:
    tab: str
    first_col: int | None
    first_row: int | None
    last_col: int | None
    last_row: int | None


_CELL = re.compile(r"([A-Z]*)(\d*)")


def _parse_range(a1: str, spreadsheet: FakeSpreadsheet) -> _Range:
    """``Tab!A1:L7``, ``'My Tab'!L:L``, ``Tab!1:1`` or ``Tab``; ``ValueError`` if the tab is
    unknown or the cells are not A1 notation."""
    name, bang, cells = a1.rpartition("!")
    if not bang:
        name, cells = a1, ""
    if name.startswith("'") and name.endswith("'") and len(name) >= 2:
        name = name[1:-1].replace("''", "'")
    elif "'" in name or " " in name:
        raise ValueError(a1)
    if name not in spreadsheet.tabs:
        raise ValueError(a1)
    if not cells:
        return _Range(name, None, None, None, None)
    start, colon, end = cells.partition(":")
    if not start or (colon and not end):
        raise ValueError(a1)
    first, last = _CELL.fullmatch(start), _CELL.fullmatch(end or start)
    if first is None or last is None:
        raise ValueError(a1)
    return _Range(
        name,
        _column_index(first.group(1)),
        int(first.group(2)) if first.group(2) else None,
        _column_index(last.group(1)),
        int(last.group(2)) if last.group(2) else None,
    )


def _column_index(letters: str) -> int | None:
    if not letters:
        return None
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _a1(tab: str, first_row: int, last_row: int, width: int, first_col: int = 0) -> str:
    quoted = tab if re.fullmatch(r"[A-Za-z0-9_]+", tab) else "'" + tab.replace("'", "''") + "'"
    last_col = first_col + max(width, 1) - 1
    return f"{quoted}!{_letters(first_col)}{first_row}:{_letters(last_col)}{last_row}"


def _entered(cell: Any, option: str) -> Cell:
    """A cell as Google stores what was sent: RAW as given, USER_ENTERED parsed as typed."""
    if cell is None:
        return ""
    if option == "RAW" or not isinstance(cell, str):
        return cell if isinstance(cell, str | int | float | bool) else json.dumps(cell)
    if cell.startswith("="):
        return Formula(cell)
    if cell.upper() in ("TRUE", "FALSE"):
        return cell.upper() == "TRUE"
    try:
        number = float(cell.replace(",", ""))
    except ValueError:
        return cell
    return int(number) if number.is_integer() else number


def _rendered(cell: Cell, render: str) -> Any:
    if isinstance(cell, Formula):
        return cell.text if render == "FORMULA" else "#NAME?"
    if render in ("UNFORMATTED_VALUE", "FORMULA"):
        return cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _trim_cells(row: list[Any]) -> list[Any]:
    while row and row[-1] == "":
        row = row[:-1]
    return row


def _decode_jwt(assertion: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    parts = assertion.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    header, claims = json.loads(decode(parts[0])), json.loads(decode(parts[1]))
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("not a JWT")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), decode(parts[2])


# -- hub.yaml -------------------------------------------------------------------------------------


def sheets_sink(
    fake: FakeGoogle,
    directory: Path,
    *,
    key: dict[str, str] | None = None,
    share: bool = True,
    **settings: Any,
) -> dict[str, Any]:
    """A ``use: sheets`` selection pointed at ``fake``: a key it trusts (or ``key``) written
    to ``directory/google-key.json``, given as ``{$file: ...}``; the default spreadsheet made
    (with a ``Leads`` tab) and, if ``share``, shared with the key's account."""
    key = key or fake.service_account_key()
    path = directory / f"google-key-{key['client_email'].split('@')[0]}.json"
    path.write_text(json.dumps(key), encoding="utf-8")
    spreadsheet_id = settings.get("spreadsheet_id", DEFAULT_SPREADSHEET)
    if spreadsheet_id not in fake.spreadsheets and spreadsheet_id == DEFAULT_SPREADSHEET:
        fake.add_spreadsheet(spreadsheet_id)
    if share and spreadsheet_id in fake.spreadsheets:
        fake.spreadsheets[spreadsheet_id].shared_with.add(key["client_email"])
    return {
        "use": "sheets",
        "spreadsheet_id": spreadsheet_id,
        "credentials": {"$file": str(path)},
        "api_base_url": fake.url,
        **settings,
    }


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    """A ``FakeGoogle`` on 127.0.0.1 for the test, with no write quota."""
    fake = FakeGoogle()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
