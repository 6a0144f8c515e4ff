"""Vonage's webhook signatures: the SMS API ``sig`` with each dashboard method (the test vectors
of protocols.md F.3) and the JWT of Voice and Messages webhooks."""

from __future__ import annotations

import hashlib

import pytest
from hub_vonage.signatures import (
    SignatureInvalid,
    SignatureMissing,
    make_jwt,
    signing_string,
    sms_signature,
    verify_jwt,
    verify_sms_signature,
)
from vonage import Auth

SECRET = "mySigSecret"
PARAMS = {
    "msisdn": "447700900001",
    "to": "447700900000",
    "messageId": "0A0000000123ABCD1",
    "text": "Hello & welcome = yes",
    "type": "text",
    "keyword": "HELLO",
    "message-timestamp": "2020-01-01 12:00:00",
    "timestamp": "1577880000",
    "nonce": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    "api-key": "abcd1234",
}
VECTORS = {
    "md5": "f55b9ce990988276290edcecd5025c24",
    "sha1": "b918b41c6d5e5fd60e46d549f532f6e2b2d56507",
    "sha256": "9ec2aeeb1a6736ca7afe8ff8bf86be2b40590546f878f16ff4d30cc8c6463424",
    "sha512": "e6e5f1a6e3805e3b8b07f28efcdd0591ef4008b70f9a37083712c48cd72d17f9"
    "d5de5a7ac71553b36f36655eb45ca24993163e792d2b00563e0efeb5c473b08d",
    "md5hash": "da821ff57b5968b8cdd1f72a6c16fdf6",
}
NOW = 1577880000 + 5
WINDOW = {"now": NOW, "max_age": 300, "skew": 60}


def test_signing_string_sorts_keys_and_masks_separators():
    assert signing_string({**PARAMS, "sig": "ignored"}) == (
        "&api-key=abcd1234&keyword=HELLO&message-timestamp=2020-01-01 12:00:00"
        "&messageId=0A0000000123ABCD1&msisdn=447700900001"
        "&nonce=aaaaaaaa-bbbb-cccc-dddd-0123456789ab&text=Hello _ welcome _ yes"
        "&timestamp=1577880000&to=447700900000&type=text"
    )


@pytest.mark.parametrize("method", list(VECTORS))
def test_each_dashboard_method_matches_the_known_vector(method):
    assert sms_signature(PARAMS, SECRET, method) == VECTORS[method]
    # Vonage's own examples show upper-case hex.
    verify_sms_signature({**PARAMS, "sig": VECTORS[method].upper()}, SECRET, method, **WINDOW)


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_hmac_methods_agree_with_the_sdk(method):
    sdk = Auth(api_key="abcd1234", signature_secret=SECRET, signature_method=method)
    assert sdk.sign_params(dict(PARAMS)) == VECTORS[method]


def test_the_sdk_cannot_check_md5hash_which_is_why_the_plugin_does():
    sdk = Auth(api_key="abcd1234", signature_secret=SECRET, signature_method="md5")
    assert sdk.check_signature({**PARAMS, "sig": VECTORS["md5hash"]}) is False
    verify_sms_signature({**PARAMS, "sig": VECTORS["md5hash"]}, SECRET, "md5hash", **WINDOW)


@pytest.mark.parametrize("method", list(VECTORS))
def test_a_signature_made_with_another_method_or_secret_is_refused(method):
    other = "sha256" if method != "sha256" else "sha1"
    with pytest.raises(SignatureInvalid):
        verify_sms_signature({**PARAMS, "sig": VECTORS[other]}, SECRET, method, **WINDOW)
    with pytest.raises(SignatureInvalid):
        sig = sms_signature(PARAMS, "anotherSecret", method)
        verify_sms_signature({**PARAMS, "sig": sig}, SECRET, method, **WINDOW)


def test_a_changed_parameter_breaks_the_signature():
    tampered = {**PARAMS, "text": "Hello & welcome = no", "sig": VECTORS["sha256"]}
    with pytest.raises(SignatureInvalid):
        verify_sms_signature(tampered, SECRET, "sha256", **WINDOW)


