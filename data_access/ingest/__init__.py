"""Ingest: send logs and provider webhooks into mt_message / mo_message (SPEC sections 1, 2, 5, 6).

`python -m data_access.ingest [--db URL] PATH...` or `ingest_paths(engine_or_url, paths)`.

Pipeline: `reader` streams records (JSON Lines, JSON documents, CSV) -> `detect` recognises each
payload's format -> `send_log` / `meta` / `sinch_latam` / `sinch_legacy` turn it into normalised
events (`events`) -> `loader` gathers them into batches (`batch`) -> `writer` stores each batch in
one transaction (in a child process for large inputs, `writer_process`) and recomputes ("folds")
the touched rows at the end of the run.

Nothing lost, nothing stopped by one bad record: whatever goes wrong reading, parsing, checking
(`events.FIELD_LIMITS`: texts that PostgreSQL's indexes could not hold) or writing one record makes
that record a row of `rejected_record` (file, line, reason, body) and the run goes on; a batch the
database refuses is written again in halves until the refused record is alone. Every record read is
counted once as accepted, duplicate or rejected (`FormatCounts`). A run stopped by a cause outside
the data (database gone, disk full, a file gone) says the file and line it reached and exits 1; the
next run completes it.

Idempotent and order-free by construction:
- every raw payload is kept once (`raw_payload.payload_id` = sha256 of its body); a payload already
  stored is counted as a duplicate and not processed again;
- every status event is kept once in `mt_event` (keyed by the hash of its normalised content) and
  the send log in `mt_send_log`; an `mt_message` row is always recomputed from all of them, so the
  result is the same whatever arrived first (a status before its send log creates the row with the
  earliest event time as a provisional `sent_at`; the send log's values replace it when it comes);
- when two different records claim the same send-log or MO id, the one with the lower hash wins;
- the ids waiting for their rows to be recomputed are kept in `ingest_pending`, in the same
  transaction as their events, so a run that stops early leaves nothing half done: the next run
  folds them.

MO attribution (`mo_message.in_reply_to`, `attribution`, and subaccount, user, campaign, template
copied from the MT):
- `context`: the MT named by Meta's `context.id` or Sinch's `replying_to` (or the message a reaction
  is on). `in_reply_to` is that id even before the MT is known; the MT's fields are filled in when
  it arrives.
- `window`: else the latest MT to the same phone (to the same `wa_user_id` when the MO's number is
  not E.164) whose `sent_at` is in the 24 hours before the MO, whatever its status. The window is
  (received_at - 24 h, received_at]: an MO at exactly 24 h after the MT is outside it, as WhatsApp's
  customer-service window has closed by then; an MT sent at the same instant as the MO is inside.
  Ties on `sent_at` go to the higher message id.
- else none.
Attribution is recomputed whenever an MT it could depend on changes, so an MO that arrives before
its MT is attributed when the MT comes.

Reply rate (MTs with at least one MO in reply): `in_reply_to` is set for both kinds of attribution,
and the fold sets `mt_message.replied` for every MT whose answer may have changed (MTs recomputed,
and the MTs an MO answered before and after its attribution), so the report counts the flag.
"""
from data_access.ingest.loader import (
    FormatCounts,
    IngestFailed,
    IngestSummary,
    ingest_paths,
    ingest_streams,
    reject_body,
)

__all__ = ["FormatCounts", "IngestFailed", "IngestSummary", "ingest_paths", "ingest_streams", "reject_body"]
