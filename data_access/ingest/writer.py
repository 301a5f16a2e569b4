"""Writes one batch in one transaction and, when asked, recomputes ("folds") the rows it touched.

Rows are a function of everything stored, never of arrival order:
- `mt_message` = the send log (`mt_send_log`) plus all status events (`mt_event`) of the message,
  folded by one set-based statement (`_mt_rows`);
- `mo_message` attribution (`in_reply_to`, subaccount, user, campaign, template) is recomputed for
  new MOs and for every MO that a changed MT could answer or used to answer (`_mo_targets`).
A batch records the ids it touched in `ingest_pending`; a fold recomputes all pending ids and
clears them. The loader folds at the end of each run (and more often for long or slow inputs):
most messages get events in several batches, and folding each of them once per run instead of
once per batch is what keeps the embedded database above 20,000 events per second. A run that
stops before its fold leaves the ids pending, and the next run folds them.

Bulk paths: each Arrow table of the batch becomes a temporary table (DuckDB copies it from a
registered view, PostgreSQL gets it by COPY); the SQL after that is the same SQLAlchemy Core for
both. Rows are replaced by delete + insert, which DuckDB does far faster than UPDATE or ON CONFLICT
DO UPDATE of scattered rows. On PostgreSQL an advisory lock makes concurrent ingest runs take turns
per batch, so a recompute never misses another run's uncommitted events.
"""
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import ColumnElement, TableClause

from data_access import data_version, hourly
from data_access.bulk import append, for_ids
from data_access.engine import DatabaseError, first_line
from data_access.catalog import DELIVERED_STATUSES, FAILURE_STATUSES, STATUS_RANK
from data_access.ingest.batch import Batch
from data_access.ingest.events import SEND_LOG
from data_access.partitions import ensure_current, is_partitioned, upsert_lowest_record
from data_access.schema import (
    ingest_pending,
    mo_message,
    mt_event,
    mt_message,
    mt_send_log,
    raw_payload,
    rejected_record,
)

# An MO is attributed to the latest MT to its phone sent at most this long before it, excluding an
# MT sent exactly this long before (see data_access.ingest).
REPLY_WINDOW = timedelta(hours=24)
INGEST_LOCK_KEY = 0x57415250  # PostgreSQL advisory lock held by the batch being written
FAILURE_RANK = STATUS_RANK[FAILURE_STATUSES[0]]
Timestamp = sa.DateTime(timezone=True)
_ID_LIST = sa.Table("id_list", sa.MetaData(), sa.Column("message_id", sa.String))
_REPLIED = sa.Table(
    "replied_values", sa.MetaData(), sa.Column("message_id", sa.String), sa.Column("replied", sa.Boolean),
    sa.Column("clicks", sa.Integer),
)
# The MT's fields an MO attributed to it gets.
MT_FIELDS_OF_MO: tuple[str, ...] = ("subaccount", "user_name", "campaign", "template_name")
# DuckDB: the column of a copied row that holds the stored row's `rowid` (see `_stored_rows`).
ROW_ID = "stored_row_id"
COLUMN_TYPES = {
    c.name: c.type for t in (mt_event, mt_send_log, mo_message, raw_payload, rejected_record) for c in t.columns
}


# PostgreSQL SQLSTATE classes of errors caused by the values written: data exception (22),
# integrity constraint violation (23), program limit exceeded (54: "index row size ... exceeds").
REFUSING_SQLSTATE_CLASSES = frozenset({"22", "23", "54"})
REFUSING_DUCKDB_ERRORS = (duckdb.DataError, duckdb.IntegrityError, duckdb.InvalidInputException)


class BatchRefused(DatabaseError):
    """The database refused a value of the batch (not a connection, disk or lock problem): writing
    smaller parts of the batch finds the record at fault. The message is the database's first line."""


