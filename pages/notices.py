"""Text shown literally on a page (`code_span`) and the page's words for a refused filter value: the
field's label in the page's language and the value shown literally. The command line says the same
with its flag names (`str(FilterError)`)."""
from __future__ import annotations

import re

from data_access.filters import FIRST_DAY, LAST_DAY, FilterError, Filters
from data_access.i18n import date_format, t


def code_span(text: str) -> str:
    """`text` as a Markdown code span, which Streamlit shows literally: no Markdown, HTML, emoji or
    directives inside. The fence is longer than any run of backticks in the text."""
    text = " ".join(str(text).split())
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def field_label(cls: type[Filters], param: str | None, lang: str) -> str:
    """The label the sidebar gives the field whose URL parameter is `param`."""
    if param in ("from", "to"):
        return t("filter.date", lang)
    if param == "tz":
        return t("settings.tz", lang)
    for spec in cls.FIELDS.values():
        if spec.param == param:
            return t(spec.label_key, lang)
    return param or ""


def filter_notice(exc: FilterError, cls: type[Filters], lang: str) -> str:
    """A one-line notice saying which value was ignored and why, in `lang` (Markdown-safe)."""
    field = field_label(cls, exc.param, lang)
    value = code_span(exc.value or "")
    if exc.problem == "range":
        fmt = date_format(lang)
        return t("notice.date_range", lang, field=field, value=value,
                 first=FIRST_DAY.strftime(fmt), last=LAST_DAY.strftime(fmt))
    if exc.problem == "order":
        return t("notice.date_order", lang, field=field, value=value)
    if any(f.param == exc.param and f.widget == "phone" for f in cls.FIELDS.values()):
        return t("notice.phone_ignored", lang, field=field, value=value)
    return t("notice.value_ignored", lang, field=field, value=value)
