"""PostgreSQL's inbox: raw bodies committed to `webhook_inbox` before the 200, shared by every app
server process of the database.

Appends are group-committed (one transaction per group of requests). A folder claims the oldest
bodies with `SELECT ... FOR UPDATE SKIP LOCKED` in a transaction it keeps open while the bodies are
folded, then deletes them and commits: another process skips the locked rows and takes the next
ones, so no body is folded by two processes at once, and the bodies of a process that dies
mid-fold are unlocked (its transaction rolls back) and taken by the next claim. A fold that
committed before its claim's delete is folded again harmlessly: ingest keeps each payload once.
"""
import contextlib
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_access.schema import webhook_inbox
from server.group_commit import GroupCommit
from server.received import Received

CLAIM_LIMIT = 5_000


class InboxSpool:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._group = GroupCommit(self._write_group, "inbox-writer")

    async def store(self, item: Received) -> None:
        """Returns once the body is committed."""
        await self._group.submit(item)

    def _write_group(self, items: list[Received]) -> None:
        now = datetime.now(timezone.utc)
        rows = [
            {"inbox_id": uuid.uuid4().hex, "source": item.source, "received_at": now, "body": item.body}
            for item in items
        ]
        with self.engine.begin() as conn:
            conn.execute(sa.insert(webhook_inbox), rows)

    @contextlib.contextmanager
    def claim(self, limit: int = CLAIM_LIMIT) -> Iterator[list[Received]]:
        """The oldest bodies no other process holds; deleted when the block ends without an exception."""
        with self.engine.connect() as conn, conn.begin():
            rows = conn.execute(
                sa.select(webhook_inbox.c.inbox_id, webhook_inbox.c.source, webhook_inbox.c.body)
                .order_by(webhook_inbox.c.received_at, webhook_inbox.c.inbox_id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            yield [Received(row.source, bytes(row.body)) for row in rows]
            if rows:
                conn.execute(sa.delete(webhook_inbox).where(webhook_inbox.c.inbox_id.in_([r.inbox_id for r in rows])))

    def stop_accepting(self) -> None:
        """Commits the appends queued so far; later ones fail (503, the provider retries)."""
        self._group.close()

    def close(self) -> None:
        """Nothing to release: the bodies left are in the database for any process."""
