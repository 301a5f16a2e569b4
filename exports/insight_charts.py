"""Plotly figures of the insights (`data_access.insights`): the time-to-read distribution and the
weekday x hour heatmaps, drawn like `exports.charts` (own template, the language's separators, every
text written by Babel, Okabe-Ito colours), each with its numbers as a table (its text alternative).
"""
from __future__ import annotations

import plotly.graph_objects as go
from babel import Locale
from babel.numbers import format_decimal

from data_access.i18n import format_int, t
from data_access.insights import HOURS, READ_BUCKETS, MoInsights, MtInsights, ReadDelay
from exports.charts import BLUE, GRID, INK, NAVY, WHITE, count_axis, figure

# Sequential scale from the page's white to the report's blues (dark enough at the top for white text).
HEAT_SCALE = [[0.0, WHITE], [0.15, "#d6e8f3"], [0.5, "#4f9fcf"], [1.0, NAVY]]


def _babel_locale(lang: str) -> Locale:
    return Locale.parse(lang, sep="-")


def format_duration(seconds: float | None, lang: str) -> str:
    """A duration as people say it: "45 s", "4 min", "1 h 05 min", "2 d 3 h"; None -> "–"."""
    if seconds is None:
        return "–"
    total = int(round(seconds))
    if total < 60:
        return t("duration.seconds", lang, n=format_int(total, lang))
    minutes = total // 60
    if minutes < 60:
        return t("duration.minutes", lang, n=format_int(minutes, lang))
    hours = minutes // 60
    if hours < 24:
        return t("duration.hours", lang, h=format_int(hours, lang), m=f"{minutes % 60:02d}")
    return t("duration.days", lang, d=format_int(hours // 24, lang), h=format_int(hours % 24, lang))


def format_average(value: float, lang: str) -> str:
    """A mean with one decimal in the language's way: 2.5 -> "2,5" (pt-BR, es) or "2.5" (en)."""
    return format_decimal(value, format="#,##0.0", locale=_babel_locale(lang))


def bucket_labels(lang: str) -> list[str]:
    return [t(f"insight.bucket.{name}", lang) for name in READ_BUCKETS]


def weekday_names(lang: str) -> list[str]:
    """Monday first, abbreviated the language's way ("seg.", "Mon", "lun")."""
    names = _babel_locale(lang).days["format"]["abbreviated"]  # keyed 0 = Monday, as Python's weekday()
    return [names[i] for i in range(7)]


def _hour_labels() -> list[str]:
    return [f"{h:02d}h" for h in range(HOURS)]


def _delay_series(insights: MtInsights, lang: str) -> list[tuple[str, ReadDelay, str]]:
    return [
        (t("insight.delivered_to_read", lang), insights.delivered_to_read, BLUE),
        (t("insight.sent_to_read", lang), insights.sent_to_read, NAVY),
    ]


def read_delay(insights: MtInsights, lang: str) -> go.Figure:
    """How many read messages took each time to be read, from delivery and from sending: two bars per
    bucket, named in the legend with their medians."""
    labels = bucket_labels(lang)
    traces = [
        {
            "type": "bar",
            "x": labels,
            "y": list(delay.buckets),
            "name": f"{name} ({t('insight.median', lang)} {format_duration(delay.median_s, lang)})",
            "marker": {"color": colour},
            "text": [format_int(n, lang) for n in delay.buckets],
            "textposition": "outside",
            "textfont": {"color": INK},
            "cliponaxis": False,
            "hovertext": [f"{name}, {label}: {format_int(n, lang)}" for label, n in zip(labels, delay.buckets)],
            "hovertemplate": "%{hovertext}<extra></extra>",
        }
        for name, delay, colour in _delay_series(insights, lang)
    ]
    largest = max((n for _, delay, _ in _delay_series(insights, lang) for n in delay.buckets), default=0)
    # The legend (with the medians) between the title and the plot, clear of the slanted bucket names.
    return figure(traces, t("insight.time_to_read", lang), lang, height=380,
                  yaxis={"title": {"text": t("metric.read", lang)}, **count_axis(largest)},
                  barmode="group", showlegend=True, margin={"l": 10, "r": 10, "t": 96, "b": 10},
                  legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"color": INK}})


def read_delay_rows(insights: MtInsights, lang: str) -> list[dict[str, str]]:
    """The distribution as a table: one row per bucket, a column per kind of wait, medians last."""
    series = _delay_series(insights, lang)
    rows = [
        {t("insight.time_to_read_axis", lang): label,
         **{name: format_int(delay.buckets[i], lang) for name, delay, _ in series}}
        for i, label in enumerate(bucket_labels(lang))
    ]
    rows.append({t("insight.time_to_read_axis", lang): t("insight.median", lang),
                 **{name: format_duration(delay.median_s, lang) for name, delay, _ in series}})
    return rows


def heatmap(grid: tuple[tuple[int, ...], ...], title: str, what: str, lang: str) -> go.Figure:
    """A weekday x hour heatmap of counts: darker is more; the count is in each cell's hover text."""
    days, hours = weekday_names(lang), _hour_labels()
    largest = max((n for row in grid for n in row), default=0)
    trace = {
        "type": "heatmap",
        "z": [list(row) for row in grid],
        "x": hours,
        "y": days,
        "colorscale": HEAT_SCALE,
        "zmin": 0,
        "zmax": max(largest, 1),
        "xgap": 1,
        "ygap": 1,
        "hovertext": [[f"{day} {hour}: {format_int(n, lang)} {what}" for hour, n in zip(hours, row)]
                      for day, row in zip(days, grid)],
        "hovertemplate": "%{hovertext}<extra></extra>",
        "colorbar": {"title": {"text": what}, "tickfont": {"color": INK},
                     **({"tickmode": "linear", "tick0": 0, "dtick": 1} if largest <= 5 else {"tickformat": ",d"})},
    }
    return figure([trace], title, lang, height=300, plot_bgcolor=GRID,
                  yaxis={"autorange": "reversed", "showgrid": False},  # Monday on top
                  xaxis={"title": {"text": t("insight.hour", lang)}, "showgrid": False, "tickangle": 0, "dtick": 2})


def heatmap_rows(grid: tuple[tuple[int, ...], ...], lang: str) -> list[dict[str, str]]:
    """The heatmap as a table narrow enough for half a page: a row per hour, a column per weekday."""
    days = weekday_names(lang)
    return [
        {t("insight.hour", lang): hour, **{day: format_int(grid[d][h], lang) for d, day in enumerate(days)}}
        for h, hour in enumerate(_hour_labels())
    ]


def mt_insight_figures(insights: MtInsights, lang: str) -> dict[str, tuple[go.Figure, list[dict[str, str]]]]:
    """The Sent page's insight charts, each with its table, in page order."""
    return {
        "read_delay": (read_delay(insights, lang), read_delay_rows(insights, lang)),
        "reads_by_hour": (
            heatmap(insights.reads_by_hour, t("insight.reads_by_hour", lang), t("metric.read", lang), lang),
            heatmap_rows(insights.reads_by_hour, lang),
        ),
    }


def mo_insight_figures(insights: MoInsights, lang: str) -> dict[str, tuple[go.Figure, list[dict[str, str]]]]:
    """The Received page's insight chart with its table."""
    return {
        "replies_by_hour": (
            heatmap(insights.replies_by_hour, t("insight.replies_by_hour", lang), t("metric.replies", lang), lang),
            heatmap_rows(insights.replies_by_hour, lang),
        ),
    }

