"""The bulk path shared by the ingest and the demo loader, on both engines: rows read back exactly."""
import pyarrow as pa
import sqlalchemy as sa

from data_access.bulk import append
from data_access.schema import mo_message
from tests.factories import at, mo_row

TEXTS = ["", None, 'vírgula, "aspas"\nnova linha', "\\N barra", "😀 emoji", "\r\n", "NULL"]


def test_append_keeps_every_value(engine):
    rows = [mo_row(message_id=f"b{i}", message=text, received_at=at(10, 12, i)) for i, text in enumerate(TEXTS)]
    columns = ["message_id", "received_at", "phone", "content_type", "message", "source"]
    data = pa.Table.from_pylist([{c: r[c] for c in columns} for r in rows])
    with engine.begin() as conn:
        append(conn, mo_message.name, data)
        append(conn, mo_message.name, data.slice(0, 0))  # nothing to add
    with engine.connect() as conn:
        stored = conn.execute(sa.select(*(mo_message.c[c] for c in columns)).order_by(mo_message.c.message_id)).all()
    assert [tuple(row) for row in stored] == [tuple(r[c] for c in columns) for r in rows]