def test_unsigned_and_stale_sms_webhooks():
    with pytest.raises(SignatureMissing):
        verify_sms_signature(PARAMS, SECRET, "sha256", **WINDOW)
    signed = {**PARAMS, "sig": VECTORS["sha256"]}
    with pytest.raises(SignatureInvalid, match="older than"):
        verify_sms_signature(signed, SECRET, "sha256", now=NOW + 3600, max_age=300, skew=60)
    with pytest.raises(SignatureInvalid, match="future"):
        verify_sms_signature(signed, SECRET, "sha256", now=NOW - 600, max_age=300, skew=60)
    verify_sms_signature(signed, SECRET, "sha256", now=NOW - 50, max_age=300, skew=60)  # skew
    no_stamp = {k: v for k, v in PARAMS.items() if k != "timestamp"}
    with pytest.raises(SignatureInvalid, match="timestamp"):
        verify_sms_signature(
            {**no_stamp, "sig": sms_signature(no_stamp, SECRET, "sha256")},
            SECRET,
            "sha256",
            **WINDOW,
        )


# -- JWT ------------------------------------------------------------------------------------------

JWT_SECRET = "a-signature-secret-of-32-bytes-x"
BODY = b'{"status": "timeout", "uuid": "abc"}'


def bearer(body: bytes | None = BODY, **kwargs) -> str:
    kwargs.setdefault("iat", NOW)
    return "Bearer " + make_jwt(JWT_SECRET, body, **kwargs)


def check(authorization: str | None, body: bytes | None = BODY, **kwargs):
    options = {"now": NOW, "max_age": 300, "skew": 60, **kwargs}
    return verify_jwt(authorization, body, JWT_SECRET, **options)


def test_a_vonage_jwt_with_the_right_payload_hash_verifies():
    claims = check(bearer(api_key="abcd1234"), api_key="abcd1234")
    assert claims["payload_hash"] == hashlib.sha256(BODY).hexdigest()
    check("bearer " + make_jwt(JWT_SECRET, BODY, iat=NOW))  # the scheme is case-insensitive


def test_a_jwt_with_a_wrong_payload_hash_is_refused():
    with pytest.raises(SignatureInvalid, match="payload_hash"):
        check(bearer(), body=BODY.replace(b"timeout", b"answered"))
    with pytest.raises(SignatureInvalid, match="payload_hash"):
        check(bearer(payload_hash="0" * 64))


def test_get_webhooks_check_the_token_but_not_the_hash():
    check(bearer(body=None), body=None)
    check(bearer(payload_hash="0" * 64), body=None)


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (None, SignatureMissing),
        ("", SignatureMissing),
        ("Basic YWJjOmRlZg==", SignatureMissing),
        ("Bearer ", SignatureMissing),
        ("Bearer not.a.jwt", SignatureInvalid),
        ("Bearer " + make_jwt("some-other-secret-of-32-bytes-xx", BODY, iat=NOW), SignatureInvalid),
    ],
)
def test_missing_or_forged_tokens(authorization, error):
    with pytest.raises(error):
        check(authorization)


def test_jwt_times_tolerate_skew_but_not_replays():
    check(bearer(iat=NOW + 30))  # Vonage's clock a little ahead
    with pytest.raises(SignatureInvalid, match="future"):
        check(bearer(iat=NOW + 600))
    with pytest.raises(SignatureInvalid, match="older than"):
        check(bearer(iat=NOW - 3600))


def test_a_token_for_another_account_is_refused():
    with pytest.raises(SignatureInvalid, match="api_key"):
        check(bearer(api_key="zzzz9999"), api_key="abcd1234")
    with pytest.raises(SignatureInvalid, match="application_id"):
        check(bearer(application_id="app-2"), application_id="app-1")


def test_error_messages_never_contain_the_secret():
    for authorization in ("Bearer x.y.z", bearer(iat=NOW - 3600)):
        with pytest.raises(SignatureInvalid) as caught:
            check(authorization)
        assert JWT_SECRET not in str(caught.value)
