"""The `mt_message.replied` flag and `mt_message.clicks` count: some MO answers the MT (its
`in_reply_to` names the MT), and how many of those MOs are quick-reply clicks (have a button payload).

Both are what the reports count (reply rate = replied / delivered; the Consolidado's clicks), so every
writer of MT or MO rows sets them for the MTs whose answers may have changed: MTs written or rewritten,
and the MTs an MO answered before and answers now. `refresh_replied` does it by scanning the MTs; the
ingest's fold computes the same values for the MTs it touched and writes them where they lie
(`data_access.ingest.writer`).
"""
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from data_access import hourly
from data_access.schema import mo_message, mt_message


def refresh_replied(conn: Connection, mt_ids: sa.Select | None = None) -> int:
    """Sets `replied` and `clicks` from the MOs for the MTs whose ids `mt_ids` selects (every MT when
    None); only rows whose values change are written. Returns how many `replied` flags changed.
    The caller settles the hourly counts (`data_access.hourly.settle`) before its commit."""
    mt, mo = mt_message, mo_message
    answers = sa.select(mo.c.in_reply_to).where(mo.c.in_reply_to.is_not(None))
    if mt_ids is not None:
        answers = answers.where(mo.c.in_reply_to.in_(mt_ids))
    answered = mt.c.message_id.in_(answers)
    changing = [mt.c.replied != answered]
    if mt_ids is not None:
        changing.append(mt.c.message_id.in_(mt_ids))
    hourly.count_rows(conn, mt, sa.select(mt).where(*changing), -1)
    flipped = [answered.label("replied") if c.name == "replied" else c for c in mt.columns]
    hourly.count_rows(conn, mt, sa.select(*flipped).where(*changing), +1)
    changed = conn.execute(sa.update(mt).values(replied=answered).where(*changing)).rowcount
    _refresh_clicks(conn, answers.where(mo.c.button_payload.is_not(None)), mt_ids)
    return changed


def _refresh_clicks(conn: Connection, clicks: sa.Select, mt_ids: sa.Select | None) -> None:
    """`clicks` = the MT's MOs with a button payload: counts set where they differ, then zeros where
    no such MO answers the MT any more."""
    mt = mt_message
    per_mt = clicks.add_columns(sa.func.count().label("n")).group_by(mo_message.c.in_reply_to).subquery()
    conn.execute(
        sa.update(mt).values(clicks=per_mt.c.n).where(mt.c.message_id == per_mt.c.in_reply_to, mt.c.clicks != per_mt.c.n)
    )
    lost = sa.update(mt).values(clicks=0).where(mt.c.clicks != 0, mt.c.message_id.not_in(clicks))
    if mt_ids is not None:
        lost = lost.where(mt.c.message_id.in_(mt_ids))
    conn.execute(lost)