def refuses_data(exc: BaseException) -> bool:
    """The error is the database refusing the values written, rather than the database failing."""
    inner = getattr(exc, "orig", None) or exc
    if isinstance(inner, REFUSING_DUCKDB_ERRORS):
        return True
    sqlstate = getattr(inner, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate[:2] in REFUSING_SQLSTATE_CLASSES


def write_batch(engine: Engine, batch: Batch, fold: bool = True) -> set[str]:
    """Stores a batch in one transaction (and folds every pending row when `fold`); returns the ids
    of the payloads that were already stored. Raises `BatchRefused` when the database refuses a
    value (nothing of the batch is kept then)."""
    try:
        return _write(engine, batch, fold)
    except Exception as exc:
        if refuses_data(exc):
            raise BatchRefused(first_line(exc)) from exc
        raise


def _write(engine: Engine, batch: Batch, fold: bool) -> set[str]:
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        stage = _Stager(conn)
        try:
            if stage.duckdb:
                conn.exec_driver_sql("SET enable_progress_bar = false")
            else:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(INGEST_LOCK_KEY)))
                ensure_current(conn)  # live rows land in their month's partition (hourly counts: triggers)
            known = _store_new(conn, stage, raw_payload, batch.payloads, ingested_at=now)
            new_rejects = batch.rejects.num_rows - len(
                _store_new(conn, stage, rejected_record, batch.rejects, rejected_at=now)
            )
            wrote = _store_events(conn, stage, batch, known)
            folded = _fold_pending(conn, stage) if fold else False
            hourly.settle(conn)  # DuckDB: the hourly counts of what this batch wrote
            if wrote or new_rejects or folded:
                data_version.bump(conn)
        finally:
            stage.release()
    return known


# -- staging ------------------------------------------------------------------------------------


class _Stager:
    """Puts an Arrow table where SQL can read it, as a temporary table filled through the engine's
    bulk path (`data_access.bulk`: copied once, so later queries never call back into Python, which
    would need the GIL the reading thread holds). Columns keep the types of the schema columns they
    are named after."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.duckdb = conn.dialect.name == "duckdb"
        self.names: list[str] = []

    def __call__(self, name: str, table: pa.Table) -> TableClause:
        columns = [sa.column(n, COLUMN_TYPES[n]) for n in table.column_names]
        options = {} if self.duckdb else {"postgresql_on_commit": "DROP"}
        sa.Table(
            name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in columns), prefixes=["TEMPORARY"], **options
        ).create(self.conn)
        append(self.conn, name, table)
        self.names.append(name)
        return sa.table(name, *columns)

    def empty(self, name: str, like: sa.Table) -> sa.Table:
        """An empty temporary table with the columns (not the constraints) of `like`."""
        options = {} if self.duckdb else {"postgresql_on_commit": "DROP"}
        table = sa.Table(
            name, sa.MetaData(), *(sa.Column(c.name, c.type) for c in like.columns), prefixes=["TEMPORARY"], **options
        )
        table.create(self.conn)
        self.names.append(name)
        return table

    def release(self) -> None:
        """Drops DuckDB's temporary tables (PostgreSQL drops its own at commit)."""
        if self.duckdb:
            raw = self.conn.connection.dbapi_connection
            for name in self.names:
                raw.execute(f'DROP TABLE IF EXISTS temp."{name}"')


def _insert_new(
    conn: Connection, table: sa.Table, staged: TableClause, key: str, returning: bool = False, **constants
) -> list[str]:
    """Inserts the staged rows whose key is not stored yet (plus constant columns such as a time);
    returns the keys inserted when `returning`."""
    values = [*staged.columns, *(sa.literal(value, Timestamp).label(name) for name, value in constants.items())]
    statement = insert(table).from_select([c.name for c in values], sa.select(*values))
    statement = statement.on_conflict_do_nothing(index_elements=[key])
    if not returning:
        conn.execute(statement)
        return []
    return conn.execute(statement.returning(table.c[key])).scalars().all()


def _upsert_lowest_record(conn: Connection, table: sa.Table, staged: TableClause) -> None:
    """Inserts rows; a stored row is replaced only by a record with a lower hash (order-free)."""
    if is_partitioned(conn, table.name):  # PostgreSQL's mo_message: its key holds the time too
        return upsert_lowest_record(conn, table, staged)
    names = [c.name for c in staged.columns]
    statement = insert(table).from_select(names, sa.select(*staged.columns))
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["message_id"],
            set_={name: statement.excluded[name] for name in names if name != "message_id"},
            where=statement.excluded.record_id < table.c.record_id,
        )
    )


# -- payloads and events ----------------------------------------------------------------------


