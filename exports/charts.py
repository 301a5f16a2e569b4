"""Plotly figures of a report, labelled in the report's language: the pages show them, the PDF
embeds them as PNG. One function per chart; each takes the report value and the language."""
from __future__ import annotations

import html
from collections import defaultdict

import plotly.graph_objects as go

from data_access.catalog import FAILURE_STATUSES
from data_access.i18n import label, t
from data_access.report import MoReport, MtReport

GREEN, BLUE, GREY, RED, TEAL = "#0a7c5a", "#2f6fbf", "#8a969c", "#c2413a", "#24a08a"
_STATUS_COLOR = {"sent": GREY, "delivered": TEAL, "read": GREEN, **{s: RED for s in FAILURE_STATUSES}}


def literal(text: str) -> str:
    """`text` as plotly shows it literally. plotly renders a subset of HTML in labels, hover texts,
    legends and ticks (links, styles, line breaks) and decodes entities, so `<`, `>` and `&` are
    written as entities."""
    return html.escape(text, quote=False)


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 44, "b": 10},
        plot_bgcolor="white",
        paper_bgcolor="white",
        font={"family": "DejaVu Sans, Arial, sans-serif", "size": 12},
        showlegend=False,
    )
    fig.update_xaxes(gridcolor="#e6ecea")
    fig.update_yaxes(gridcolor="#e6ecea")
    return fig


def funnel(report: MtReport, lang: str) -> go.Figure:
    """Sent -> delivered -> read -> replied."""
    totals = report.totals
    stages = [
        (t("metric.sent", lang), totals.total),
        (t("metric.delivered", lang), totals.delivered),
        (t("metric.read", lang), totals.read),
        (t("metric.replied", lang), totals.replied),
    ]
    fig = go.Figure(
        go.Funnel(
            y=[literal(name) for name, _ in stages],
            x=[value for _, value in stages],
            textinfo="value+percent initial",
            marker={"color": [GREY, TEAL, GREEN, BLUE]},
        )
    )
    return _layout(fig, t("chart.funnel", lang))


def daily_delivery_rate(report: MtReport, lang: str) -> go.Figure:
    days = [d.day for d in report.daily]
    rates = [None if d.delivery_rate is None else d.delivery_rate * 100 for d in report.daily]
    fig = go.Figure(
        go.Scatter(
            x=days,
            y=rates,
            mode="lines+markers",
            line={"color": GREEN, "width": 2},
            customdata=[[d.delivered, d.total] for d in report.daily],
            hovertemplate="%{x}<br>%{y:.1f}% (%{customdata[0]}/%{customdata[1]})<extra></extra>",
        )
    )
    fig.update_yaxes(title=t("metric.delivery_rate", lang) + " (%)", range=[0, 100])
    fig.update_xaxes(title=t("chart.day", lang))
    return _layout(fig, t("chart.daily_delivery_rate", lang))


def status_breakdown(report: MtReport, lang: str) -> go.Figure:
    rows = sorted(report.status_counts, key=lambda item: item[1])
    fig = go.Figure(
        go.Bar(
            x=[n for _, n in rows],
            y=[literal(label("status", s, lang)) for s, _ in rows],
            orientation="h",
            marker={"color": [_STATUS_COLOR.get(s, RED) for s, _ in rows]},
            text=[n for _, n in rows],
            textposition="auto",
        )
    )
    fig.update_xaxes(title=t("chart.count", lang))
    return _layout(fig, t("chart.status_breakdown", lang), height=max(240, 60 + 28 * len(rows)))


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


def quick_replies(report: MoReport, lang: str) -> go.Figure:
    """Clicks per button text (all campaigns and templates of the search added up)."""
    per_button: dict[str, int] = defaultdict(int)
    for row in report.quick_replies:
        per_button[row.button_text or "—"] += row.clicks
    rows = sorted(per_button.items(), key=lambda item: item[1])
    fig = go.Figure(
        go.Bar(
            x=[n for _, n in rows],
            y=[literal(b) for b, _ in rows],
            orientation="h",
            marker={"color": BLUE},
            text=[n for _, n in rows],
            textposition="auto",
        )
    )
    fig.update_xaxes(title=t("metric.clicks", lang))
    return _layout(fig, t("chart.quick_replies", lang), height=max(240, 60 + 28 * len(rows)))


def replies_per_day(report: MoReport, lang: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=[d for d, _ in report.daily], y=[n for _, n in report.daily], marker={"color": BLUE}))
    fig.update_yaxes(title=t("metric.replies", lang))
    fig.update_xaxes(title=t("chart.day", lang))
    return _layout(fig, t("chart.replies_per_day", lang))


def content_mix(report: MoReport, lang: str) -> go.Figure:
    fig = go.Figure(
        go.Pie(
            labels=[literal(label("content_type", k, lang)) for k, _ in report.content_mix],
            values=[n for _, n in report.content_mix],
            hole=0.45,
            sort=False,
        )
    )
    fig = _layout(fig, t("chart.content_mix", lang))
    fig.update_layout(showlegend=True)
    return fig


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
