"""The app server's settings: the database (as the dashboard takes it) and the endpoints' secrets.

A secret comes from the environment, else from `st.secrets` (`.streamlit/secrets.toml`); an empty
value counts as not set, and an endpoint whose secret is not set answers 404 (never open by default).
"""
import argparse
import os
import sys
from dataclasses import dataclass

import streamlit as st

from data_access.config import database_url
from data_access.opt_out import STOP_WORDS_SETTING, stop_words

META_VERIFY_TOKEN = "META_VERIFY_TOKEN"
META_APP_SECRET = "META_APP_SECRET"
SINCH_WEBHOOK_TOKEN = "SINCH_WEBHOOK_TOKEN"
SINCH_CALLBACK_SECRET = "SINCH_CALLBACK_SECRET"
INGEST_TOKEN = "INGEST_TOKEN"
SECRET_NAMES = (META_VERIFY_TOKEN, META_APP_SECRET, SINCH_WEBHOOK_TOKEN, SINCH_CALLBACK_SECRET, INGEST_TOKEN)


# The environment as the process got it: Streamlit copies the root keys of secrets.toml into
# os.environ when it loads them, which would let the file override the environment.
_ENVIRONMENT = {name: os.environ.get(name) for name in SECRET_NAMES}


def secret(name: str) -> str | None:
    """The secret's value, or None when it is not configured."""
    value = _ENVIRONMENT.get(name, os.environ.get(name))
    if not value and st.secrets.load_if_toml_exists():
        found = st.secrets.get(name)
        value = str(found) if found is not None else None
    return value or None


@dataclass(frozen=True)
class Secrets:
    """The live interface's secrets, read once at startup."""

    meta_verify_token: str | None
    meta_app_secret: str | None
    sinch_webhook_token: str | None
    sinch_callback_secret: str | None
    ingest_token: str | None

    @classmethod
    def load(cls) -> "Secrets":
        return cls(*(secret(name) for name in SECRET_NAMES))


def server_database_url() -> str:
    """`streamlit run app.py -- --db URL`, else `DATABASE_URL`, else the embedded default file."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:])
    return database_url(known.db)


def opt_out_stop_words() -> tuple[str, ...]:
    """`OPT_OUT_STOP_WORDS` from the environment, else from `.streamlit/secrets.toml` (a comma-separated
    text or a list), else SAIR, PARAR, STOP: for the Opt-out page and its downloads alike."""
    setting = os.environ.get(STOP_WORDS_SETTING)
    if setting is None and st.secrets.load_if_toml_exists():
        setting = st.secrets.get(STOP_WORDS_SETTING)
    return stop_words(setting)
