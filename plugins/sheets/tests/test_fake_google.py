"""The fake Google is only worth testing against if it refuses what Google refuses."""

from __future__ import annotations

import time

import google.auth.exceptions
import google.auth.transport.requests
import httpx
import pytest
from google.auth import crypt, jwt
from google.oauth2 import service_account
from hub_sheets.testing import (
    GOOGLE_TOKEN_AUDIENCE,
    JWT_BEARER,
    SHEETS_SCOPE,
    make_service_account_key,
)


def refresh(key):
    credentials = service_account.Credentials.from_service_account_info(key, scopes=[SHEETS_SCOPE])
    credentials.refresh(google.auth.transport.requests.Request())
    return credentials


def assertion(key, **claims):
    now = int(time.time())
    payload = {
        "iss": key["client_email"],
        "aud": GOOGLE_TOKEN_AUDIENCE,
        "scope": SHEETS_SCOPE,
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    return jwt.encode(crypt.RSASigner.from_service_account_info(key), payload).decode()


def test_google_auth_gets_a_token_for_a_key_the_fake_made(fake_google):
    credentials = refresh(fake_google.service_account_key())
    assert credentials.valid and credentials.token.startswith("ya29.")
    (request,) = fake_google.token_requests
    assert request.form["grant_type"] == JWT_BEARER


def test_an_assertion_signed_by_another_key_is_an_invalid_grant(fake_google):
    trusted = fake_google.service_account_key()
    forged, _ = make_service_account_key(
        fake_google.token_uri, client_email=trusted["client_email"]
    )
    with pytest.raises(
        google.auth.exceptions.RefreshError, match="invalid_grant: Invalid JWT Signature"
    ):
        refresh(forged)


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"aud": "https://example.com/token"}, "Failed audience check"),
        ({"exp": int(time.time()) - 3600}, "short-lived token"),
        ({"scope": ""}, "invalid_scope"),
        ({"iss": "nobody@elsewhere.iam.gserviceaccount.com"}, "account not found"),
    ],
)
def test_the_token_endpoint_checks_the_claims(fake_google, claims, error):
    key = fake_google.service_account_key()
    answer = httpx.post(
        fake_google.token_uri,
        data={"grant_type": JWT_BEARER, "assertion": assertion(key, **claims)},
    )
    assert answer.status_code == 400 and error in answer.text


def test_values_need_a_valid_token_and_a_shared_sheet(fake_google):
    key = fake_google.service_account_key()
    fake_google.add_spreadsheet("sheet-1234567890")
    url = f"{fake_google.url}/v4/spreadsheets/sheet-1234567890/values/Leads!A1"
    unauthenticated = httpx.get(url, headers={"Authorization": "Bearer ya29.made-up"})
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["status"] == "UNAUTHENTICATED"
    token = fake_google.issue_token(key["client_email"])
    denied = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert denied.json()["error"] == {
        "code": 403,
        "message": "The caller does not have permission",
        "status": "PERMISSION_DENIED",
    }
    fake_google.spreadsheets["sheet-1234567890"].shared_with.add(key["client_email"])
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).json() == {
        "range": "Leads!A1",
        "majorDimension": "ROWS",
    }
