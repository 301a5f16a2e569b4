"""The one translation catalog (pt-BR, en, es) read by the pages, the exports and the command line.

The texts are gettext files, `locale/<pt_BR|en|es>/LC_MESSAGES/messages.po`, which translators' tools
(Poedit, Weblate) read: an entry's `msgctxt` is the key the code asks for, its `msgid` the English
text, its `msgstr` the language's text. pt-BR words are the seed's (the platform's own
documentation). A key missing in a language falls back to English, then to the key itself, so a gap
shows up as readable text rather than a crash. Add new keys to all three files at once.
"""
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, tokenize_pattern
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol

from data_access.config import DEFAULT_LANG, LANGUAGES, SettingError, report_lang

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
_LOCALES = {"pt-BR": "pt_BR", "en": "en", "es": "es"}  # Babel (CLDR) locales: separators, month names
_PRIMARY_TAGS = {"pt": "pt-BR", "en": "en", "es": "es"}  # a language tag's first part -> the report's language


def catalog_path(lang: str) -> Path:
    """The gettext file of a language: `locale/pt_BR/LC_MESSAGES/messages.po`."""
    return LOCALE_DIR / _LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read_catalog(lang: str) -> dict[str, str]:
    """key -> text of one language; untranslated and fuzzy entries are left out (as gettext does)."""
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=_LOCALES[lang], domain=DOMAIN)
    return {m.context: m.string for m in catalog if m.id and m.context and m.string and not m.fuzzy}


CATALOG: dict[str, dict[str, str]] = {lang: _read_catalog(lang) for lang in LANGUAGES}

# How each language writes a calendar day and a time of day, as CLDR patterns (Babel's notation; pt-BR
# is CLDR's own short date, English keeps ISO days). The strftime, XLSX and date-picker forms of
# `date_format`, `format_datetime`, `excel_datetime_format` and `picker_date_format` come from these.
_DAY_PATTERNS = {"pt-BR": "dd/MM/y", "en": "y-MM-dd", "es": "dd/MM/y"}
_TIME_PATTERN = "HH:mm:ss"
# A pattern field (two-digit day, month, hour, minute, second; the full year) in each notation.
_NOTATIONS = {
    "strftime": {"d": "%d", "M": "%m", "y": "%Y", "H": "%H", "m": "%M", "s": "%S"},
    "excel": {"d": "dd", "M": "mm", "y": "yyyy", "H": "hh", "m": "mm", "s": "ss"},
    "picker": {"d": "DD", "M": "MM", "y": "YYYY"},  # Streamlit's date_input `format`
}


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The text of `key` in `lang`, with `{name}` placeholders filled from `values`."""
    text = CATALOG.get(lang, {}).get(key) or CATALOG["en"].get(key) or key
    return text.format(**values) if values else text


def request_lang(asked: str | None, accept_language: str | None = None) -> str:
    """The language to answer a request in: `asked` (a link's or a form's `lang`) when the report
    speaks it, else the one the browser's Accept-Language prefers (when given), else `REPORT_LANG`,
    else pt-BR (also when `REPORT_LANG` names no language of the report)."""
    if asked in LANGUAGES:
        return asked
    accepted = accepted_lang(accept_language)
    if accepted is not None:
        return accepted
    try:
        return report_lang()
    except SettingError:
        return DEFAULT_LANG


def accepted_lang(header: str | None) -> str | None:
    """The report's language an Accept-Language header prefers most (the highest `q`, the first of
    equals), if it accepts any: "fr-FR, es;q=0.9, en;q=0.8" -> "es"; "pt" and any "pt-*" -> "pt-BR"."""
    ranked = []
    for order, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        lang = _PRIMARY_TAGS.get(tag.strip().lower().split("-")[0])
        if lang is not None and weight > 0:
            ranked.append((-weight, order, lang))
    return min(ranked)[2] if ranked else None


def label(kind: str, code: str | None, lang: str = DEFAULT_LANG) -> str:
    """The word for a stored code: `label("status", "read", "pt-BR") == "Lida"`; unknown codes as they are."""
    if code is None:
        return ""
    return CATALOG.get(lang, {}).get(f"{kind}.{code}") or CATALOG["en"].get(f"{kind}.{code}") or code


def labels(kind: str, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Every code of a kind (`status`, `content_type`, ...) and its word in `lang`."""
    prefix = kind + "."
    return {key[len(prefix):]: text for key, text in CATALOG[lang].items() if key.startswith(prefix)}


def format_int(n: int, lang: str = DEFAULT_LANG) -> str:
    """2400 -> "2.400" (pt-BR, es) or "2,400" (en)."""
    return format_decimal(n, format="#,##0", locale=_locale(lang))


def format_pct(ratio: float | None, lang: str = DEFAULT_LANG, digits: int = 1) -> str:
    """0.7534 -> "75,3%" (pt-BR, es) or "75.3%" (en); None (no denominator) -> "–"."""
    if ratio is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(ratio, format=pattern, locale=_locale(lang))


def format_day(day: date, lang: str = DEFAULT_LANG) -> str:
    """A calendar day as a short chart label with the month's name: "19 de nov.", "Nov 19", "19 nov"."""
    return format_skeleton("MMMd", day, locale=_locale(lang))


def plotly_separators(lang: str = DEFAULT_LANG) -> str:
    """plotly's `layout.separators` for the language: the decimal mark, then the thousands mark."""
    locale = _locale(lang)
    return get_decimal_symbol(locale) + get_group_symbol(locale)


def _locale(lang: str) -> str:
    """The Babel locale of a language code ("pt-BR" -> "pt_BR"); unknown languages write as English."""
    return _LOCALES.get(lang, "en")


def results_text(n: int, lang: str = DEFAULT_LANG) -> str:
    """"8 resultados" / "1 result" / "2.400 resultados"."""
    return t("results.one", lang) if n == 1 else t("results.many", lang, n=format_int(n, lang))


def format_datetime(value: datetime | None, lang: str = DEFAULT_LANG, tz: str | None = None) -> str:
    """A timestamp in the report's zone, written the way the language writes dates."""
    if value is None:
        return ""
    if tz:
        value = value.astimezone(ZoneInfo(tz))
    return value.strftime(_rewrite(f"{_day_pattern(lang)} {_TIME_PATTERN}", "strftime"))


def date_format(lang: str = DEFAULT_LANG) -> str:
    """strftime pattern for a calendar day in `lang`: "%d/%m/%Y" (pt-BR, es), "%Y-%m-%d" (en)."""
    return _rewrite(_day_pattern(lang), "strftime")


def excel_datetime_format(lang: str = DEFAULT_LANG) -> str:
    """The XLSX number format of a timestamp in `lang`: "dd/mm/yyyy hh:mm:ss" (pt-BR, es)."""
    return _rewrite(f"{_day_pattern(lang)} {_TIME_PATTERN}", "excel")


def picker_date_format(lang: str = DEFAULT_LANG) -> str:
    """The date picker's format for `lang`: "DD/MM/YYYY" (pt-BR, es), "YYYY-MM-DD" (en)."""
    return _rewrite(_day_pattern(lang), "picker")


def _day_pattern(lang: str) -> str:
    return _DAY_PATTERNS.get(lang, _DAY_PATTERNS["en"])


@cache
def _rewrite(pattern: str, notation: str) -> str:
    """A CLDR pattern in another notation: each field (read by Babel) replaced, the rest kept."""
    fields = _NOTATIONS[notation]
    return "".join(fields[value[0]] if kind == "field" else value for kind, value in tokenize_pattern(pattern))
