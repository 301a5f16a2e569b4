"""Talking to the live interface of a running app server over real HTTP, and signing like the
providers do."""
import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

SECRETS = {
    "META_VERIFY_TOKEN": "verify-me",
    "META_APP_SECRET": "meta-app-secret",
    "SINCH_WEBHOOK_TOKEN": "sinch-path-token",
    "INGEST_TOKEN": "ingest-token",
}


def request(base: str, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One request on a new connection; (status, body)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def meta_signature(body: bytes, secret: str = SECRETS["META_APP_SECRET"]) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_meta(base: str, body: bytes, secret: str = SECRETS["META_APP_SECRET"]) -> int:
    return request(base, "POST", "/webhooks/meta", body, {"X-Hub-Signature-256": meta_signature(body, secret),
                                                          "Content-Type": "application/json"})[0]


def post_sinch(base: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    path = f"/webhooks/sinch/{SECRETS['SINCH_WEBHOOK_TOKEN']}"
    return request(base, "POST", path, body, {"Content-Type": "application/json", **(headers or {})})[0]


def post_send_log(base: str, body: bytes, content_type: str,
                  token: str = SECRETS["INGEST_TOKEN"]) -> tuple[int, Any]:
    status, answer = request(base, "POST", "/api/send-log", body,
                             {"Content-Type": content_type, "Authorization": f"Bearer {token}"})
    return status, (json.loads(answer) if status == 200 else answer.decode())


def body_of(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Polls `check` until it holds; the seconds it took. Fails the test after `timeout_s`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def stored_payload_ids(engine: Engine) -> set[str]:
    import sqlalchemy as sa

    from data_access.schema import raw_payload

    with engine.connect() as conn:
        return set(conn.execute(sa.select(raw_payload.c.payload_id)).scalars())
