"""The `mt_message.replied` flag: some MO answers the MT (its `in_reply_to` names the MT).

The flag is what the report counts (reply rate = replied / delivered), so every writer of MT or MO
rows calls `refresh_replied` for the MTs whose answer may have changed: MTs written or rewritten,
and the MTs an MO answered before and answers now.
"""
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from data_access.schema import mo_message, mt_message


def refresh_replied(conn: Connection, mt_ids: sa.Select | None = None) -> int:
    """Sets `replied` from the MOs for the MTs whose ids `mt_ids` selects (every MT when None);
    only rows whose flag changes are written. Returns how many changed."""
    mt, mo = mt_message, mo_message
    answers = sa.select(mo.c.in_reply_to).where(mo.c.in_reply_to.is_not(None))
    if mt_ids is not None:
        answers = answers.where(mo.c.in_reply_to.in_(mt_ids))
    answered = mt.c.message_id.in_(answers)
    statement = sa.update(mt).values(replied=answered).where(mt.c.replied != answered)
    if mt_ids is not None:
        statement = statement.where(mt.c.message_id.in_(mt_ids))
    return conn.execute(statement).rowcount
