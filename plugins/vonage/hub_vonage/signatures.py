"""Vonage's two webhook signatures: ``sig`` on SMS API webhooks, a JWT on Voice and Messages ones.

**SMS API** (inbound texts, delivery receipts): the parameters, minus ``sig``, sorted by key,
each value with ``&`` and ``=`` replaced by ``_``, joined as ``&k1=v1&k2=v2`` (note the leading
``&``), then either ``hex(HMAC_alg(secret, string))`` for the ``md5``/``sha1``/``sha256``/
``sha512`` methods, or ``hex(md5(string + secret))`` for ``md5hash``, the dashboard's default
"MD5 hash". SDK 4.x only knows the HMAC ones (its ``signature_method='md5'`` *is* HMAC-MD5), so
this module computes all five itself.

**Voice and Messages API**: ``Authorization: Bearer <JWT>``, HS256 under the same signature
secret, with ``iat`` and a ``payload_hash`` claim (hex SHA-256 of the raw body).
``vonage_jwt.verify_signature`` neither takes the ``Bearer`` prefix nor checks the hash, and it
raises on clock skew, hence this wrapper over PyJWT.

Both checks take ``now`` from the caller (the hub's clock), so a test clock moves them too.
Failures raise ``SignatureMissing`` (→ 401) or ``SignatureInvalid`` (→ 403); neither message
contains a secret or a computed signature.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import jwt

SignatureMethod = Literal["md5hash", "md5", "sha1", "sha256", "sha512"]
METHODS: tuple[SignatureMethod, ...] = ("md5hash", "md5", "sha1", "sha256", "sha512")
_HMAC_DIGESTS = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}


class SignatureError(Exception):
    """A webhook's signature is missing or wrong; ``status`` is the HTTP answer."""

    status = 403


class SignatureMissing(SignatureError):
    status = 401


class SignatureInvalid(SignatureError):
    status = 403


# -- SMS API `sig` --------------------------------------------------------------------------------


def signing_string(params: Mapping[str, Any]) -> str:
    """The string Vonage signs: ``&key=value`` for each parameter but ``sig``, sorted by key."""
    parts = []
    for key in sorted(k for k in params if k != "sig"):
        value = param_text(params[key]).replace("&", "_").replace("=", "_")
        parts.append(f"&{key}={value}")
    return "".join(parts)