def _store_new(conn: Connection, stage: _Stager, table: sa.Table, rows: pa.Table, **times: datetime) -> set[str]:
    """Inserts the rows whose key is not stored yet; returns the keys that were."""
    if not rows.num_rows:
        return set()
    key = table.primary_key.columns[0].name
    # The keys stored before are those the insert skipped (the index tells, without a scan of the keys).
    inserted = _insert_new(conn, table, stage(f"ingest_{table.name}", rows), key, returning=True, **times)
    return set(rows[key].to_pylist()).difference(inserted)


def _stage_new(
    conn: Connection, stage: _Stager, name: str, rows: pa.Table, known: set[str]
) -> TableClause | None:
    """Stages the rows that came from payloads not stored before (`known`: those that were), without
    their payload_id; None when there are none. The payloads are told apart in SQL: an Arrow array
    made from Python values would import pandas, a second of the writer process's time."""
    if not rows.num_rows:
        return None
    staged = stage(name, rows)
    if known:
        listed = sa.bindparam("known", sorted(known), type_=ARRAY(sa.String))
        dropped = conn.execute(
            sa.delete(staged).where(staged.c.payload_id.in_(sa.select(sa.func.unnest(listed))))
        ).rowcount
        if dropped == rows.num_rows:
            return None
    return sa.table(name, *(sa.column(c.name, c.type) for c in staged.columns if c.name != "payload_id"))


def _store_events(conn: Connection, stage: _Stager, batch: Batch, known: set[str]) -> bool:
    """Stores the events of new payloads and marks their messages pending; False when there were none."""
    events = _stage_new(conn, stage, "ingest_event", batch.events, known)
    send_logs = _stage_new(conn, stage, "ingest_send_log", batch.send_logs, known)
    inbound = _stage_new(conn, stage, "ingest_mo", batch.inbound, known)
    if events is not None:
        _insert_new(conn, mt_event, events, "event_id")
        _mark_pending(conn, "mt", sa.select(events.c.message_id))
    if send_logs is not None:  # a send log always comes with its own status events, so it is pending
        _upsert_lowest_record(conn, mt_send_log, send_logs)
    if inbound is not None:
        with hourly.rewriting(conn, mo_message, sa.select(inbound.c.message_id)):
            _upsert_lowest_record(conn, mo_message, inbound)
        _mark_pending(conn, "mo", sa.select(inbound.c.message_id))
    return events is not None or inbound is not None


def _mark_pending(conn: Connection, kind: str, ids: sa.Select | sa.CompoundSelect) -> None:
    """Records that the rows of these ids (kind mt or mo) must be recomputed. The ids not listed yet
    are found by a join with the list (which a fold empties, so it stays small): cheaper than
    DuckDB's check of each row against the list's index (`ON CONFLICT`). One batch writes at a time
    (PostgreSQL: the advisory lock), so no other writer adds ids in between."""
    listed = sa.select(ingest_pending.c.message_id).where(ingest_pending.c.kind == kind)
    new = sa.except_(sa.select(ids.subquery().c.message_id), listed).subquery("new_pending")
    rows = sa.select(sa.literal(kind).label("kind"), new.c.message_id)
    conn.execute(ingest_pending.insert().from_select(["kind", "message_id"], rows))


# -- folding ------------------------------------------------------------------------------------


def _pending(kind: str) -> sa.Subquery:
    return sa.select(ingest_pending.c.message_id).where(ingest_pending.c.kind == kind).subquery(f"pending_{kind}")


