"""Where settings come from: a command-line value, else the environment, else the default."""
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "duckdb:///data/report.duckdb"
DEFAULT_TZ = "America/Sao_Paulo"
DEFAULT_LANG = "pt-BR"
LANGUAGES = ("pt-BR", "en", "es")


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