def param_text(value: Any) -> str:
    """A webhook value as the text Vonage signed (JSON webhooks may carry non-strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def sms_signature(params: Mapping[str, Any], secret: str, method: SignatureMethod) -> str:
    """The lower-case hex ``sig`` for ``params`` (which must already hold ``timestamp``)."""
    text = signing_string(params)
    if method == "md5hash":
        return hashlib.md5((text + secret).encode(), usedforsecurity=False).hexdigest()
    try:
        digest = _HMAC_DIGESTS[method]
    except KeyError:
        raise ValueError(f"unknown signature method {method!r}") from None
    return hmac.new(secret.encode(), text.encode(), digest).hexdigest()


def sign_sms_params(
    params: Mapping[str, Any], secret: str, method: SignatureMethod, *, timestamp: int
) -> dict[str, str]:
    """``params`` with ``timestamp`` and ``sig`` added, as Vonage sends a signed webhook."""
    signed = {key: param_text(value) for key, value in params.items() if key != "sig"}
    signed.setdefault("timestamp", str(timestamp))
    signed["sig"] = sms_signature(signed, secret, method)
    return signed


def verify_sms_signature(
    params: Mapping[str, Any],
    secret: str,
    method: SignatureMethod,
    *,
    now: float,
    max_age: float,
    skew: float,
) -> None:
    """Raise unless ``params`` carry a ``sig`` made with ``secret`` and a fresh ``timestamp``."""
    given = params.get("sig")
    if not given:
        raise SignatureMissing("the webhook has no `sig`: it is unsigned")
    expected = sms_signature(params, secret, method)
    # Vonage's examples show upper-case hex; compare case-insensitively, in constant time.
    if not hmac.compare_digest(param_text(given).lower().encode(), expected.encode()):
        raise SignatureInvalid("`sig` does not match the parameters (check signature_method)")
    try:
        stamp = float(param_text(params.get("timestamp")))
    except ValueError:
        raise SignatureInvalid("a signed webhook needs a numeric `timestamp`") from None
    _check_age(stamp, now=now, max_age=max_age, skew=skew, what="`timestamp`")


# -- Voice / Messages API JWT ---------------------------------------------------------------------


def verify_jwt(
    authorization: str | None,
    body: bytes | None,
    secret: str,
    *,
    now: float,
    max_age: float,
    skew: float,
    api_key: str | None = None,
    application_id: str | None = None,
) -> dict[str, Any]:
    """Check a ``Bearer`` JWT signed by Vonage and return its claims.

    ``body`` is the raw request body; pass ``None`` for GET webhooks, whose ``payload_hash`` is
    computed over a JSON rendering of the query that cannot be rebuilt reliably (so only the
    token itself is checked there). ``api_key`` / ``application_id``, when given, must match the
    claims of the same name where the token has them.
    """
    if not authorization:
        raise SignatureMissing("the webhook has no Authorization header: it is unsigned")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SignatureMissing("the Authorization header is not a Bearer token")
    try:
        # Times are checked below against the hub's clock, not PyJWT's.
        claims: dict[str, Any] = jwt.decode(
            token.strip(),
            secret,
            algorithms=["HS256"],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise SignatureInvalid(f"the JWT does not verify ({type(exc).__name__})") from None
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise SignatureInvalid("the JWT has no numeric `iat`")
    _check_age(float(iat), now=now, max_age=max_age, skew=skew, what="the JWT's `iat`")
    exp = claims.get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool) and now > exp + skew:
        raise SignatureInvalid("the JWT has expired")
    for claim, expected in (("api_key", api_key), ("application_id", application_id)):
        if expected and claims.get(claim) not in (None, expected):
            raise SignatureInvalid(f"the JWT is for another {claim}")
    payload_hash = claims.get("payload_hash")
    if body:
        # Whatever the body says is only as good as this hash: without it, a captured token
        # would sign any body.
        if payload_hash is None:
            raise SignatureInvalid("the JWT has no `payload_hash` for the body")
        actual = hashlib.sha256(body).hexdigest()
        if not hmac.compare_digest(str(payload_hash).lower().encode(), actual.encode()):
            raise SignatureInvalid("the JWT's `payload_hash` does not match the body")
    return claims


def make_jwt(
    secret: str,
    body: bytes | None = None,
    *,
    iat: float,
    api_key: str | None = None,
    application_id: str | None = None,
    payload_hash: str | None = None,
    jti: str | None = None,
) -> str:
    """A token shaped like the ones Vonage signs webhooks with (for tests and fakes): a fresh
    ``jti`` each time unless one is given, as Vonage does."""
    claims: dict[str, Any] = {"iat": int(iat), "jti": jti or str(uuid.uuid4()), "iss": "Vonage"}
    if api_key:
        claims["api_key"] = api_key
    if application_id:
        claims["application_id"] = application_id
    if payload_hash is not None:
        claims["payload_hash"] = payload_hash
    elif body is not None:
        claims["payload_hash"] = hashlib.sha256(body).hexdigest()
    return jwt.encode(claims, secret, algorithm="HS256")


# -- the hub's own URLs ---------------------------------------------------------------------------

#: The query parameter carrying ``url_signature``.
URL_SIGNATURE = "hub_sig"


def url_signature(secret: str, route: str, query: Mapping[str, str]) -> str:
    """HMAC-SHA256 of a route and its query, for the URLs the hub hands Vonage in an NCCO.

    Vonage's JWT covers a webhook's body, never its URL: call data the hub carries in its own
    URLs (the inbound call's uuid and numbers on the owner's leg) would otherwise be anyone's to
    choose, with any captured token."""
    items = sorted((key, value) for key, value in query.items() if key != URL_SIGNATURE)
    text = route + "?" + "&".join(f"{key}={value}" for key, value in items)
    return hmac.new(b"hub-url:" + secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def verify_url_signature(secret: str, route: str, query: Mapping[str, str]) -> None:
    given = query.get(URL_SIGNATURE)
    if not given:
        raise SignatureMissing(f"the URL has no `{URL_SIGNATURE}`: the hub did not make it")
    expected = url_signature(secret, route, query)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureInvalid("the URL's query is not the one the hub signed")


def _check_age(stamp: float, *, now: float, max_age: float, skew: float, what: str) -> None:
    if stamp > now + skew:
        raise SignatureInvalid(f"{what} is in the future (more than {skew:.0f}s of clock skew)")
    if stamp < now - max_age - skew:
        raise SignatureInvalid(f"{what} is older than {max_age:.0f}s: a replay or a stale retry")
