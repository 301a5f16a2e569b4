"""Who may call the live interface: provider signatures and the send log's bearer tokens.

Every comparison of a secret is constant-time (`hmac.compare_digest`).
"""
import base64
import hashlib
import hmac
from collections.abc import Mapping

from sqlalchemy.engine import Engine
from starlette.requests import Request

from data_access.accounts import list_tokens, token_scope
from data_access.scope import Scope
from server.settings import Secrets

META_SIGNATURE_HEADER = "x-hub-signature-256"
# The legacy Sinch WhatsApp API signs callbacks when a callback secret is configured on its side:
# HMAC (algorithm header, HMAC_SHA_256) of "<raw body>.<nonce>" with that secret.
SINCH_SIGNATURE_HEADER = "sinch-whatsapp-callback-signature"
SINCH_ALGORITHM_HEADER = "sinch-whatsapp-callback-signature-algorithm"
SINCH_NONCE_HEADER = "sinch-whatsapp-callback-signature-nonce"
SINCH_ALGORITHM = "HMAC_SHA_256"


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def meta_signature_ok(signature: str | None, body: bytes, app_secret: str) -> bool:
    """`signature`, the `X-Hub-Signature-256` header, is `sha256=<hex HMAC-SHA256 of the raw body
    with the app secret>`."""
    expected = "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return same(signature or "", expected)


def sinch_legacy_signed(headers: Mapping[str, str]) -> bool:
    return SINCH_SIGNATURE_HEADER in headers


def sinch_legacy_signature_ok(headers: Mapping[str, str], body: bytes, callback_secret: str) -> bool:
    """The legacy signature headers (`headers`: the request's, by lower-case name): the algorithm is
    HMAC_SHA_256, and the signature (base64, or hex) is the HMAC of `body + "." + nonce` with the
    callback secret."""
    algorithm = headers.get(SINCH_ALGORITHM_HEADER, SINCH_ALGORITHM)
    nonce = headers.get(SINCH_NONCE_HEADER)
    given = headers.get(SINCH_SIGNATURE_HEADER, "")
    if algorithm.upper() != SINCH_ALGORITHM or nonce is None:
        return False
    digest = hmac.new(callback_secret.encode("utf-8"), body + b"." + nonce.encode("utf-8"), hashlib.sha256).digest()
    return same(given, base64.b64encode(digest).decode("ascii")) or same(given.lower(), digest.hex())


def bearer_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_token_scope(request: Request, secrets: Secrets, engine: Engine) -> Scope | None:
    """What the caller of an API route may load: every subaccount with `INGEST_TOKEN` (SPEC 8), the
    token's scope with a named API token of SPEC 9 (revoked ones count as unknown); None when the
    token is missing or wrong. Queries the database: run it off the event loop."""
    token = bearer_token(request)
    if token is None:
        return None
    if secrets.ingest_token is not None and same(token, secrets.ingest_token):
        return Scope.ALL
    return token_scope(engine, token)


def api_enabled(secrets: Secrets, engine: Engine) -> bool:
    """Whether the API routes answer at all (404 otherwise): `INGEST_TOKEN` is set or any API token
    was ever created (a revoked token is then told 401, not 404). Queries the database."""
    return secrets.ingest_token is not None or bool(list_tokens(engine))
