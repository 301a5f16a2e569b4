"""How fresh the page's data is ("dados atualizados há 3 s") and an automatic refresh (SPEC section 7).

The caption gives the age of the data the page shows; every interaction reruns the page, which reads
the data version again, so new events show on the next interaction. An idle page sends nothing to the
server: only when the person turns the automatic refresh on does a small fragment check the data
version (one cheap query) every N seconds, keep the caption's age current, and rerun the page once the
data changed (the page's figures are cached under the data version, so an unchanged database costs no
query).
"""
from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st
from sqlalchemy.engine import Engine

from data_access import data_version
from data_access.engine import DATABASE_ERRORS
from data_access.i18n import t
from data_access.report import with_connection

EVERY_S = (1, 2, 5, 10, 30, 60)
DEFAULT_EVERY_S = 5


def ago(seconds: float, lang: str) -> str:
    """3 -> "há 3 s"; 150 -> "há 2 min"; 7200 -> "há 2 h"; 3 days -> "há 3 d"."""
    seconds = max(0, int(seconds))
    for unit, size, limit in (("s", 1, 60), ("min", 60, 3600), ("h", 3600, 86400)):
        if seconds < limit:
            return t(f"freshness.ago_{unit}", lang, n=seconds // size)
    return t("freshness.ago_d", lang, n=seconds // 86400)


def updated_text(changed_at: datetime, lang: str, now: datetime | None = None) -> str:
    """"dados atualizados há 3 s" / "data updated 3 s ago" / "datos actualizados hace 3 s"."""
    now = now or datetime.now(timezone.utc)
    return t("freshness.updated", lang, ago=ago((now - changed_at).total_seconds(), lang))


def section(engine: Engine, version: int, changed_at: datetime | None, lang: str) -> None:
    """The caption, the "new data" notice and the automatic refresh toggle, for the data the page shows
    (`version`, changed at `changed_at`)."""
    if changed_at is None:
        return
    if not st.toggle(t("freshness.auto", lang), key="refresh.auto"):
        st.caption(f":material/update: {updated_text(changed_at, lang)}")
        return
    every = st.select_slider(t("freshness.every", lang), EVERY_S, value=DEFAULT_EVERY_S, key="refresh.every")

    @st.fragment(run_every=every)
    def clock() -> None:
        try:
            latest, _ = with_connection(engine, data_version.state)
        except DATABASE_ERRORS:  # the page's own queries say why
            latest = version
        if latest != version:
            st.rerun(scope="app")
        st.caption(f":material/update: {updated_text(changed_at, lang)}")

    clock()
