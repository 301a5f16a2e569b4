"""Where settings come from: a command-line value, else the environment, else the default."""
import os
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "duckdb:///data/report.duckdb"
DEFAULT_TZ = "America/Sao_Paulo"
DEFAULT_LANG = "pt-BR"
LANGUAGES = ("pt-BR", "en", "es")
DEFAULT_EXPORT_MEMORY_LIMIT = "256MB"
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(KB|MB|GB|KiB|MiB|GiB)", re.IGNORECASE)
_UNITS = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
MIN_EXPORT_MEMORY_BYTES = 64 * 2**20


class SettingError(ValueError):
    """A setting has a value the report cannot use; the message names it and what is accepted."""


def database_url(cli_value: str | None = None) -> str:
    """`--db` over `DATABASE_URL` over the embedded default file."""
    return cli_value or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def report_tz(cli_value: str | None = None) -> str:
    """`--tz` over `REPORT_TZ` over America/Sao_Paulo, checked against the IANA database."""
    name = cli_value or os.environ.get("REPORT_TZ") or DEFAULT_TZ
    return check_tz(name)


def check_tz(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(
            f"unknown time zone {name!r}: use an IANA name such as America/Sao_Paulo or UTC"
        ) from None
    return name


def report_lang(cli_value: str | None = None) -> str:
    """`--lang` over `REPORT_LANG` over pt-BR."""
    lang = cli_value or os.environ.get("REPORT_LANG") or DEFAULT_LANG
    return check_lang(lang)


def check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise SettingError(f"unknown language {lang!r}: accepted are {', '.join(LANGUAGES)}")
    return lang


def export_memory_limit() -> str:
    """`EXPORT_MEMORY_LIMIT` (a size such as `256MB` or `1GiB`, at least 64 MiB) over 256MB: the
    embedded database's memory while an export runs (`data_access.engine.export_memory`)."""
    text = (os.environ.get("EXPORT_MEMORY_LIMIT") or DEFAULT_EXPORT_MEMORY_LIMIT).strip()
    size = _SIZE.fullmatch(text)
    if size is None or float(size.group(1)) * _UNITS[size.group(2).lower()] < MIN_EXPORT_MEMORY_BYTES:
        raise SettingError(
            f"EXPORT_MEMORY_LIMIT={text!r} is not a size of at least 64MiB: use a number and KB, MB, GB, "
            f"KiB, MiB or GiB, such as {DEFAULT_EXPORT_MEMORY_LIMIT}"
        )
    return f"{size.group(1)}{size.group(2)}"
