"""Who may call the live interface: provider signatures and the send log's bearer token.

Every comparison of a secret is constant-time (`hmac.compare_digest`).
"""
import base64
import hashlib
import hmac

from starlette.requests import Request

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


def meta_signature_ok(request: Request, body: bytes, app_secret: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`."""
    expected = "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return same(request.headers.get(META_SIGNATURE_HEADER, ""), expected)


def sinch_legacy_signed(request: Request) -> bool:
    return SINCH_SIGNATURE_HEADER in request.headers


def sinch_legacy_signature_ok(request: Request, body: bytes, callback_secret: str) -> bool:
    """The legacy signature headers: the algorithm is HMAC_SHA_256, and the signature (base64, or
    hex) is the HMAC of `body + "." + nonce` with the callback secret."""
    algorithm = request.headers.get(SINCH_ALGORITHM_HEADER, SINCH_ALGORITHM)
    nonce = request.headers.get(SINCH_NONCE_HEADER)
    given = request.headers.get(SINCH_SIGNATURE_HEADER, "")
    if algorithm.upper() != SINCH_ALGORITHM or nonce is None:
        return False
    digest = hmac.new(callback_secret.encode("utf-8"), body + b"." + nonce.encode("utf-8"), hashlib.sha256).digest()
    return same(given, base64.b64encode(digest).decode("ascii")) or same(given.lower(), digest.hex())


def api_token_ok(request: Request, secrets: Secrets) -> bool:
    """`Authorization: Bearer <token>` for the API routes: today `INGEST_TOKEN` (SPEC 8); the named
    API tokens of SPEC 9 are checked here too when they exist."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    return secrets.ingest_token is not None and same(token.strip(), secrets.ingest_token)


def api_enabled(secrets: Secrets) -> bool:
    """Whether any API token is configured (the API routes answer 404 otherwise)."""
    return secrets.ingest_token is not None