def _fold_pending(conn: Connection, stage: _Stager) -> bool:
    """Recomputes the rows of every pending MT, then of every pending MO (new ones, and those the
    changed MTs may answer), then the `replied` flags and clicks those may move; clears the list.
    False when nothing was pending."""
    kinds = set(conn.execute(sa.select(ingest_pending.c.kind).distinct()).scalars())
    if not kinds:
        return False
    changed = None
    if "mt" in kinds:
        touched = _pending("mt")
        replaced: sa.FromClause = touched
        if hourly.writes_counts(conn):  # DuckDB: the rows replaced are read once, counted out and deleted
            replaced = _stored_rows(conn, stage, "ingest_replaced_mt", mt_message,
                                    [c.name for c in mt_message.columns], sa.select(touched.c.message_id))
            hourly.count_rows(conn, mt_message, replaced, -1)
        # Every pending id has events, so each deleted row comes back, recomputed from all it has.
        changed = _replace_rows(conn, stage, mt_message, replaced, _mt_rows(touched))
        _mark_pending(conn, "mo", _mo_targets(conn, changed))
    # The targets' stored rows, read once: attribution and the flags work from this small table.
    targets = _stored_rows(
        conn, stage, "ingest_target_mo", mo_message, [c.name for c in mo_message.columns],
        sa.select(_pending("mo").c.message_id),
    )
    hourly.count_rows(conn, mo_message, targets, -1)
    attributed = _replace_rows(conn, stage, mo_message, targets, _attributed_rows(conn, stage, targets))
    hourly.count_rows(conn, mo_message, attributed, +1)
    # MTs whose flags may change: those recomputed, and those the MOs answered before and answer now.
    answered = [sa.select(t.c.in_reply_to).where(t.c.in_reply_to.is_not(None)) for t in (targets, attributed)]
    if changed is not None:
        answered.append(sa.select(changed.c.message_id))
    maybe_replied = stage.empty("ingest_maybe_replied", _ID_LIST)
    conn.execute(maybe_replied.insert().from_select(["message_id"], sa.union(*answered)))
    # Hourly counts (DuckDB): the recomputed MTs are counted in with their flags, the others around the flags.
    others = sa.select(maybe_replied.c.message_id)
    with hourly.rewriting(conn, mt_message, others if changed is None else others.except_(sa.select(changed.c.message_id))):
        flags = _refresh_replied(conn, stage, maybe_replied, changed)
    if changed is not None:  # counted in from their new rows, with the flags just set on them
        hourly.count_rows(conn, mt_message, _with_flags(changed, flags), +1)
    conn.execute(sa.delete(ingest_pending))
    return True


def _replace_rows(
    conn: Connection, stage: _Stager, table: sa.Table, targets: sa.FromClause, rows: sa.Select
) -> sa.Table:
    """Replaces the targets' rows by `rows`, computed from them into a temporary table first;
    returns that table (the new rows, for what depends on them). `targets` has the ids, or is a
    copy of the stored rows (`_stored_rows`), whose row ids DuckDB deletes without looking for them."""
    computed = stage.empty(f"ingest_{table.name}_rows", table)
    conn.execute(computed.insert().from_select([c.name for c in table.columns], rows))
    if ROW_ID in targets.c:
        conn.execute(sa.delete(table).where(_row_id().in_(sa.select(targets.c[ROW_ID]))))
    else:
        for_ids(conn, table.c.message_id, sa.select(targets.c.message_id),
                lambda match: conn.execute(sa.delete(table).where(match)))
    conn.execute(table.insert().from_select([c.name for c in table.columns], sa.select(computed)))
    return computed


# -- MT: fold the send log and the events of each touched message --------------------------------


def _status_rank(status: sa.Column) -> ColumnElement[int]:
    return sa.case(
        *((status == code, rank) for code, rank in STATUS_RANK.items() if rank != FAILURE_RANK),
        else_=FAILURE_RANK,
    )


