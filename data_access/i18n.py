"""The one translation catalog (pt-BR, en, es) read by the pages, the exports and the command line.

The texts are gettext files, `locale/<pt_BR|en|es>/LC_MESSAGES/messages.po`, which translators' tools
(Poedit, Weblate) read: an entry's `msgctxt` is the key the code asks for, its `msgid` the English
text, its `msgstr` the language's text. pt-BR words are the seed's (the platform's own
documentation). A key missing in a language falls back to English, then to the key itself, so a gap
shows up as readable text rather than a crash. Add new keys to all three files at once.
"""
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol

from data_access.config import DEFAULT_LANG, LANGUAGES

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
_LOCALES = {"pt-BR": "pt_BR", "en": "en", "es": "es"}  # Babel (CLDR) locales: separators, month names


def catalog_path(lang: str) -> Path:
    """The gettext file of a language: `locale/pt_BR/LC_MESSAGES/messages.po`."""
    return LOCALE_DIR / _LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read_catalog(lang: str) -> dict[str, str]:
    """key -> text of one language; untranslated and fuzzy entries are left out (as gettext does)."""
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=_LOCALES[lang], domain=DOMAIN)
    return {m.context: m.string for m in catalog if m.id and m.context and m.string and not m.fuzzy}


CATALOG: dict[str, dict[str, str]] = {lang: _read_catalog(lang) for lang in LANGUAGES}

_DATETIME_FORMATS = {"pt-BR": "%d/%m/%Y %H:%M:%S", "en": "%Y-%m-%d %H:%M:%S", "es": "%d/%m/%Y %H:%M:%S"}
_DATE_FORMATS = {"pt-BR": "%d/%m/%Y", "en": "%Y-%m-%d", "es": "%d/%m/%Y"}


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The text of `key` in `lang`, with `{name}` placeholders filled from `values`."""
    text = CATALOG.get(lang, {}).get(key) or CATALOG["en"].get(key) or key
    return text.format(**values) if values else text


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
    return value.strftime(_DATETIME_FORMATS.get(lang, _DATETIME_FORMATS["en"]))


def date_format(lang: str = DEFAULT_LANG) -> str:
    """strftime pattern for a calendar day in `lang`."""
    return _DATE_FORMATS.get(lang, _DATE_FORMATS["en"])
