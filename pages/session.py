"""Who is signed in, seen from the page script: the session cookie that `POST /signin` set, or the
identity of Streamlit's single sign-on (`st.login`), whose email must be an active account.

The app server's gate (server/sign_in.py) already refused requests without a session; the script checks
again on every run, so a session that ends (sign-out in another tab, 12 hours unused) stops showing
data at the next interaction.
"""
from __future__ import annotations

import html
from urllib.parse import urlencode

import streamlit as st
from sqlalchemy.engine import Engine

from data_access import accounts
from data_access.accounts import Account
from data_access.i18n import t
from data_access.scope import Scope
from pages.data import DB_ERRORS, database_engine
from pages.notices import code_span
from server.sign_in import SESSION_COOKIE, sso_configured

NOTHING = Scope(subaccounts=())  # what a run shows when it cannot tell who is signed in
_SSO_CHECKED = "_sso_checked"  # (email, accepted): sign_in_sso runs once per browser session


def require_account(lang: str) -> tuple[Account | None, Scope]:
    """The signed-in account and what it may see. While no account exists (the gate serves only
    loopback then): no account, every subaccount. When the database cannot answer: no account and
    nothing (the page says why). Anyone not signed in sees why there is nothing to show, and the run stops."""
    try:
        engine = database_engine()
        if not accounts.any_account(engine):
            return None, Scope.ALL
        token = st.context.cookies.get(SESSION_COOKIE)
        account = accounts.session_account(engine, token) if token else None
        if account is not None and not accounts.address_allowed(st.context.ip_address, account.ip_allow):
            account = None  # a cookie taken elsewhere: not signed in from here (the session goes on)
    except DB_ERRORS:
        return None, NOTHING
    if account is not None:
        return account, account.scope
    if sso_configured():
        if st.user.is_logged_in:
            account = _sso_account(engine, lang)
            return account, account.scope
        if st.query_params.get("sso") == "1":
            st.login()
            st.stop()
    st.warning(t("signin.ended", lang), icon=":material/lock:")
    st.link_button(t("signin.submit", lang), f"/signin?{urlencode({'lang': lang})}")
    st.stop()


def _sso_account(engine: Engine, lang: str) -> Account:
    """The active account whose email is the single sign-on identity's, verified by the provider
    (checked once per browser session, and audited like a password sign-in); else a refusal and the
    run stops."""
    email = str(st.user.get("email") or "").strip().lower()
    verified = accounts.verified_sso_email(st.user.to_dict()) != ""
    checked = st.session_state.get(_SSO_CHECKED)
    if checked is None or checked[0] != email:
        result = accounts.sign_in_sso(engine, email, st.context.ip_address, verified=verified)
        checked = st.session_state[_SSO_CHECKED] = (email, result.ok)
    account = accounts.get_account(engine, email) if checked[1] else None
    if account is None or not account.active:
        st.error(t("signin.sso_refused", lang, email=email), icon=":material/block:")
        st.button(t("signin.sign_out", lang), on_click=st.logout, key="sso_refused_sign_out")
        st.stop()
    return account


def account_bar(account: Account | None, lang: str) -> None:
    """Who is signed in and the sign-out control, at the top right of every page."""
    if account is None:
        return
    with st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center"):
        st.caption(t("signin.signed_in_as", lang, email=code_span(account.email),
                     role=t(f"role.{account.role}", lang)))
        if st.context.cookies.get(SESSION_COOKIE):  # a form posting to the route that ends the session
            action = html.escape(f"/signout?{urlencode({'lang': lang})}")
            st.html(f'<form method="post" action="{action}" style="margin:0"><button type="submit" '
                    f'style="border:0;background:none;color:inherit;cursor:pointer;text-decoration:underline">'
                    f'{html.escape(t("signin.sign_out", lang))}</button></form>', width="content")
        else:
            st.button(t("signin.sign_out", lang), on_click=st.logout, icon=":material/logout:", type="tertiary",
                      key="sso_sign_out")


def is_admin(account: Account | None) -> bool:
    return account is not None and account.role == "admin"
