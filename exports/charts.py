"""Plotly figures of a report, labelled in the report's language: the pages show them, the PDF
embeds them as PNG. One function per chart; each takes the report value and the language.

A figure carries everything it looks like: its own template (plotly's "plotly_white", whatever
`plotly.io.templates.default` is: Streamlit sets that default to a template of placeholder colours
that only its web page replaces, which made the dashboard's PDF draw black donuts and cut labels),
the language's separators, every text written by Babel (values, percentages, day names) and one
fixed colour per status and content type. Colours come from the Okabe-Ito colour-blind-safe hues,
darkened to 4.5:1 against white (so white text on them is legible and each mark stands out from the
page); delivered/read are blues and failures a darker vermillion (hue and lightness both differ),
also told apart without colour by their names on the axis. `mt_chart_tables` / `mo_chart_tables` give
each chart's numbers as a table (its text alternative).

The points a page lets people click to filter by carry what they filter by as their `customdata`,
written here where the figure is built (the pages share one figure between sessions and never change
it): each status bar its status code, each funnel stage the status codes it counts joined by commas
("" for the first stage: every status; none for "replied", which is no status), each quick-reply
bar its button text as typed (none for the clicks without a text).
"""
from __future__ import annotations

import functools
import html
import math
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

import plotly.graph_objects as go
import plotly.io as pio

from data_access.catalog import DELIVERED_STATUSES, FAILURE_STATUSES
from data_access.i18n import format_day, format_int, format_pct, label, plotly_separators, t
from data_access.report import MoReport, MtReport

INK, GRID, WHITE = "#1c2b25", "#e6ecea", "#ffffff"
SLATE, BLUE, NAVY, PURPLE, VERMILLION = "#5b6770", "#0077bb", "#005a87", "#7a4d9e", "#8f3300"
STATUS_COLORS: dict[str, str] = {
    "sent": SLATE, "delivered": BLUE, "read": NAVY, **{s: VERMILLION for s in FAILURE_STATUSES},
}
CONTENT_TYPE_COLORS: dict[str, str] = {
    "template": BLUE,
    "text": SLATE,
    "image": "#b3460a",
    "audio": "#4e5ba6",
    "video": "#00795a",
    "document": "#8a5a00",
    "interactive": "#a8336e",
    "location": "#2f5f8a",
    "sticker": "#6b7a00",
    "contacts": "#8c3b2e",
    "button": PURPLE,
    "other": "#4d4d4d",
}
OTHER_COLOR = CONTENT_TYPE_COLORS["other"]  # a code outside the catalog
FUNNEL_COLORS = (SLATE, BLUE, NAVY, PURPLE)
# The funnel's stages (sent, delivered, read, replied) as status filters; replied is no status.
FUNNEL_STATUSES: tuple[tuple[str, ...] | None, ...] = ((), tuple(DELIVERED_STATUSES), ("read",), None)
MAX_DAY_TICKS = 8
DAY_MS = 86_400_000  # a date axis counts in milliseconds
# The parts of "plotly_white" these charts use: its defaults for the traces drawn and for a chart on x/y
# axes, without those of polar, ternary, 3-D and map subplots and of colour scales (none here has them).
# The figures look the same and carry a template a fifth of the size: setting the whole template took
# 25-45 ms of each figure's build (plotly validates all of it), the cut one 17 ms (BENCHMARKS.md).
_TEMPLATE_LAYOUT = ("annotationdefaults", "autotypenumbers", "colorway", "font", "hoverlabel", "hovermode",
                    "paper_bgcolor", "plot_bgcolor", "shapedefaults", "title", "xaxis", "yaxis")


def literal(text: str) -> str:
    """`text` as plotly shows it literally. plotly renders a subset of HTML in labels, hover texts,
    legends and ticks (links, styles, line breaks) and decodes entities, so `<`, `>` and `&` are
    written as entities."""
    return html.escape(text, quote=False)


@functools.cache
def _template(kinds: frozenset[str]) -> dict:
    """"plotly_white" for a chart of these trace types (see `_TEMPLATE_LAYOUT`), as a spec (read, never
    changed: every figure built from it validates its own copy)."""
    white = pio.templates["plotly_white"]
    layout = {key: value for key, value in white.layout.to_plotly_json().items() if key in _TEMPLATE_LAYOUT}
    return go.layout.Template(layout=layout, data={kind: white.data[kind] for kind in sorted(kinds)}).to_plotly_json()


def axis_label(text: str, width: int = 16) -> str:
    """A category label for a bar axis, literal, broken into lines of about `width` characters: long
    names ("Limite de tier do WhatsApp") would otherwise take the bars' room at phone width."""
    return "<br>".join(literal(line) for line in textwrap.wrap(text, width, break_long_words=False)) or literal(text)