def _mt_rows(touched: sa.FromClause) -> sa.Select:
    """One mt_message row per touched message id (SPEC section 2), in one statement.

    Status: the highest rank (read > any failure > delivered > sent); within a rank the earliest
    provider timestamp, then the lower error code (numeric order for digit codes: shorter first),
    then the event hash. delivered_at counts a read as a delivery. The first failure's time, code,
    title and details are kept even when a read follows. Every other field is the send log's value,
    else the value the events carried (they describe the same message and agree; should two
    disagree, the smaller is kept, so the result never depends on arrival order). A missing value
    never hides a known one.
    """
    e = mt_event
    inherited = (
        "phone", "wa_user_id", "subaccount", "user_name", "campaign", "correlation_id", "conversation_id",
        "conversation_type", "conversation_type_raw", "conversation_expires_at", "pricing_category", "pricing_type",
    )
    # The touched messages' events, read once; each pick below sorts only what it needs (a window
    # per ordering of all events cost far more than the groups and the sort of one ordering).
    ev = (
        sa.select(e, _status_rank(e.c.status).label("status_rank"))
        .where(e.c.message_id.in_(sa.select(touched.c.message_id)))
        .cte("touched_events")
    )
    tie_break = (ev.c.event_at, sa.func.length(ev.c.error_code).nulls_last(), ev.c.error_code.nulls_last(),
                 ev.c.event_id)

    def first(columns: list, order: list, *where: ColumnElement[bool]) -> sa.Subquery:
        """Per message, the columns of its first event in `order` (among the events `where` keeps)."""
        place = sa.func.row_number().over(partition_by=ev.c.message_id, order_by=order).label("place")
        ranked = sa.select(ev.c.message_id, *columns, place).where(*where).subquery()
        return sa.select(*(c for c in ranked.c if c.name != "place")).where(ranked.c.place == 1).subquery()

    def earliest(statuses: Sequence[str]) -> ColumnElement:
        return sa.func.min(sa.case((ev.c.status.in_(statuses), ev.c.event_at)))

    best = first(
        [ev.c.status, ev.c.status_raw, ev.c.event_at.label("status_at")], [ev.c.status_rank.desc(), *tie_break]
    )
    failure = first(
        [ev.c.event_at.label("failed_at"), ev.c.error_code, ev.c.error_title, ev.c.error_detail],
        list(tie_break),
        ev.c.status_rank == FAILURE_RANK,
    )
    grouped = (
        sa.select(
            ev.c.message_id,
            sa.func.min(ev.c.event_at).label("first_event_at"),
            earliest(DELIVERED_STATUSES).label("delivered_at"),
            earliest(("read",)).label("read_at"),
            sa.func.min(ev.c.source).label("source"),
            *(sa.func.min(ev.c[name]).label(name) for name in inherited),
        )
        .group_by(ev.c.message_id)
        .subquery("grouped")
    )
    folded = (
        sa.select(
            grouped,
            *(best.c[name] for name in ("status", "status_raw", "status_at")),
            *(failure.c[name] for name in ("failed_at", "error_code", "error_title", "error_detail")),
        )
        .select_from(
            grouped.join(best, best.c.message_id == grouped.c.message_id).outerjoin(
                failure, failure.c.message_id == grouped.c.message_id
            )
        )
        .subquery("folded")
    )
    f, log = folded, mt_send_log
    has_log = log.c.message_id.is_not(None)
    values = {
        **{name: f.c[name] for name in ("message_id", "status", "status_raw", "status_at", "delivered_at", "read_at",
                                        "failed_at", "error_code", "error_title", "error_detail")},
        "sent_at": sa.func.coalesce(log.c.sent_at, f.c.first_event_at),
        **{name: sa.func.coalesce(log.c[name], f.c[name]) for name in inherited},
        "content_type": sa.func.coalesce(log.c.content_type, "other"),
        "template_name": log.c.template_name,
        "message": log.c.message,
        "sent_with_session": log.c.sent_with_session,
        "source": sa.case((has_log, SEND_LOG), else_=f.c.source),
        "has_send_log": has_log,
        "replied": sa.false(),  # set once the MOs are attributed (`_fold_pending`)
        "clicks": sa.literal(0, sa.Integer),  # likewise
    }
    return (
        sa.select(*(values[c.name].label(c.name) for c in mt_message.columns))
        .select_from(f.outerjoin(log, log.c.message_id == f.c.message_id))
    )


# -- MO: attribution -----------------------------------------------------------------------------


def _in_window(mo: sa.FromClause, mt: sa.FromClause) -> ColumnElement[bool]:
    """The MT was sent in the 24 h before the MO: (received_at - 24 h, received_at]."""
    return sa.and_(mt.c.sent_at <= mo.c.received_at, mt.c.sent_at > mo.c.received_at - REPLY_WINDOW)


def _time_bounds(conn: Connection, column: ColumnElement, source: sa.FromClause | None = None) -> tuple | None:
    """The lowest and highest value of a time column (None when it has no rows): a range that a
    join's window lies in, given to the scan of a large table as plain bounds, so that the scan
    skips the stored blocks outside it (DuckDB's zone maps) instead of reading the whole table."""
    statement = sa.select(sa.func.min(column), sa.func.max(column))
    if source is not None:
        statement = statement.select_from(source)
    low, high = conn.execute(statement).one()
    return None if low is None else (low, high)


