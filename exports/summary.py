"""What the XLSX filters sheet and the PDF say about a search: which search it is (view, period,
filters, time zone, generation time) and its KPIs (SPEC section 3 figures), labelled in the language."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from data_access.filters import Filters
from data_access.i18n import format_datetime, format_int, format_pct, t
from data_access.report import MoReport, MtTotals


@dataclass(frozen=True)
class Kpi:
    label: str
    value: int | float | None  # a count, or a rate in 0..1 (None: no denominator)
    rate: bool = False
    basis: str = ""  # a rate's definition, naming its denominator ("Lidas ÷ entregues...")

    def text(self, lang: str) -> str:
        """"2.400" or "75,3%" in the language's way of writing numbers."""
        return format_pct(self.value, lang) if self.rate else format_int(int(self.value or 0), lang)


def mt_kpis(totals: MtTotals, lang: str) -> list[Kpi]:
    """Total, each stage of delivery and the four rates of the Sent view."""
    return [
        Kpi(t("metric.total", lang), totals.total),
        Kpi(t("metric.pending", lang), totals.pending),
        Kpi(t("metric.delivered", lang), totals.delivered),
        Kpi(t("metric.read", lang), totals.read),
        Kpi(t("metric.replied", lang), totals.replied),
        Kpi(t("metric.failed", lang), totals.failed),
        Kpi(t("metric.delivery_rate", lang), totals.delivery_rate, True, t("kpi.delivery_help", lang)),
        Kpi(t("metric.read_rate", lang), totals.read_rate, True, t("kpi.read_help", lang)),
        Kpi(t("metric.failure_rate", lang), totals.failure_rate, True, t("kpi.failure_help", lang)),
        Kpi(t("metric.reply_rate", lang), totals.reply_rate, True, t("kpi.reply_help", lang)),
    ]


def mo_kpis(report: MoReport, lang: str) -> list[Kpi]:
    """Messages received and quick-reply clicks of the Received view."""
    return [Kpi(t("metric.total", lang), report.total), Kpi(t("metric.clicks", lang), report.quick_reply_clicks)]


def search_block(view_title: str, filters: Filters, lang: str, generated_at: datetime) -> list[tuple[str, str]]:
    """(label, value) rows naming the search: view, period, each filter set, time zone, generation time."""
    return [
        (t("export.view", lang), view_title),
        *filters.describe(lang),
        (t("export.generated_at", lang), format_datetime(generated_at, lang, filters.tz)),
    ]