def figure(traces: list[dict], title: str, lang: str, height: int = 320, xaxis: dict | None = None,
           yaxis: dict | None = None, **layout: object) -> go.Figure:
    """A chart of `traces` (plotly trace specs, each with its "type") in the report's look; `xaxis`,
    `yaxis` and `layout` add to or override it.

    The figure is built from one spec, so plotly validates each property once: setting them one update
    at a time (`update_layout`, `update_xaxes`...) parsed and validated the figure again on every call,
    about seven times the work (BENCHMARKS.md)."""
    axis = {"gridcolor": GRID, "automargin": True, "linecolor": INK, "tickfont": {"color": INK}}
    spec = {
        "template": _template(frozenset(trace["type"] for trace in traces)),
        "separators": plotly_separators(lang),
        "title": {"text": title, "x": 0, "font": {"size": 15, "color": INK}},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 44, "b": 10},
        "plot_bgcolor": WHITE,
        "paper_bgcolor": WHITE,
        "font": {"family": "DejaVu Sans, Arial, sans-serif", "size": 12, "color": INK},
        "showlegend": False,
        "xaxis": {**axis, **(xaxis or {})},
        "yaxis": {**axis, **(yaxis or {})},
        **layout,
    }
    return go.Figure({"data": traces, "layout": spec})


def count_axis(largest: int) -> dict:
    """A count axis from 0 with whole-number ticks (never "0,5 mensagens")."""
    if largest <= 5:
        return {"rangemode": "tozero", "tickmode": "linear", "tick0": 0, "dtick": 1,
                "range": [0, max(largest, 1) * 1.05]}
    return {"rangemode": "tozero", "tickformat": ",d"}


def _day_axis(days: Sequence[date], lang: str) -> dict:
    """Day ticks written in the language ("19 de nov."), one per day up to MAX_DAY_TICKS, half a day
    of room each side (a one-day search shows one tick and its whole point or bar)."""
    if not days:
        return {}
    first, last = min(days), max(days)
    span = (last - first).days + 1
    step = math.ceil(span / MAX_DAY_TICKS)
    ticks = [first + timedelta(days=i) for i in range(0, span, step)]
    return {
        "type": "date",
        "tickmode": "array",
        "tickvals": [d.isoformat() for d in ticks],
        "ticktext": [format_day(d, lang) for d in ticks],
        "range": [f"{first - timedelta(days=1)}T12:00:00", f"{last}T12:00:00"],
        "title": {"text": t("chart.day", lang)},
    }


# Values written at the bar: white inside the (dark) bar, ink outside it, never clipped; level text,
# outside a bar too short for it too (plotly would turn it sideways).
_BAR_TEXT = {"textposition": "auto", "textangle": 0, "insidetextfont": {"color": WHITE},
             "outsidetextfont": {"color": INK}, "cliponaxis": False}


def funnel(report: MtReport, lang: str) -> go.Figure:
    """Sent -> delivered -> read -> replied: each stage named with its share of the sent under its name
    (beside the bar, where a narrow column still has room), its count in the bar."""
    stages = _funnel_stages(report, lang)
    total = report.totals.total
    names = [literal(name) if i == 0 else f"{literal(name)}<br>{_of_sent(n, total, lang)}"
             for i, (name, n) in enumerate(stages)]
    trace = {
        "type": "funnel",
        "y": names,
        "x": [n for _, n in stages],
        "text": [format_int(n, lang) for _, n in stages],
        "textinfo": "text",
        "textposition": "auto",
        "textangle": 0,
        "insidetextfont": {"color": WHITE},
        "outsidetextfont": {"color": INK},
        "hovertext": [f"{literal(name)}: {format_int(n, lang)} ({_of_sent(n, total, lang)})" for name, n in stages],
        "hovertemplate": "%{hovertext}<extra></extra>",
        "customdata": [None if codes is None else ",".join(codes) for codes in FUNNEL_STATUSES],
        "marker": {"color": list(FUNNEL_COLORS)},
        "connector": {"fillcolor": GRID},
    }
    return figure([trace], t("chart.funnel", lang), lang)


def _funnel_stages(report: MtReport, lang: str) -> list[tuple[str, int]]:
    totals = report.totals
    return [
        (t("metric.sent", lang), totals.total),
        (t("metric.delivered", lang), totals.delivered),
        (t("metric.read", lang), totals.read),
        (t("metric.replied", lang), totals.replied),
    ]


def _of_sent(n: int, total: int, lang: str) -> str:
    return t("chart.of_sent", lang, pct=format_pct(n / total if total else None, lang))