def _mo_targets(conn: Connection, changed: sa.Table) -> sa.Select:
    """MOs whose attribution may change because the MTs of `changed` (their new rows) changed."""
    mo, mt = mo_message, changed
    changed_ids = sa.select(mt.c.message_id)
    parts = [
        sa.select(mo.c.message_id).where(mo.c.in_reply_to.in_(changed_ids)),
        sa.select(mo.c.message_id).where(mo.c.context_id.in_(changed_ids)),
    ]
    bounds = _time_bounds(conn, mt.c.sent_at)
    if bounds is not None:  # an MO answers an MT in the 24 h after it was sent: no other MO can
        near = sa.and_(mo.c.received_at >= bounds[0], mo.c.received_at < bounds[1] + REPLY_WINDOW)
        parts += [
            sa.select(mo.c.message_id)
            .select_from(mo.join(mt, mt.c.phone == mo.c.phone))
            .where(near, mo.c.context_id.is_(None), _in_window(mo, mt)),
            sa.select(mo.c.message_id)
            .select_from(mo.join(mt, mt.c.wa_user_id == mo.c.wa_user_id))
            .where(near, mo.c.context_id.is_(None), mo.c.phone.is_(None), _in_window(mo, mt)),
        ]
    targets = sa.union(*parts).subquery("targets")
    return sa.select(targets.c.message_id)


def _attributed_rows(conn: Connection, stage: _Stager, targets: sa.Table) -> sa.Select:
    """The full mo_message rows of `targets` (stored MO rows) with in_reply_to, attribution and the
    MT's subaccount, user, campaign and template recomputed.

    context: the MT named by context.id / replying_to (kept even before that MT is known);
    window: else the latest MT to the same phone (or wa_user_id when the MO has no E.164 phone)
    sent in (received_at - 24 h, received_at], ties to the higher message id; else nothing.
    """
    mo, mt = targets, mt_message
    target = sa.select(mo.c.message_id, mo.c.received_at, mo.c.phone, mo.c.wa_user_id).where(
        mo.c.context_id.is_(None)
    ).subquery("target")
    # Every candidate MT was sent in the 24 h before one of the targets was received.
    bounds = _time_bounds(conn, target.c.received_at, target)
    near = sa.false() if bounds is None else sa.and_(mt.c.sent_at > bounds[0] - REPLY_WINDOW, mt.c.sent_at <= bounds[1])
    copied = [mt.c[name] for name in MT_FIELDS_OF_MO]
    candidates = sa.union_all(
        sa.select(target.c.message_id.label("mo_id"), mt.c.message_id.label("mt_id"), mt.c.sent_at, *copied)
        .join(mt, mt.c.phone == target.c.phone)
        .where(near, _in_window(target, mt)),
        sa.select(target.c.message_id.label("mo_id"), mt.c.message_id.label("mt_id"), mt.c.sent_at, *copied)
        .join(mt, mt.c.wa_user_id == target.c.wa_user_id)
        .where(near, target.c.phone.is_(None), _in_window(target, mt)),
    ).subquery("candidates")
    ranked = sa.select(
        candidates,
        sa.func.row_number()
        .over(partition_by=candidates.c.mo_id, order_by=[candidates.c.sent_at.desc(), candidates.c.mt_id.desc()])
        .label("place"),
    ).subquery("ranked")
    latest = sa.select(ranked).where(ranked.c.place == 1).subquery("latest")
    # The MTs named by context, looked up by id (an MO may name an MT of any age).
    named = _stored_rows(
        conn, stage, "ingest_named_mt", mt, ["message_id", *MT_FIELDS_OF_MO],
        sa.select(mo.c.context_id).where(mo.c.context_id.is_not(None)).distinct(),
    )
    by_context = mo.c.context_id.is_not(None)
    attributed = {
        "in_reply_to": sa.func.coalesce(mo.c.context_id, latest.c.mt_id),
        "attribution": sa.case((by_context, "context"), (latest.c.mt_id.is_not(None), "window")),
        **{name: sa.case((by_context, named.c[name]), else_=latest.c[name]) for name in MT_FIELDS_OF_MO},
    }
    return sa.select(*(attributed.get(c.name, mo.c[c.name]).label(c.name) for c in mo_message.columns)).select_from(
        mo.outerjoin(latest, latest.c.mo_id == mo.c.message_id).outerjoin(named, named.c.message_id == mo.c.context_id)
    )