def daily_delivery_rate(report: MtReport, lang: str) -> go.Figure:
    days = [d.day for d in report.daily]
    rates = [None if d.delivery_rate is None else d.delivery_rate * 100 for d in report.daily]
    hover = [
        f"{format_day(d.day, lang)}: {format_pct(d.delivery_rate, lang)} "
        f"({t('kpi.of', lang, part=format_int(d.delivered, lang), whole=format_int(d.total, lang))})"
        for d in report.daily
    ]
    trace = {
        "type": "scatter",
        "x": [d.isoformat() for d in days],
        "y": rates,
        "mode": "lines+markers",
        "line": {"color": BLUE, "width": 2},
        "marker": {"size": 8, "color": BLUE},
        "cliponaxis": False,
        "hovertext": hover,
        "hovertemplate": "%{hovertext}<extra></extra>",
    }
    yaxis = {"title": {"text": t("metric.delivery_rate", lang) + " (%)"}, "range": [0, 104], "tickmode": "array",
             "tickvals": [0, 20, 40, 60, 80, 100], "ticktext": [format_int(v, lang) for v in (0, 20, 40, 60, 80, 100)]}
    return figure([trace], t("chart.daily_delivery_rate", lang), lang, xaxis=_day_axis(days, lang), yaxis=yaxis)


def status_breakdown(report: MtReport, lang: str) -> go.Figure:
    rows = sorted(report.status_counts, key=lambda item: item[1])
    trace = {
        "type": "bar",
        "x": [n for _, n in rows],
        "y": [axis_label(label("status", s, lang)) for s, _ in rows],
        "orientation": "h",
        "marker": {"color": [STATUS_COLORS.get(s, VERMILLION) for s, _ in rows]},
        "customdata": [s for s, _ in rows],
        "text": [format_int(n, lang) for _, n in rows],
        "hovertemplate": "%{y}: %{text}<extra></extra>",
        **_BAR_TEXT,
    }
    xaxis = {"title": {"text": t("chart.count", lang)}, **count_axis(max((n for _, n in rows), default=0))}
    return figure([trace], t("chart.status_breakdown", lang), lang, height=max(240, 60 + 34 * len(rows)), xaxis=xaxis)


def failure_reason_rows(report: MtReport, lang: str) -> list[dict[str, object]]:
    """The failure reasons as table rows: status, raw provider code, plain-language explanation, count."""
    return [
        {
            t("filter.status", lang): label("status", r.status, lang),
            t("chart.error_code", lang): r.error_code or "",
            t("chart.explanation", lang): " ".join(
                part for part in (t(f"status_help.{r.status}", lang), r.error_title or "") if part
            ),
            t("chart.count", lang): r.count,
        }
        for r in report.failure_reasons
    ]


def quick_reply_rows(report: MoReport, lang: str) -> list[dict[str, object]]:
    """The quick-reply clicks as table rows: button, campaign, template, clicks."""
    return [
        {
            t("chart.button", lang): q.button_text or "",
            t("filter.campaign", lang): q.campaign or "",
            t("chart.template", lang): q.template_name or "",
            t("metric.clicks", lang): q.clicks,
        }
        for q in report.quick_replies
    ]


NO_BUTTON_TEXT = "—"  # the bar of the clicks without a button text


def _clicks_per_button(report: MoReport) -> list[tuple[str | None, int]]:
    """Clicks per button text (all campaigns and templates of the search added up; None: the clicks
    without a text), fewest first."""
    per_button: dict[str | None, int] = defaultdict(int)
    for row in report.quick_replies:
        per_button[row.button_text or None] += row.clicks
    return sorted(per_button.items(), key=lambda item: item[1])


def quick_replies(report: MoReport, lang: str) -> go.Figure:
    """Clicks per button text (all campaigns and templates of the search added up)."""
    rows = _clicks_per_button(report)
    trace = {
        "type": "bar",
        "x": [n for _, n in rows],
        "y": [literal(b or NO_BUTTON_TEXT) for b, _ in rows],
        "orientation": "h",
        "customdata": [b for b, _ in rows],
        "marker": {"color": PURPLE},
        "text": [format_int(n, lang) for _, n in rows],
        "hovertemplate": "%{y}: %{text}<extra></extra>",
        **_BAR_TEXT,
    }
    xaxis = {"title": {"text": t("metric.clicks", lang)}, **count_axis(max((n for _, n in rows), default=0))}
    return figure([trace], t("chart.quick_replies", lang), lang, height=max(240, 60 + 28 * len(rows)), xaxis=xaxis)