# -- lookups by id and the replied flags ---------------------------------------------------------


def _row_id() -> ColumnElement[int]:
    """DuckDB's row id of the table the statement reads or deletes from (its only table)."""
    return sa.literal_column("rowid", sa.BigInteger)


def _stored_rows(
    conn: Connection, stage: _Stager, name: str, table: sa.Table, columns: Sequence[str], ids: sa.Select
) -> sa.Table:
    """The stored rows (these columns) of the ids `ids` selects, in a temporary table. On DuckDB the
    rows are found by their ids first (a scan of the ids alone: a join that also read the other
    columns would read them for every stored row) and then read by `rowid`, which the table keeps too
    (column `ROW_ID`, valid until the transaction ends), so the rows can be deleted without being
    looked for again (`_replace_rows`)."""
    fields = [sa.Column(c, table.c[c].type) for c in columns]
    selected = [table.c[c] for c in columns]
    where: ColumnElement[bool] | None = None
    if stage.duckdb:
        row_ids = stage.empty(f"{name}_ids", sa.Table(name, sa.MetaData(), sa.Column(ROW_ID, sa.BigInteger)))
        for_ids(conn, table.c.message_id, ids, lambda match: conn.execute(
            row_ids.insert().from_select([ROW_ID], sa.select(_row_id()).select_from(table).where(match))
        ))
        fields.append(sa.Column(ROW_ID, sa.BigInteger))
        selected.append(_row_id().label(ROW_ID))
        where = _row_id().in_(sa.select(row_ids.c[ROW_ID]))
    found = stage.empty(name, sa.Table(name, sa.MetaData(), *fields))
    names = [field.name for field in fields]
    if where is not None:
        conn.execute(found.insert().from_select(names, sa.select(*selected).where(where)))
    else:
        for_ids(conn, table.c.message_id, ids,
                lambda match: conn.execute(found.insert().from_select(names, sa.select(*selected).where(match))))
    return found


def _refresh_replied(conn: Connection, stage: _Stager, maybe: sa.Table, changed: sa.Table | None) -> sa.Table:
    """Sets `replied` and `clicks` (as `data_access.replies.refresh_replied` defines them) of the MTs
    `maybe` names, writing only the rows whose values change; returns the values (a table of
    message_id, replied, clicks). The MTs just recomputed (`changed`) are found within the bounds of
    their own sent_at; the few others are looked up by id."""
    mo = mo_message
    ids = sa.select(maybe.c.message_id).distinct().subquery("ids")
    values = stage.empty("ingest_replied", _REPLIED)
    answers = mo.c.in_reply_to == ids.c.message_id
    conn.execute(values.insert().from_select(
        ["message_id", "replied", "clicks"],
        sa.select(ids.c.message_id, sa.func.count(mo.c.message_id) > 0, sa.func.count(mo.c.button_payload))
        .select_from(ids.outerjoin(mo, answers))
        .group_by(ids.c.message_id),
    ))
    mt = mt_message
    differs = sa.or_(mt.c.replied != values.c.replied, mt.c.clicks != values.c.clicks)
    update = (
        sa.update(mt)
        .values(replied=values.c.replied, clicks=values.c.clicks)
        .where(mt.c.message_id == values.c.message_id, differs)
    )
    others = sa.select(values.c.message_id)
    if changed is not None:
        bounds = _time_bounds(conn, changed.c.sent_at)
        if bounds is not None:
            recomputed = sa.select(changed.c.message_id)
            conn.execute(update.where(values.c.message_id.in_(recomputed), mt.c.sent_at.between(*bounds)))
            others = others.where(values.c.message_id.not_in(recomputed))
    for_ids(conn, mt.c.message_id, others, lambda match: conn.execute(update.where(match)))
    return values


def _with_flags(rows: sa.Table, flags: sa.Table) -> sa.Select:
    """Recomputed mt_message rows with the `replied` and `clicks` that `_refresh_replied` set (`flags`:
    what it returned, one row for each id it was given, the recomputed ones among them)."""
    return (
        sa.select(*((flags.c[c.name] if c.name in ("replied", "clicks") else rows.c[c.name]).label(c.name)
                    for c in mt_message.columns))
        .select_from(rows.join(flags, flags.c.message_id == rows.c.message_id))
    )