def replies_per_day(report: MoReport, lang: str) -> go.Figure:
    days = [d for d, _ in report.daily]
    trace = {
        "type": "bar",
        "x": [d.isoformat() for d in days],
        "y": [n for _, n in report.daily],
        "marker": {"color": PURPLE},
        "width": DAY_MS * 0.8,  # a day's width even when the search has a single day
        "hovertext": [f"{format_day(d, lang)}: {format_int(n, lang)}" for d, n in report.daily],
        "hovertemplate": "%{hovertext}<extra></extra>",
    }
    yaxis = {"title": {"text": t("metric.replies", lang)}, **count_axis(max((n for _, n in report.daily), default=0))}
    return figure([trace], t("chart.replies_per_day", lang), lang, xaxis=_day_axis(days, lang), yaxis=yaxis)


def content_mix(report: MoReport, lang: str) -> go.Figure:
    total = sum(n for _, n in report.content_mix)
    trace = {
        "type": "pie",
        "labels": [literal(label("content_type", k, lang)) for k, _ in report.content_mix],
        "values": [n for _, n in report.content_mix],
        "marker": {"colors": [CONTENT_TYPE_COLORS.get(k, OTHER_COLOR) for k, _ in report.content_mix],
                   "line": {"color": WHITE, "width": 1.5}},
        "text": [format_pct(n / total, lang) for _, n in report.content_mix],
        "textinfo": "text",
        "textposition": "auto",  # outside a slice too small for it
        "insidetextorientation": "horizontal",
        "insidetextfont": {"color": WHITE},
        "outsidetextfont": {"color": INK},
        "hovertext": [f"{format_int(n, lang)} ({format_pct(n / total, lang)})" for _, n in report.content_mix],
        "hovertemplate": "%{label}: %{hovertext}<extra></extra>",
        "hole": 0.45,
        "sort": False,
        "automargin": True,  # room for the labels outside small slices, at any width
    }
    # the legend under the donut: beside it, a phone-width column leaves the donut no room
    return figure([trace], t("chart.content_mix", lang), lang, height=420, showlegend=True,
                  legend={"font": {"color": INK}, "orientation": "h", "x": 0, "y": -0.05, "yanchor": "top"})


def mt_figures(report: MtReport, lang: str) -> dict[str, go.Figure]:
    """The Sent page's charts, in page order."""
    return {
        "funnel": funnel(report, lang),
        "daily_delivery_rate": daily_delivery_rate(report, lang),
        "status_breakdown": status_breakdown(report, lang),
    }


def mo_figures(report: MoReport, lang: str) -> dict[str, go.Figure]:
    """The Received page's charts, in page order."""
    return {
        "quick_replies": quick_replies(report, lang),
        "replies_per_day": replies_per_day(report, lang),
        "content_mix": content_mix(report, lang),
    }


def mt_chart_tables(report: MtReport, lang: str) -> dict[str, list[dict[str, str]]]:
    """Each Sent chart's numbers as table rows, written in the language (the charts' text alternative)."""
    total = report.totals.total
    count, share = t("chart.count", lang), t("chart.share", lang)
    return {
        "funnel": [
            {t("chart.stage", lang): name, count: format_int(n, lang), share: _of_sent(n, total, lang)}
            for name, n in _funnel_stages(report, lang)
        ],
        "daily_delivery_rate": [
            {t("chart.day", lang): format_day(d.day, lang), t("metric.sent", lang): format_int(d.total, lang),
             t("metric.delivered", lang): format_int(d.delivered, lang),
             t("metric.delivery_rate", lang): format_pct(d.delivery_rate, lang)}
            for d in report.daily
        ],
        "status_breakdown": [
            {t("filter.status", lang): label("status", s, lang), count: format_int(n, lang),
             share: format_pct(n / total if total else None, lang)}
            for s, n in report.status_counts
        ],
    }


def mo_chart_tables(report: MoReport, lang: str) -> dict[str, list[dict[str, str]]]:
    """Each Received chart's numbers as table rows, written in the language (the charts' text alternative)."""
    mix_total = sum(n for _, n in report.content_mix)
    return {
        "quick_replies": [
            {t("chart.button", lang): b or NO_BUTTON_TEXT, t("metric.clicks", lang): format_int(n, lang)}
            for b, n in reversed(_clicks_per_button(report))
        ],
        "replies_per_day": [
            {t("chart.day", lang): format_day(d, lang), t("metric.replies", lang): format_int(n, lang)}
            for d, n in report.daily
        ],
        "content_mix": [
            {t("filter.content_type", lang): label("content_type", k, lang),
             t("chart.count", lang): format_int(n, lang), t("chart.share", lang): format_pct(n / mix_total, lang)}
            for k, n in report.content_mix
        ],
    }
